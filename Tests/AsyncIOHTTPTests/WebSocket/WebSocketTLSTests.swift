import AsyncIO
import AsyncIOHTTP
import AsyncIOTLS
import Foundation
import Testing
import WebSocketCodec

/// WebSockets over TLS (`wss://`): our client against the `websockets` server, and the
/// `websockets` client against our server, with a certificate made by `openssl req` for the test
/// (`HTTPSTests.makeCertificate`: its own CA, never a key in the repository).
@Suite struct WebSocketTLSTests {
    @Test func ourClientAgainstPythonWebsocketsOverTLS() async throws {
        let (cert, key) = try await HTTPSTests.makeCertificate()
        let script = Tool.scripts.appendingPathComponent("ws_echo_server.py").path
        let server = try await PeerProcess.offThePool { try PeerProcess("python3", [script, "--tls", cert, key]) }
        let clientContext = try TLSContext(.client(trustRoots: .file(cert), alpnProtocols: ["http/1.1"]))
        try await EventLoopThread.run { loop in
            let session = try ClientSession(tls: clientContext)
            defer { session.close() }
            for host in ["localhost", "127.0.0.1"] {
                let ws = try await session.wsConnect(
                    "wss://\(host):\(server.port)/",
                    options: WebSocketOptions(protocols: ["chat"])
                )
                #expect(ws.subprotocol == "chat")
                try await ws.send(text: "hello over tls from \(host)")
                #expect(try await ws.receive() == .text("hello over tls from \(host)"))
                let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
                try await ws.send(big)
                #expect(try await ws.receive() == .binary(big))
                try await ws.send(text: "close-me")
                #expect(try await ws.receive() == .close(WebSocketCloseCode(rawValue: 4001), reason: "as asked"))
                #expect(try await ws.receive() == .closed)
            }

            // The system's roots do not know the test certificate: refused by default.
            let strict = try ClientSession()
            defer { strict.close() }
            var refusal: (any Error)?
            do { _ = try await strict.wsConnect("wss://localhost:\(server.port)/") } catch { refusal = error }
            guard case .tls(_, _, .certificateVerificationFailed)? = refusal as? ClientError else {
                Issue.record("expected a certificate verification failure, got \(String(describing: refusal))")
                return
            }
        }
    }

    @Test func pythonWebsocketsAgainstOurServerOverTLS() async throws {
        let (cert, key) = try await HTTPSTests.makeCertificate()
        let serverContext = try TLSContext(.httpServer(certificateChainFile: cert, privateKeyFile: key))
        let recorder = WebSocketRecorder()
        let result = try await EventLoopThread.run { loop in
            let server = try await HTTPServer.start(
                host: "127.0.0.1",
                tls: serverContext,
                loop: loop,
                handler: makeWebSocketHandler(recorder)
            )
            defer { server.close() }
            let script = Tool.scripts.appendingPathComponent("wss_client_check.py").path
            return try await Tool.run("python3", [script, "wss://localhost:\(server.port)/echo", cert], seconds: 60)
        }
        #expect(result.status == 0, "\(result.errors)")
        #expect(
            result.output.split(separator: "\n") == [
                "WSS héllo over tls True TLSv1.3",
                "WSS CLOSE 1000",
                "WSS UNTRUSTED refused",
            ]
        )
    }
}

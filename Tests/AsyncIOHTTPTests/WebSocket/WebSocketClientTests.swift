import AsyncIO
import AsyncIOHTTP
import Foundation
import Testing
import WebSocketCodec

/// `ClientSession.wsConnect` against the `websockets` library's server, and against our own.
@Suite struct WebSocketClientTests {
    @Test func againstPythonWebsockets() async throws {
        let script = Tool.scripts.appendingPathComponent("ws_echo_server.py").path
        let server = try await PeerProcess.offThePool { try PeerProcess("python3", [script]) }
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            let ws = try await session.wsConnect(
                "ws://127.0.0.1:\(server.port)/",
                options: WebSocketOptions(limits: WebSocketLimits(maxMessageSize: 8 << 20), protocols: ["chat"])
            )
            #expect(ws.subprotocol == "chat")
            try await ws.send(text: "hello from swift")
            #expect(try await ws.receive() == .text("hello from swift"))
            let big = (0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            try await ws.send(big)
            #expect(try await ws.receive() == .binary(big))
            try await ws.ping([1, 2, 3])
            try await ws.send(text: "close-me")
            #expect(try await ws.receive() == .close(WebSocketCloseCode(rawValue: 4001), reason: "as asked"))
            #expect(try await ws.receive() == .closed)
            #expect(ws.closeCode?.rawValue == 4001)
            await #expect(throws: WebSocketConnectionError.closed) { try await ws.send(text: "late") }

            // websockets refuses (400) a client that offers none of its subprotocols.
            let second = try await session.wsConnect(
                "ws://127.0.0.1:\(server.port)/",
                options: WebSocketOptions(protocols: ["chat"])
            )
            try await second.send(text: "bye")
            #expect(try await second.receive() == .text("bye"))
            #expect(try await second.close())
            #expect(second.closeCode == .normalClosure)
        }
    }

    @Test func againstOurServerWithCompression() async throws {
        let recorder = WebSocketRecorder()
        let server = try await ServerFixture.start { makeWebSocketHandler(recorder) }
        defer { Task { await server.stop() } }
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            let ws = try await session.wsConnect(
                "ws://127.0.0.1:\(server.port)/deflate",
                options: WebSocketOptions(compression: PerMessageDeflateOptions(clientNoContextTakeover: true))
            )
            #expect(ws.compression?.clientNoContextTakeover == true)
            var received: [WebSocketMessage] = []
            for index in 0..<20 {
                try await ws.send(text: String(repeating: "message \(index) ", count: 500))
            }
            for try await message in ws {
                received.append(message)
                if received.count == 20 { break }
            }
            #expect(received.last == .text(String(repeating: "message 19 ", count: 500)))
            #expect(try await ws.close(code: .goingAway))
            #expect(ws.isClosed)

            var refused: (any Error)?
            do { _ = try await session.wsConnect("ws://127.0.0.1:\(server.port)/missing") } catch { refused = error }
            #expect(refused as? WebSocketConnectionError == .handshakeFailed(.unexpectedStatus(404)))
            // Nothing listens on port 1: wss:// fails to connect, as a ClientError.
            var unreachable: (any Error)?
            do { _ = try await session.wsConnect("wss://127.0.0.1:1/") } catch { unreachable = error }
            #expect(unreachable is ClientError)
        }
    }
}

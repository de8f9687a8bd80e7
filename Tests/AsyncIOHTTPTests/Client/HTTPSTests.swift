import AsyncIO
import AsyncIOHTTP
import AsyncIOTLS
import Foundation
import Testing

/// The client's `https://` and the server's TLS, against each other and against curl, with a
/// self-signed certificate made by `openssl req` for the test (never a key in the repository).
@Suite struct HTTPSTests {
    /// A certificate and key for localhost/127.0.0.1 in a fresh directory.
    static func makeCertificate() async throws -> (cert: String, key: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("https-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let result = try await Tool.run(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ]
        )
        #expect(result.status == 0, "\(result.errors)")
        return (cert, key)
    }

    @Test func clientAndServerSpeakHTTPSWithALPN() async throws {
        let (cert, key) = try await Self.makeCertificate()
        let serverContext = try TLSContext(.httpServer(certificateChainFile: cert, privateKeyFile: key))
        let clientContext = try TLSContext(.client(trustRoots: .file(cert), alpnProtocols: ["http/1.1"]))
        let outcome = try await EventLoopThread.run { loop in
            let server = try await HTTPServer.start(host: "127.0.0.1", tls: serverContext, loop: loop) { request in
                Response(text: "hello over \(request.method)")
            }
            defer { server.close() }
            let session = try ClientSession(tls: clientContext)
            defer { session.close() }
            var lines: [String] = []
            for host in ["localhost", "127.0.0.1"] {
                let response = try await session.get("https://\(host):\(server.port)/")
                lines.append("\(response.status.code) \(try await response.text())")
            }
            // Both requests went over one kept-alive TLS connection.
            lines.append("open \(session.poolStatistics.open)")
            // The system's roots do not know the self-signed certificate: refused by default.
            let strict = try ClientSession()
            defer { strict.close() }
            do {
                _ = try await strict.get("https://localhost:\(server.port)/")
                lines.append("accepted")
            } catch let error as ClientError {
                if case .tls(_, _, .certificateVerificationFailed(let reason)) = error { lines.append(reason) }
            }
            let curl = try await Tool.run(
                "curl",
                ["-sS", "-v", "--cacert", cert, "https://localhost:\(server.port)/curl"]
            )
            lines.append(curl.output)
            lines.append(curl.errors.contains("ALPN: server accepted http/1.1") ? "alpn ok" : curl.errors)
            return lines
        }
        #expect(
            outcome == [
                "200 hello over GET", "200 hello over GET", "open 2", "self-signed certificate", "hello over GET",
                "alpn ok",
            ]
        )
    }

    /// `Application.start(tls:)`: the router's application over HTTPS, its hooks run, curl as the
    /// client (ALPN http/1.1).
    @Test func applicationServesHTTPSThroughItsStart() async throws {
        let (cert, key) = try await Self.makeCertificate()
        let context = try TLSContext(.httpServer(certificateChainFile: cert, privateKeyFile: key))
        let outcome = try await EventLoopThread.run { loop in
            var lines: [String] = []
            let app = Application()
            try app.router.get("/hello/{name}") { request in Response(text: "hello \(request.matchInfo["name"] ?? "")")
            }
            app.onStartup.append { _ in lines.append("startup") }
            let runner = try await app.start(host: "127.0.0.1", port: 0, tls: context, loop: loop)
            let curl = try await Tool.run(
                "curl",
                ["-sS", "-v", "--cacert", cert, "https://localhost:\(runner.port)/hello/tls"]
            )
            lines.append(curl.output)
            lines.append(curl.errors.contains("ALPN: server accepted http/1.1") ? "alpn ok" : curl.errors)
            await runner.cleanup(timeout: .seconds(30))
            return lines
        }
        #expect(outcome == ["startup", "hello tls", "alpn ok"])
    }
}

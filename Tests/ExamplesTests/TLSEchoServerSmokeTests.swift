import Foundation
import Glibc
import Testing

/// TLSEchoServer with a self-signed certificate made by `openssl req` for the test, talked to by
/// Python's `ssl` with verification on (the certificate is its own CA).
struct TLSEchoServerSmokeTests {
    private static let client = """
        import socket, ssl, sys
        context = ssl.create_default_context(cafile=sys.argv[2])
        context.set_alpn_protocols(["echo"])
        with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as conn:
                message = b"x" * 100000 + b"\\n"
                conn.sendall(message)
                data = b""
                while len(data) < len(message):
                    data += conn.recv(65536)
                print("echoed", len(data), data == message, conn.version(), conn.selected_alpn_protocol(), flush=True)
        """

    /// A self-signed certificate and key for localhost/127.0.0.1, made by `openssl req` in a new
    /// temporary directory (the caller removes it).
    static func selfSignedCertificate() async throws -> (directory: URL, cert: String, key: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = try ExampleProcess(
            "/usr/bin/env",
            arguments: [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ]
        )
        #expect(try await openssl.waitForExit(seconds: 30) == .exited(0))
        return (directory, cert, key)
    }

    @Test(arguments: ["streams", "protocol"]) func echoesOverTLSAndStopsCleanly(mode: String) async throws {
        let (directory, cert, key) = try await Self.selfSignedCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }

        let server = try ExampleProcess(
            "TLSEchoServer",
            arguments: ["--cert", cert, "--key", key, "--port", "0", "--mode", mode]
        )
        let port = try #require(try await server.port())
        let client = try ExampleProcess("/usr/bin/env", arguments: ["python3", "-c", Self.client, "\(port)", cert])
        #expect(try await client.waitForOutput(containing: "echoed 100001 True TLSv1.3 echo", seconds: 30))
        #expect(try await client.waitForExit(seconds: 30) == .exited(0))
        server.send(SIGTERM)
        #expect(try await server.waitForExit(seconds: 60) == .exited(0))
        #expect(try await server.waitForOutput(containing: "Server stopped"))
    }

    @Test func refusesToStartWithoutItsCertificate() async throws {
        let server = try ExampleProcess(
            "TLSEchoServer",
            arguments: ["--cert", "/nonexistent.pem", "--key", "/nonexistent.pem"]
        )
        #expect(try await server.waitForExit(seconds: 60) == .exited(1))
        let usage = try ExampleProcess("TLSEchoServer", arguments: ["--port", "1"])
        #expect(try await usage.waitForExit(seconds: 60) == .exited(2))
    }
}

import AsyncIO
import AsyncIORedis
import AsyncIOTLS
import Foundation
import Glibc
import Testing

/// `rediss://` against redis-server's own TLS port, with a self-signed certificate made by
/// `openssl req` for the test (never a key in the repository).
@Suite(.serialized) struct RedisTLSTests {
    @Test func redissURLsTalkToRedisServersTLSPort() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rediss-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = try spawn([
            "/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        var status: Int32 = 0
        waitpid(openssl, &status, 0)
        #expect(status == 0)
        let tlsPort = try RedisServer.freePort()
        let server = try RedisServer(extraArguments: [
            "--tls-port", "\(tlsPort)", "--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", cert,
            "--tls-auth-clients", "no",
        ])
        defer { server.stop() }
        let outcome = try await EventLoopThread.run { loop in
            var outcome: [String] = []
            let redis = try await Connection.create(url: "rediss://localhost:\(tlsPort)/0?ssl_ca_certs=\(cert)")
            _ = try await redis.set("greeting", "over TLS")
            outcome.append(try await redis.get("greeting") ?? "nil")
            redis.close()
            // The same key through the plain port: one server behind both.
            let plain = try await Connection.create(url: "redis://127.0.0.1:\(server.port)")
            outcome.append(try await plain.get("greeting") ?? "nil")
            plain.close()
            // Verification is on by default: the system's roots do not know this certificate.
            do {
                _ = try await Connection.create(url: "rediss://localhost:\(tlsPort)")
                outcome.append("accepted")
            } catch {
                outcome.append("\(error)".contains("self-signed certificate") ? "refused" : "\(error)")
            }
            // ssl_cert_reqs=none turns it off (redis-py's spelling).
            let unchecked = try await Connection.create(url: "rediss://127.0.0.1:\(tlsPort)?ssl_cert_reqs=none")
            outcome.append(try await unchecked.ping())
            unchecked.close()
            return outcome
        }
        #expect(outcome == ["over TLS", "over TLS", "refused", "PONG"])
        #expect(throws: RedisError.self) { try Configuration(url: "redis://localhost?ssl_ca_certs=/x.pem") }
        #expect(throws: RedisError.self) { try Configuration(url: "rediss://localhost?ssl_ca_certs=/nonexistent.pem") }
    }
}

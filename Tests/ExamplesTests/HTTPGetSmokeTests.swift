import Foundation
import Glibc
import Testing

/// HTTPGet against `python3 -m http.server` on a free port of 127.0.0.1.
struct HTTPGetSmokeTests {
    /// `python3 -m http.server` serving a temporary directory, stopped by its PID when dropped.
    ///
    /// Spawned as an `ExampleProcess` (posix_spawn, reaped by its own PID), not with Foundation's
    /// `Process`, whose reaper also collects the exit statuses of other tests' children.
    final class FileServer: @unchecked Sendable {
        // SAFETY (for @unchecked Sendable): every property is set in init and never changed.
        let server: ExampleProcess
        let root: URL
        let port: Int

        /// Starts the server on a thread of its own (the wait for its port blocks), keeping Swift's
        /// few cooperative threads free for the tests that run in parallel.
        static func start(files: [String: String], tls: (cert: String, key: String)? = nil) async throws -> FileServer {
            try await withCheckedThrowingContinuation { continuation in
                Thread { continuation.resume(with: Result { try FileServer(files: files, tls: tls) }) }.start()
            }
        }

        /// http.server, wrapped in Python's `ssl` with `tls`.
        private static let httpsServer = """
            import functools, http.server, ssl, sys
            port, root, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
            server = http.server.HTTPServer(("127.0.0.1", port), handler)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            server.serve_forever()
            """

        init(files: [String: String], tls: (cert: String, key: String)? = nil) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("httpget-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            for (name, text) in files {
                try text.write(to: root.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
            // A port that was free a moment ago; http.server binds it right away.
            let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(probe, $0, length) == 0 && getsockname(probe, $0, &length) == 0
                }
            }
            close(probe)
            port = Int(UInt16(bigEndian: address.sin_port))
            let (portText, rootPath) = (String(port), root.path)
            var python = ["python3", "-m", "http.server", portText, "--bind", "127.0.0.1", "--directory", rootPath]
            if let tls { python = ["python3", "-c", Self.httpsServer, portText, rootPath, tls.cert, tls.key] }
            server = try ExampleProcess("/usr/bin/env", arguments: python)
            // Wait (at most 20 s) until it accepts connections.
            for _ in 0..<1000 {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                    }
                }
                close(fd)
                if connected { return }
                usleep(20_000)
            }
            throw POSIXError(.ETIMEDOUT)
        }

        deinit {
            // The process object lives until its output ends: end the server first.
            server.send(SIGKILL)
            try? FileManager.default.removeItem(at: root)
        }
    }

    @Test func httpGetPrintsStatusHeadersAndBody() async throws {
        let server = try await FileServer.start(files: ["hello.txt": "hello from the file server\n"])
        let get = try ExampleProcess("HTTPGet", arguments: ["http://127.0.0.1:\(server.port)/hello.txt"])
        #expect(try await get.waitForExit(seconds: 60) == .exited(0))
        let printed = get.printed
        #expect(printed.hasPrefix("HTTP/1.0 200 OK\r\n"))
        #expect(printed.contains("Content-Length: 27\r\n"))
        #expect(printed.hasSuffix("\r\n\r\nhello from the file server\n"))
    }

    @Test func httpGetFetchesHTTPSWithItsCAFileAndRefusesWithoutIt() async throws {
        let (directory, cert, key) = try await TLSEchoServerSmokeTests.selfSignedCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await FileServer.start(files: ["hello.txt": "hello over https\n"], tls: (cert, key))
        let url = "https://localhost:\(server.port)/hello.txt"
        let get = try ExampleProcess("HTTPGet", arguments: ["--cafile", cert, url])
        #expect(try await get.waitForExit(seconds: 60) == .exited(0))
        #expect(get.printed.hasPrefix("HTTP/1.0 200 OK\r\n"))
        #expect(get.printed.hasSuffix("\r\n\r\nhello over https\n"))
        // The system's roots do not know the self-signed certificate.
        let refused = try ExampleProcess("HTTPGet", arguments: [url])
        #expect(try await refused.waitForExit(seconds: 60) == .exited(1))
    }

    @Test func httpGetFailsClearlyOnErrors() async throws {
        let server = try await FileServer.start(files: [:])
        let missing = try ExampleProcess("HTTPGet", arguments: ["http://127.0.0.1:\(server.port)/missing"])
        #expect(try await missing.waitForExit(seconds: 60) == .exited(0))
        #expect(missing.printed.hasPrefix("HTTP/1.0 404 File not found\r\n"))
        let tls = try ExampleProcess("HTTPGet", arguments: ["https://127.0.0.1:\(server.port)/"])
        #expect(try await tls.waitForExit(seconds: 60) == .exited(1))
        let usage = try ExampleProcess("HTTPGet", arguments: [])
        #expect(try await usage.waitForExit(seconds: 60) == .exited(2))
    }
}

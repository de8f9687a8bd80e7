import Foundation
import Glibc
import Testing

/// The HTTP server examples, started on port 0 and talked to with a plain socket.
@Suite(.serialized) struct HTTPServerSmokeTests {
    @Test func httpHelloWorldAnswersTheSlidesWayAndStopsOnSIGTERM() async throws {
        let server = try ExampleProcess("HTTPHelloWorld", arguments: ["0"])
        let port = try #require(try await server.port())
        let client = try Client(port: port)
        client.send("GET /some/path HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let response = client.receiveToEOF()
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(response.contains("\r\nContent-type: text/plain\r\n"))
        #expect(response.contains("\r\nConnection: close\r\n"))
        #expect(response.hasSuffix("\r\n\r\ne\r\nHello world!\r\n\r\n0\r\n\r\n"))
        let line = "method = 'GET'; path = '/some/path'; version = HttpVersion(major=1, minor=1)"
        #expect(try await server.waitForOutput(containing: line))
        server.send(SIGTERM)
        #expect(try await server.waitForExit(seconds: 30) == .exited(0))
    }

    @Test func httpHelloWorldSpeaksHTTPSWithACertificate() async throws {
        let (directory, cert, key) = try await TLSEchoServerSmokeTests.selfSignedCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ExampleProcess("HTTPHelloWorld", arguments: ["0", "--cert", cert, "--key", key])
        let port = try #require(try await server.port())
        #expect(try await server.waitForOutput(containing: "Serving on: https://"))
        let curl = try ExampleProcess(
            "/usr/bin/env",
            arguments: ["curl", "-sS", "--cacert", cert, "https://127.0.0.1:\(port)/over/tls"]
        )
        #expect(try await curl.waitForOutput(containing: "Hello world!", seconds: 30))
        #expect(try await curl.waitForExit(seconds: 30) == .exited(0))
        server.send(SIGTERM)
        #expect(try await server.waitForExit(seconds: 30) == .exited(0))
        let usage = try ExampleProcess("HTTPHelloWorld", arguments: ["0", "--cert", cert])
        #expect(try await usage.waitForExit(seconds: 60) == .exited(2))
    }

    /// Both APIs, on the main thread's loop alone and on a group of two loops (`--loops 2`).
    @Test(arguments: ["low", "app"], ["1", "2"])
    func httpBenchAnswersHelloAnd404AndStopsOnSIGTERM(api: String, loops: String) async throws {
        let server = try ExampleProcess("HTTPBench", arguments: ["--api", api, "--port", "0", "--loops", loops])
        let port = try #require(try await server.port())
        let client = try Client(port: port)
        let hello =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        // The head above, `Date: <29 bytes>\r\n` (37), `Server: swift-asyncio\r\n` (23), CRLF, 14 bytes.
        let first = client.receive(hello.utf8.count + 37 + 23 + 2 + 14)
        #expect(first.hasPrefix(hello))
        #expect(first.hasSuffix("\r\n\r\nHello world!\r\n"))
        client.send("GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let second = client.receiveToEOF()
        #expect(second.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        #expect(second.contains("\r\nConnection: close\r\n"))
        server.send(SIGTERM)
        #expect(try await server.waitForExit(seconds: 30) == .exited(0))
    }
}

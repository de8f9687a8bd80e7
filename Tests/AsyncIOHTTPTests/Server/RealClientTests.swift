import AsyncIOHTTP
import Foundation
import Testing

/// Real clients against the real server on loopback: curl, Python's http.client, h11 on a raw
/// socket, and wrk for a couple of seconds. A missing tool fails the test (scripts/test.sh installs
/// them all).
@Suite(.serialized) struct RealClientTests {
    static func withServer(_ body: (ServerFixture) async throws -> Void) async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start { makeTestHandler(recorder) }
        try await server.serve(body)
    }

    @Test func curl() async throws {
        try await Self.withServer { server in
            let base = "http://127.0.0.1:\(server.port)"
            let get = try await Tool.run("curl", ["-s", "-i", "--max-time", "10", base + "/"])
            #expect(get.status == 0)
            #expect(get.output.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(get.output.hasSuffix("\r\n\r\nhello"))
            let keepAlive = try await Tool.run(
                "curl",
                ["-s", "--max-time", "10", base + "/", base + "/stream", base + "/"]
            )
            #expect(keepAlive.output == "helloabchello")
            let post = try await Tool.run(
                "curl",
                ["-s", "--max-time", "10", "--data-binary", "@-", base + "/echo"],
                input: "posted"
            )
            #expect(post.output == "posted")
            let chunked = try await Tool.run(
                "curl",
                ["-s", "--max-time", "10", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-", base + "/echo"],
                input: String(repeating: "c", count: 70_000)
            )
            #expect(chunked.output.count == 70_000)
            let expect = try await Tool.run(
                "curl",
                ["-s", "--max-time", "10", "-H", "Expect: 100-continue", "--data-binary", "@-", base + "/echo"],
                input: String(repeating: "e", count: 2_000)
            )
            #expect(expect.output.count == 2_000)
            let http10 = try await Tool.run("curl", ["-s", "-i", "--http1.0", "--max-time", "10", base + "/stream"])
            #expect(http10.output.contains("Connection: close\r\n"))
            #expect(http10.output.hasSuffix("\r\n\r\nabc"))
            let head = try await Tool.run("curl", ["-s", "-I", "--max-time", "10", base + "/"])
            #expect(head.output.contains("Content-Length: 5\r\n"))
        }
    }

    @Test func pythonHTTPClient() async throws {
        try await Self.withServer { server in
            let script = Tool.scripts.appendingPathComponent("http_client_check.py").path
            let result = try await Tool.run("python3", [script, "\(server.port)"])
            #expect(result.status == 0, "\(result.errors)")
            #expect(
                result.output.split(separator: "\n") == [
                    "GET 200 hello text/plain; charset=utf-8",
                    "GET 200 hello text/plain; charset=utf-8",
                    "GET 200 hello text/plain; charset=utf-8",
                    "HEAD 200 b'' 5",
                    "POST 200 100000",
                    "CHUNKED 200 5000 A E",
                    "STREAM 200 abc chunked",
                    "MISSING 404 404: Not Found",
                ]
            )
        }
    }

    @Test func h11() async throws {
        try await Self.withServer { server in
            let script = Tool.scripts.appendingPathComponent("h11_client_check.py").path
            let result = try await Tool.run("python3", [script, "\(server.port)"])
            #expect(result.status == 0, "\(result.errors)")
            #expect(
                result.output.split(separator: "\n") == [
                    "GET / 200 5 DONE DONE",
                    "POST /echo 200 3000 DONE DONE",
                    "GET /stream 200 3 DONE DONE",
                    "HEAD / 200 0 DONE DONE",
                    "GET /missing 404 14 DONE DONE",
                    "PIPELINED [200, 200]",
                    "CLOSE 200 b'close' b''",
                ]
            )
        }
    }

    @Test func wrk() async throws {
        try await Self.withServer { server in
            let url = "http://127.0.0.1:\(server.port)/"
            let keepAlive = try await Tool.run("wrk", ["-t1", "-c32", "-d2s", "--timeout", "5s", url])
            #expect(keepAlive.status == 0)
            #expect(!keepAlive.output.contains("Socket errors"))
            #expect(!keepAlive.output.contains("Non-2xx"))
            #expect(Self.requests(keepAlive.output) > 100)
            let lua = FileManager.default.temporaryDirectory.appendingPathComponent("close-\(server.port).lua")
            try #"wrk.headers["Connection"] = "close""#.write(to: lua, atomically: true, encoding: .utf8)
            let close = try await Tool.run("wrk", ["-t1", "-c8", "-d2s", "--timeout", "5s", "-s", lua.path, url])
            #expect(!close.output.contains("Socket errors"))
            #expect(!close.output.contains("Non-2xx"))
            #expect(Self.requests(close.output) > 50)
        }
    }

    /// The request count of a wrk report ("1234 requests in 2.00s").
    static func requests(_ report: String) -> Int {
        guard let line = report.split(separator: "\n").first(where: { $0.contains(" requests in ") }) else { return 0 }
        return Int(line.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") ?? 0
    }
}

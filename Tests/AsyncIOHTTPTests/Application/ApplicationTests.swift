import AsyncIO
import AsyncIOHTTP
import Foundation
import HTTP1Codec
import Testing

/// The application API against real clients on loopback: curl and Python's http.client.
@Suite(.serialized) struct ApplicationTests {
    static func withApp(_ body: (ServerFixture, Recorder) async throws -> Void) async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start { try makeTestApplication(recorder) }
        try await server.serve { try await body($0, recorder) }
    }

    /// `curl -s -i` of `path`, with extra arguments.
    static func curl(_ server: ServerFixture, _ path: String, _ arguments: [String] = []) async throws -> String {
        let result = try await Tool.run(
            "curl",
            ["-s", "-i", "--max-time", "10"] + arguments + ["http://127.0.0.1:\(server.port)\(path)"]
        )
        return result.output
    }

    @Test func routesMatchParametersTailsAndGroups() async throws {
        try await Self.withApp { server, _ in
            let cases: [(String, String)] = [
                ("/", "home"),
                ("/users/42", "user 42"),
                ("/users/me", "me"),
                ("/users/J%C3%B6rg%2Fx", "user Jörg/x"),
                ("/users/7/posts/9", "7/9"),
                ("/files/a/b/c.txt", "tail=a/b/c.txt"),
                ("/files/", "tail="),
                ("/api/v1/items", #"[{"id":1,"name":"one"}]"#),
                ("/api/v1/admin/stats", "stats"),
                ("/query?a=1&b=x+y&a=%26&flag", "a=1,b=x y,a=&,flag="),
                ("/anything", "any GET"),
            ]
            for (path, body) in cases {
                let output = try await Self.curl(server, path)
                #expect(output.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(path)")
                #expect(output.hasSuffix("\r\n\r\n" + body), "\(path): \(output)")
                #expect(output.contains("\r\nX-Middleware: outer\r\n"), "\(path)")
            }
        }
    }

    @Test func notFoundMethodNotAllowedAndHead() async throws {
        try await Self.withApp { server, _ in
            let missing = try await Self.curl(server, "/nope")
            #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
            #expect(missing.hasSuffix("custom 404 for /nope"))
            let wrongMethod = try await Self.curl(server, "/users/1", ["-X", "POST"])
            #expect(wrongMethod.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
            #expect(wrongMethod.contains("\r\nAllow: GET, HEAD\r\n"))
            let delete = try await Self.curl(server, "/api/v1/items", ["-X", "DELETE"])
            #expect(delete.hasPrefix("HTTP/1.1 405 "))
            let deleted = try await Self.curl(server, "/api/v1/items/3", ["-X", "DELETE"])
            #expect(deleted.hasSuffix("\r\n\r\ndeleted 3"))
            let head = try await Self.curl(server, "/users/5", ["-I"])
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(head.contains("Content-Length: 6\r\n"))
            #expect(head.hasSuffix("\r\n\r\n"))
        }
    }

    @Test func middlewaresShortCircuitPassStateAndCountInOrder() async throws {
        try await Self.withApp { server, recorder in
            let blocked = try await Self.curl(server, "/blocked")
            #expect(blocked.hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
            #expect(!recorder.all.contains("inner GET /blocked"))
            let who = try await Self.curl(server, "/whoami", ["-H", "Authorization: alice"])
            #expect(who.hasSuffix("\r\n\r\nalice"))
            let hits = try await Self.curl(server, "/hits")
            #expect(hits.hasSuffix("\r\n\r\n2"))
            #expect(recorder.all == ["inner GET /whoami", "inner GET /hits"])
        }
    }

    @Test func errorsRedirectsJSONAndCookies() async throws {
        try await Self.withApp { server, _ in
            let boom = try await Self.curl(server, "/boom")
            #expect(boom.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
            #expect(!boom.contains("TestFailure"))
            let redirect = try await Self.curl(server, "/redirect")
            #expect(redirect.hasPrefix("HTTP/1.1 302 Found\r\n"))
            #expect(redirect.contains("\r\nLocation: /users/1\r\n"))
            let followed = try await Self.curl(server, "/redirect", ["-L"])
            #expect(followed.hasSuffix("\r\n\r\nuser 1"))
            let created = try await Self.curl(
                server,
                "/items",
                ["-H", "Content-Type: application/json", "--data", #"{"id":5,"name":"five"}"#]
            )
            #expect(created.hasPrefix("HTTP/1.1 201 Created\r\n"))
            #expect(created.contains("Content-Type: application/json\r\n"))
            #expect(created.hasSuffix(#"{"id":5,"name":"five"}"#))
            let malformed = try await Self.curl(server, "/items", ["--data", #"{"id":"#])
            #expect(malformed.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
            let cookies = try await Self.curl(server, "/cookies", ["-b", "session=abc; other=1"])
            #expect(cookies.hasSuffix("\r\n\r\nsession=abc"))
            #expect(cookies.contains("\r\nSet-Cookie: seen=yes; HttpOnly; Max-Age=60; Path=/\r\n"))
        }
    }

    @Test func formsUrlencodedAndMultipartWithFilesStreamed() async throws {
        try await Self.withApp { server, recorder in
            let urlencoded = try await Self.curl(server, "/form", ["--data", "a=1&b=two+words&c=%C3%A9"])
            #expect(urlencoded.hasSuffix("\r\n\r\na=1\nb=two words\nc=é"))
            // 700 KB of file: under the 1 MiB body limit, far over one read.
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("upload-\(server.port).bin")
            try Data(repeating: 0x5A, count: 700_000).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let multipart = try await Self.curl(
                server,
                "/form",
                [
                    "-F", "title=hello world", "-F",
                    "doc=@\(file.path);type=application/x-test;filename=r\u{e9}sum\u{e9}.bin",
                ]
            )
            #expect(
                multipart.hasSuffix("\r\n\r\ntitle=hello world\nfile doc résumé.bin application/x-test 700000 700000")
            )
            let parts = try await Self.curl(server, "/parts", ["-F", "a=1", "-F", "big=@\(file.path)"])
            #expect(parts.hasSuffix("\r\n\r\na - 1\nbig upload-\(server.port).bin 700000"))
            // Streamed: no piece handed to the handler was anywhere near the file's size.
            #expect(recorder.largestBuffered < 200_000)
            let notMultipart = try await Self.curl(server, "/parts", ["--data", "x=1"])
            #expect(notMultipart.hasPrefix("HTTP/1.1 400 "))
        }
    }

    @Test func pythonClientTricklesAMultipartBodyAndMalformedOnesAre400() async throws {
        try await Self.withApp { server, _ in
            let script = Tool.scripts.appendingPathComponent("app_client_check.py").path
            let result = try await Tool.run("python3", [script, "\(server.port)"])
            #expect(result.status == 0, "\(result.errors)")
            #expect(
                result.output.split(separator: "\n") == [
                    "TRICKLED 200 'f1 - 5|up a.txt 300'",
                    "NO-CLOSE 400",
                    "BAD-HEAD 400",
                    "PREAMBLE 200 'x - 3'",
                    "KEEPALIVE 200 home",
                ]
            )
        }
    }

    @Test func hooksRunInOrderAroundTheServer() async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start {
            let app = Application()
            app.onStartup.append { _ in recorder.record("startup") }
            app.onShutdown.append { _ in recorder.record("shutdown") }
            app.onShutdown.append { _ in throw TestFailure() }
            app.onCleanup.append { _ in recorder.record("cleanup") }
            try app.router.get("/") { _ in Response(text: "up") }
            return app
        }
        #expect(recorder.all == ["startup"])
        let up = try await Self.curl(server, "/")
        #expect(up.hasSuffix("\r\n\r\nup"))
        try await server.cleanup()
        #expect(recorder.all == ["startup", "shutdown", "cleanup"])
        await server.stop()
    }
}

import AsyncIO
import AsyncIOHTTP
import Foundation
import Testing

/// Static files and `FileResponse` against curl and Python's http.client: sendfile bodies, ETag and
/// dates (304, 412), ranges (206, 416), MIME types, and every way out of the root refused.
@Suite(.serialized) struct StaticFileTests {
    /// A directory tree: root/ (served) and outside/ next to it, with symlinks in and out.
    static func makeTree() throws -> URL {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("static-\(UUID().uuidString)")
        let root = base.appendingPathComponent("root")
        let manager = FileManager.default
        try manager.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try manager.createDirectory(at: base.appendingPathComponent("outside"), withIntermediateDirectories: true)
        try "hello static\n".write(to: root.appendingPathComponent("hello.txt"), atomically: true, encoding: .utf8)
        try "<p>page</p>".write(to: root.appendingPathComponent("sub/page.html"), atomically: true, encoding: .utf8)
        try Data().write(to: root.appendingPathComponent("empty.txt"))
        try Data((0..<3_145_728).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) })
            .write(to: root.appendingPathComponent("big.bin"))
        try "secret".write(to: base.appendingPathComponent("outside/secret.txt"), atomically: true, encoding: .utf8)
        try manager.createSymbolicLink(
            atPath: root.appendingPathComponent("link.txt").path,
            withDestinationPath: "hello.txt"
        )
        try manager.createSymbolicLink(
            atPath: root.appendingPathComponent("escape.txt").path,
            withDestinationPath: "../outside/secret.txt"
        )
        try manager.createSymbolicLink(
            atPath: root.appendingPathComponent("outdir").path,
            withDestinationPath: "../outside"
        )
        return base
    }

    static func withServer(_ body: (ServerFixture, URL) async throws -> Void) async throws {
        let base = try makeTree()
        defer { try? FileManager.default.removeItem(at: base) }
        let root = base.appendingPathComponent("root").path
        let server = try await ServerFixture.start {
            let app = Application()
            try app.router.addStatic("/static", directory: root)
            try app.router.get("/file") { _ in FileResponse(path: root + "/hello.txt") }
            try app.router.get("/gone") { _ in FileResponse(path: root + "/missing.txt") }
            try app.router.get("/") { _ in Response(text: "home") }
            return app
        }
        try await server.serve { try await body($0, base) }
    }

    static func curl(_ server: ServerFixture, _ path: String, _ arguments: [String] = []) async throws -> String {
        let result = try await Tool.run(
            "curl",
            ["-s", "-i", "--max-time", "10", "--path-as-is"] + arguments + ["http://127.0.0.1:\(server.port)\(path)"]
        )
        return result.output
    }

    static func field(_ name: String, in output: String) -> String? {
        output.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix(name.lowercased() + ": ") }
            .map { String($0.dropFirst(name.count + 2)) }
    }

    @Test func aFileHasItsTypeLengthValidatorsAndBody() async throws {
        try await Self.withServer { server, _ in
            let output = try await Self.curl(server, "/static/hello.txt")
            #expect(output.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(Self.field("Content-Type", in: output) == "text/plain; charset=utf-8")
            #expect(Self.field("Content-Length", in: output) == "13")
            #expect(Self.field("Accept-Ranges", in: output) == "bytes")
            #expect(Self.field("ETag", in: output)?.hasPrefix("\"") == true)
            #expect(Self.field("Last-Modified", in: output)?.hasSuffix(" GMT") == true)
            #expect(output.hasSuffix("\r\n\r\nhello static\n"))
            let page = try await Self.curl(server, "/static/sub/page.html")
            #expect(Self.field("Content-Type", in: page) == "text/html; charset=utf-8")
            let empty = try await Self.curl(server, "/static/empty.txt")
            #expect(empty.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(Self.field("Content-Length", in: empty) == "0")
            let direct = try await Self.curl(server, "/file")
            #expect(direct.hasSuffix("\r\n\r\nhello static\n"))
            let head = try await Self.curl(server, "/static/big.bin", ["-I"])
            #expect(Self.field("Content-Length", in: head) == "3145728")
            #expect(Self.field("Content-Type", in: head) == "application/octet-stream")
            let gone = try await Self.curl(server, "/gone")
            #expect(gone.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        }
    }

    @Test func conditionalRequestsGet304Or412() async throws {
        try await Self.withServer { server, _ in
            let first = try await Self.curl(server, "/static/hello.txt")
            let etag = try #require(Self.field("ETag", in: first))
            let modified = try #require(Self.field("Last-Modified", in: first))
            let cases: [([String], String)] = [
                (["-H", "If-None-Match: \(etag)"], "304"),
                (["-H", "If-None-Match: \"other\", W/\(etag)"], "304"),
                (["-H", "If-None-Match: *"], "304"),
                (["-H", "If-None-Match: \"other\""], "200"),
                (["-H", "If-Modified-Since: \(modified)"], "304"),
                (["-H", "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT"], "200"),
                (["-H", "If-Modified-Since: not a date"], "200"),
                (["-H", "If-None-Match: \"other\"", "-H", "If-Modified-Since: \(modified)"], "200"),
                (["-H", "If-Match: \"other\""], "412"),
                (["-H", "If-Match: \(etag)"], "200"),
                (["-H", "If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT"], "412"),
            ]
            for (arguments, status) in cases {
                let output = try await Self.curl(server, "/static/hello.txt", arguments)
                #expect(output.hasPrefix("HTTP/1.1 \(status) "), "\(arguments)")
                if status == "304" {
                    #expect(output.hasSuffix("\r\n\r\n"), "\(arguments): no body")
                    #expect(Self.field("ETag", in: output) == etag)
                }
            }
        }
    }

    @Test func rangesGet206Or416() async throws {
        try await Self.withServer { server, _ in
            let etag = try #require(Self.field("ETag", in: try await Self.curl(server, "/static/hello.txt")))
            let cases: [(String, String, String?, String)] = [
                ("bytes=0-4", "206", "bytes 0-4/13", "hello"),
                ("bytes=6-", "206", "bytes 6-12/13", "static\n"),
                ("bytes=-6", "206", "bytes 7-12/13", "tatic\n"),
                ("bytes=6-100", "206", "bytes 6-12/13", "static\n"),
                ("bytes=13-", "416", "bytes */13", "416: Range Not Satisfiable"),
                ("bytes=-0", "416", "bytes */13", "416: Range Not Satisfiable"),
                ("bytes=0-1,3-4", "200", nil, "hello static\n"),
                ("bytes=5-2", "200", nil, "hello static\n"),
                ("items=0-1", "200", nil, "hello static\n"),
            ]
            for (range, status, contentRange, body) in cases {
                let output = try await Self.curl(server, "/static/hello.txt", ["-H", "Range: \(range)"])
                #expect(output.hasPrefix("HTTP/1.1 \(status) "), "\(range)")
                #expect(Self.field("Content-Range", in: output) == contentRange, "\(range)")
                #expect(output.hasSuffix("\r\n\r\n" + body), "\(range)")
            }
            let stale = try await Self.curl(
                server,
                "/static/hello.txt",
                ["-H", "Range: bytes=0-4", "-H", "If-Range: \"old\""]
            )
            #expect(stale.hasPrefix("HTTP/1.1 200 OK\r\n"))
            let fresh = try await Self.curl(
                server,
                "/static/hello.txt",
                ["-H", "Range: bytes=0-4", "-H", "If-Range: \(etag)"]
            )
            #expect(fresh.hasPrefix("HTTP/1.1 206 "))
        }
    }

    @Test func nothingOutsideTheRootIsServed() async throws {
        try await Self.withServer { server, _ in
            let cases: [(String, String)] = [
                ("/static/../outside/secret.txt", "403"),
                ("/static/%2e%2e/outside/secret.txt", "403"),
                ("/static/%2E%2E/%2e%2e/etc/passwd", "403"),
                ("/static/sub/..%2f..%2foutside/secret.txt", "403"),
                ("/static/escape.txt", "403"),
                ("/static/outdir/secret.txt", "403"),
                ("/static/sub", "403"),
                ("/static/", "403"),
                ("/static/nothing.txt", "404"),
                ("/static/hello.txt%00.png", "404"),
                ("/static/link.txt", "200"),
                ("/static/./sub/./page.html", "200"),
                ("/static//hello.txt", "200"),
            ]
            for (path, status) in cases {
                let output = try await Self.curl(server, path)
                #expect(output.hasPrefix("HTTP/1.1 \(status) "), "\(path): \(output.prefix(40))")
                #expect(!output.contains("secret"), "\(path)")
            }
        }
    }

    @Test func bigFilesAndRangesKeepTheConnectionForPythonsClient() async throws {
        try await Self.withServer { server, base in
            let script = Tool.scripts.appendingPathComponent("static_client_check.py").path
            let big = base.appendingPathComponent("root/big.bin").path
            let result = try await Tool.run("python3", [script, "\(server.port)", big])
            #expect(result.status == 0, "\(result.errors)")
            #expect(
                result.output.split(separator: "\n") == [
                    "FULL 200 3145728 True",
                    "RANGE 206 bytes 1000000-1999999/3145728 True",
                    "HEAD 200 3145728 b''",
                    "AFTER 200 home",
                    "SLOW 3145728 True",
                ]
            )
        }
    }
}

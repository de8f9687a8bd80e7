import Foundation
import Glibc
import Testing

/// HTTPApp started on port 0 and driven with curl: every route of its README.
@Suite(.serialized) struct HTTPAppSmokeTests {
    /// `curl -s -i ARGS URL`'s output (curl run as an ExampleProcess: posix_spawn, deadlines).
    static func curl(_ arguments: [String]) async throws -> String {
        let curl = try ExampleProcess("/usr/bin/curl", arguments: ["-s", "-i", "--max-time", "10"] + arguments)
        _ = try await curl.waitForExit(seconds: 15)
        return curl.printed
    }

    @Test func everyRouteAnswersAndTheServerStopsOnSIGTERM() async throws {
        let server = try ExampleProcess("HTTPApp", arguments: ["--port", "0"])
        let port = try #require(try await server.port())
        let base = "http://127.0.0.1:\(port)"

        let index = try await Self.curl([base + "/"])
        #expect(index.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(index.contains("Content-Type: text/html; charset=utf-8\r\n"))
        #expect(index.contains("<h1>HTTPApp</h1>"))

        let css = try await Self.curl([base + "/static/style.css"])
        #expect(css.hasPrefix("HTTP/1.1 200 OK\r\n"))
        let etag = try #require(
            css.split(separator: "\r\n").first { $0.hasPrefix("ETag: ") }.map { String($0.dropFirst(6)) }
        )
        let notModified = try await Self.curl(["-H", "If-None-Match: \(etag)", base + "/static/style.css"])
        #expect(notModified.hasPrefix("HTTP/1.1 304 Not Modified\r\n"))
        let partial = try await Self.curl(["-r", "0-3", base + "/static/style.css"])
        #expect(partial.hasPrefix("HTTP/1.1 206 Partial Content\r\n"))
        #expect(partial.hasSuffix("\r\n\r\nbody"))
        let traversal = try await Self.curl(["--path-as-is", base + "/static/../main.swift"])
        #expect(traversal.hasPrefix("HTTP/1.1 403 Forbidden\r\n"))

        let notes = try await Self.curl([base + "/api/notes"])
        #expect(notes.hasSuffix(#"[{"id":1,"text":"Hello from HTTPApp"}]"#))
        let created = try await Self.curl(
            ["-H", "Content-Type: application/json", "-d", #"{"text":"buy milk"}"#, base + "/api/notes"]
        )
        #expect(created.hasPrefix("HTTP/1.1 201 Created\r\n"))
        #expect(created.hasSuffix(#"{"id":2,"text":"buy milk"}"#))
        let missing = try await Self.curl([base + "/api/notes/99"])
        #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        #expect(missing.hasSuffix(#"{"error":"404: Not Found"}"#))

        let stream = try await Self.curl([base + "/stream?n=3"])
        #expect(stream.contains("Transfer-Encoding: chunked\r\n"))
        #expect(stream.hasSuffix("\r\n\r\nline 1\nline 2\nline 3\n"))

        let upload = try await Self.curl([
            "-F", "title=report", "-F", "file=@\(#filePath);type=text/plain", base + "/upload",
        ])
        let size = try FileManager.default.attributesOfItem(atPath: #filePath)[.size] as? Int ?? -1
        #expect(upload.contains(#""fields":{"title":"report"}"#))
        #expect(upload.contains(#""size":\#(size)"#))
        #expect(upload.contains(#""filename":"HTTPAppSmokeTests.swift""#))

        server.send(SIGTERM)
        #expect(try await server.waitForExit(seconds: 30) == .exited(0))
    }
}

import AsyncIO
import Foundation
import Testing

@testable import AsyncIOHTTP

/// The client against real servers: Python's `http.server` (HTTP/1.0, one connection per request)
/// and nginx (HTTP/1.1 keep-alive), each started by the test on a free loopback port.
struct RealServerTests {
    /// A directory with an index page and a 1 MiB file.
    static func site() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("site-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try "<h1>hello from the site</h1>\n".write(
            to: root.appendingPathComponent("index.html"),
            atomically: true,
            encoding: .utf8
        )
        let big = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try big.write(to: root.appendingPathComponent("big.bin"))
        return root
    }

    @Test
    func pythonHTTPServer() async throws {
        let root = try Self.site()
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try await PeerProcess.pythonHTTPServer(serving: root)
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            let page = try await session.get("\(base)/index.html")
            #expect(page.status.code == 200)
            #expect(page.contentType == "text/html")
            #expect(try await page.text() == "<h1>hello from the site</h1>\n")
            let big = try await session.get("\(base)/big.bin").bytes()
            #expect(big.count == 1 << 20)
            #expect(big[12345] == UInt8(truncatingIfNeeded: 12345 &* 31))
            // A directory without its slash redirects (301) to the slash form.
            let listing = try await session.get("\(base)/")
            #expect(listing.status.code == 200)
            let missing = try await session.get("\(base)/nope")
            #expect(missing.status.code == 404)
            // HTTP/1.0 replies close their connection: nothing is kept.
            #expect(session.poolStatistics.idle == 0)
        }
    }

    @Test
    func nginxKeepAliveHeadAndConcurrency() async throws {
        let root = try Self.site()
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try await PeerProcess.nginx(
            root: root,
            extraConfig: "location /moved { return 301 /index.html; } location /gone { return 410; }"
        )
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession(limitPerHost: 8)
            defer { session.close() }
            for _ in 0..<20 {
                #expect(try await session.get("\(base)/index.html").text() == "<h1>hello from the site</h1>\n")
            }
            #expect(session.poolStatistics == .init(open: 1, idle: 1, waiting: 0))

            let head = try await session.head("\(base)/big.bin")
            #expect(head.contentLength == 1 << 20)
            #expect(try await head.bytes().isEmpty)

            let moved = try await session.get("\(base)/moved")
            #expect(moved.history.map(\.status.code) == [301])
            #expect(moved.url.path == "/index.html")
            #expect(try await session.get("\(base)/gone").status.code == 410)

            let sizes = try await gather(
                (0..<64).map { i in
                    { try await session.get("\(base)/\(i % 2 == 0 ? "big.bin" : "index.html")").bytes().count }
                }
            )
            #expect(sizes == (0..<64).map { $0 % 2 == 0 ? 1 << 20 : 29 })
            #expect(session.poolStatistics.open <= 8)
            #expect(session.poolStatistics.waiting == 0)
        }
    }
}

import AsyncIO
import AsyncIOHTTP
import Foundation
import HTTPTypes
import Testing

/// The byte at `index` of the test pattern.
private func pattern(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: index &* 31 &+ index >> 8) }

/// Our client against our server, both on loopback (each on a loop thread of its own): keep-alive
/// reuse, chunked bodies both ways, streamed upload and download, redirects, timeouts.
struct OwnServerTests {
    /// The application the client talks to.
    static func makeApplication() throws -> Application {
        // Room for the 3 MiB uploads (the default limit is aiohttp's 1 MiB).
        var configuration = HTTPServerConfiguration()
        configuration.limits.maxBodyLength = 8 << 20
        let app = Application(configuration: configuration)
        let router = app.router
        try router.get("/hello") { _ in Response(text: "hello") }
        // Reads the body as it streams in; answers its length, a checksum and its framing.
        try router.post("/upload") { request in
            var count = 0
            var sum = 0
            for try await chunk in request.body {
                for byte in chunk {
                    guard byte == pattern(count) else { throw HTTPError.badRequest(text: "byte \(count) differs") }
                    sum &+= Int(byte)
                    count += 1
                }
            }
            let framing = request.message.chunked ? "chunked" : (request.headers[.contentLength] ?? "none")
            return Response(text: "\(count) \(sum) \(framing)")
        }
        // A chunked response of `n` pieces of 64 KiB, written as the client reads.
        try router.get("/download") { request in
            let pieces = Int(request.query["n"] ?? "") ?? 1
            let response = StreamResponse()
            response.contentType = "application/octet-stream"
            try await response.prepare(request)
            for piece in 0..<pieces {
                try await response.write((0..<65_536).map { pattern(piece * 65_536 + $0) })
            }
            try await response.writeEOF()
            return response
        }
        try router.get("/moved") { _ in throw HTTPError.found(location: "/hello") }
        try router.post("/form") { _ in throw HTTPError.seeOther(location: "/hello") }
        try router.get("/loop") { _ in throw HTTPError.found(location: "/loop") }
        try router.get("/slow") { _ in
            try await sleep(.seconds(30))
            return Response(text: "late")
        }
        return app
    }

    static func withServer(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let server = try await ServerFixture.start(makeApplication: makeApplication)
        try await server.serve { server in try await body("http://127.0.0.1:\(server.port)") }
    }

    @Test func keepAliveConnectionsAreReused() async throws {
        try await Self.withServer { base in
            try await EventLoopThread.run { loop in
                let session = try ClientSession()
                defer { session.close() }
                for _ in 0..<10 { #expect(try await session.get("\(base)/hello").text() == "hello") }
                #expect(session.poolStatistics.open == 1)
                #expect(session.poolStatistics.idle == 1)
                // Several at once open several connections, all kept for later.
                let tasks = (0..<4).map { _ in loop.createTask { try await session.get("\(base)/hello").text() } }
                for task in tasks { #expect(try await task.value == "hello") }
                #expect(session.poolStatistics.open == session.poolStatistics.idle)
                #expect((1...4).contains(session.poolStatistics.open))
            }
        }
    }

    @Test func uploadsStreamChunkedOrWithALength() async throws {
        try await Self.withServer { base in
            try await EventLoopThread.run { loop in
                let session = try ClientSession()
                defer { session.close() }
                let size = 3 * 1024 * 1024 + 17
                let expectedSum = (0..<size).reduce(0) { $0 &+ Int(pattern($1)) }
                func pieces() -> AsyncStream<[UInt8]> {
                    AsyncStream { continuation in
                        var offset = 0
                        while offset < size {
                            let end = min(offset + 100_000, size)
                            continuation.yield((offset..<end).map(pattern))
                            offset = end
                        }
                        continuation.finish()
                    }
                }
                // No length: sent chunked.
                let chunked = try await session.post("\(base)/upload", body: .stream(pieces()))
                #expect(try await chunked.text() == "\(size) \(expectedSum) chunked")
                // A length: sent with Content-Length.
                let sized = try await session.post("\(base)/upload", body: .stream(pieces(), length: size))
                #expect(try await sized.text() == "\(size) \(expectedSum) \(size)")
                // Bytes at once.
                let whole = try await session.post("\(base)/upload", body: .bytes((0..<1000).map(pattern)))
                let wholeSum = (0..<1000).reduce(0) { $0 &+ Int(pattern($1)) }
                #expect(try await whole.text() == "1000 \(wholeSum) 1000")
                // Every exchange left the one connection reusable.
                #expect(session.poolStatistics.open == 1)
            }
        }
    }

    @Test func downloadsStreamAChunkedBody() async throws {
        try await Self.withServer { base in
            try await EventLoopThread.run { loop in
                let session = try ClientSession()
                defer { session.close() }
                let response = try await session.get("\(base)/download?n=64")
                #expect(response.status == .ok)
                #expect(response.headers[.transferEncoding] == "chunked")
                #expect(response.contentLength == nil)
                var count = 0
                var intact = true
                for try await piece in response.content {
                    for byte in piece {
                        if byte != pattern(count) { intact = false }
                        count += 1
                    }
                }
                #expect(count == 64 * 65_536)
                #expect(intact)
                // Read to its end, the connection went back to the pool and serves the next one.
                #expect(try await session.get("\(base)/download?n=2").bytes().count == 2 * 65_536)
                #expect(session.poolStatistics.open == 1)
            }
        }
    }

    @Test func redirectsAreFollowedAndBounded() async throws {
        try await Self.withServer { base in
            try await EventLoopThread.run { loop in
                let session = try ClientSession(maxRedirects: 3)
                defer { session.close() }
                let moved = try await session.get("\(base)/moved")
                #expect(try await moved.text() == "hello")
                #expect(moved.history.map(\.status.code) == [302])
                #expect(moved.url.path == "/hello")
                // 303 after a POST: the next request is a GET.
                let posted = try await session.post("\(base)/form", body: .text("x"))
                #expect(posted.method == .get)
                #expect(try await posted.text() == "hello")
                let unfollowed = try await session.get("\(base)/moved", allowRedirects: false)
                #expect(unfollowed.status.code == 302)
                #expect(unfollowed.headers[.location] == "/hello")
                unfollowed.release()
                await #expect(throws: ClientError.tooManyRedirects(count: 3)) {
                    _ = try await session.get("\(base)/loop")
                }
            }
        }
    }

    @Test func aSlowHandlerTripsTheReadTimeoutAndTheConnectionIsNotReused() async throws {
        try await Self.withServer { base in
            try await EventLoopThread.run { loop in
                let session = try ClientSession()
                defer { session.close() }
                #expect(try await session.get("\(base)/hello").text() == "hello")
                await #expect(throws: ClientError.timeout(.sockRead)) {
                    _ = try await session.get("\(base)/slow", timeout: ClientTimeout(sockRead: .milliseconds(300)))
                }
                #expect(session.poolStatistics.idle == 0)
                // A fresh connection serves the next request.
                #expect(try await session.get("\(base)/hello").text() == "hello")
            }
        }
    }
}

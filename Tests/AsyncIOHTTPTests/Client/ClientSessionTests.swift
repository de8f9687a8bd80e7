import AsyncIO
import Foundation
import HTTP1Codec
import HTTPTypes
import Testing

@testable import AsyncIOHTTP

/// The client against the h11 fault server (Support/FaultServer.swift) on real loopback sockets.
struct ClientSessionTests {
    struct Echo: Decodable, Sendable {
        var method: String
        var target: String
        var headers: [[String]]
        var body: String

        func header(_ name: String) -> String? {
            headers.first { $0[0].lowercased() == name.lowercased() }?[1]
        }
    }

    /// The number of connections the server accepted so far (the stats request uses one too,
    /// unless a pooled one is reused).
    static func accepted(_ session: ClientSession, _ base: String) async throws -> Int {
        Int(try await session.get("\(base)/stats").text())!
    }

    // MARK: - Basics

    @Test
    func getReturnsStatusHeadersAndBody() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            let response = try await session.get("\(base)/hello")
            #expect(response.status == .ok)
            #expect(response.ok)
            #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
            #expect(response.contentType == "text/plain")
            #expect(response.charset == "utf-8")
            #expect(response.contentLength == 5)
            #expect(try await response.text() == "hello")
            #expect(try await response.bytes() == Array("hello".utf8))
            let missing = try await session.get("\(base)/nothing")
            #expect(missing.status.code == 404)
            #expect(missing.reason == "Not Found")
            #expect(!missing.ok)
        }
    }

    @Test
    func sequentialRequestsShareOneKeepAliveConnection() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            for _ in 0..<5 { #expect(try await session.get("\(base)/hello").text() == "hello") }
            #expect(try await Self.accepted(session, base) == 1)
            #expect(session.poolStatistics == .init(open: 1, idle: 1, waiting: 0))
        }
    }

    @Test
    func concurrentRequestsRespectThePerHostLimit() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession(limitPerHost: 2)
            defer { session.close() }
            let bodies = try await gather(
                (0..<8).map { _ in { try await session.get("\(base)/slow-body?n=3&d=0.01").text() } }
            )
            #expect(bodies == Array(repeating: "xxx", count: 8))
            #expect(try await Self.accepted(session, base) == 2)
        }
    }

    @Test
    func ipv6LiteralHost() async throws {
        let server = try await PeerProcess.faultServer(ipv6: true)
        let base = "http://[::1]:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            let echo = try await session.get("\(base)/echo").json(as: Echo.self)
            #expect(echo.header("host") == "[::1]:\(server.port)")
        }
    }

    // MARK: - Bodies

    @Test
    func chunkedAndCloseDelimitedBodies() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            #expect(try await session.get("\(base)/chunked").text() == "hello world")
            #expect(try await session.get("\(base)/close-delimited").text() == "until the end")
            #expect(try await session.get("\(base)/informational").text() == "done")
            let head = try await session.head("\(base)/hello")
            #expect(head.contentLength == 5)
            #expect(try await head.bytes().isEmpty)
            // The chunked response's connection was reused for the close-delimited one, which
            // closed; then one more for the rest.
            #expect(try await Self.accepted(session, base) == 2)
        }
    }

    @Test
    func requestBodiesQueryAndHeadersReachTheServer() async throws {
        struct Payload: Codable, Equatable {
            var name: String
            var n: Int
        }
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession(headers: [.acceptLanguage: "fr"])
            defer { session.close() }
            var echo = try await session.post(
                "\(base)/echo",
                query: [("q", "a b")],
                headers: [HTTPField.Name("X-Test")!: "1"],
                body: .json(Payload(name: "ada", n: 1))
            ).json(as: Echo.self)
            #expect(echo.method == "POST")
            #expect(echo.target == "/echo?q=a+b")
            #expect(echo.header("x-test") == "1")
            #expect(echo.header("accept-language") == "fr")
            #expect(echo.header("content-type") == "application/json")
            #expect(try JSONDecoder().decode(Payload.self, from: Data(echo.body.utf8)) == Payload(name: "ada", n: 1))

            echo = try await session.put("\(base)/echo", body: .form([("a", "1"), ("b", "x y")])).json(as: Echo.self)
            #expect(echo.body == "a=1&b=x+y")
            #expect(echo.header("content-length") == "9")

            let chunks: [[UInt8]] = [Array("one,".utf8), [], Array("two".utf8)]
            echo = try await session.patch("\(base)/echo", body: .stream(chunks.async)).json(as: Echo.self)
            #expect(echo.method == "PATCH")
            #expect(echo.body == "one,two")
            #expect(echo.header("transfer-encoding") == "chunked")

            echo = try await session.post("\(base)/echo", body: .stream(chunks.async, length: 7)).json(as: Echo.self)
            #expect(echo.body == "one,two")
            #expect(echo.header("content-length") == "7")

            await #expect(throws: ClientError.bodyLengthMismatch(expected: 3, actual: 4)) {
                _ = try await session.post("\(base)/echo", body: .stream(chunks.async, length: 3))
            }

            var form = MultipartForm(boundary: "b0undary")
            form.addField(name: "field", value: "v")
            echo = try await session.post("\(base)/echo", body: .multipart(form)).json(as: Echo.self)
            #expect(echo.header("content-type") == "multipart/form-data; boundary=b0undary")
            #expect(echo.body.contains("name=\"field\"\r\n\r\nv\r\n--b0undary--"))

            echo = try await session.delete("\(base)/echo").json(as: Echo.self)
            #expect(echo.method == "DELETE")
        }
    }

    @Test
    func jsonChecksTheContentTypeAndTextTheCharset() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            await #expect(throws: ClientError.contentType(expected: "application/json", actual: "text/html")) {
                _ = try await session.get("\(base)/json-wrong-type").json(as: [String: Int].self)
            }
            let lenient = try await session.get("\(base)/json-wrong-type").json(
                as: [String: Int].self,
                contentType: nil
            )
            #expect(lenient == ["a": 1])
            #expect(try await session.get("\(base)/latin1").text() == "caf\u{e9}")
            await #expect(throws: ClientError.decoding(charset: "utf-8")) {
                _ = try await session.get("\(base)/latin1").text(encoding: "utf-8")
            }
        }
    }

    @Test
    func theBodyStreamsWithBackpressure() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            let size = 8 << 20
            let response = try await session.get("\(base)/big?n=\(size)")
            var total = 0
            var mostBuffered = 0
            for try await chunk in response.content {
                total += chunk.count
                mostBuffered = max(mostBuffered, response.exchange.buffered)
                // A slow consumer for the first part: the server must be held back meanwhile.
                if total < 2 << 20 { try await sleep(.microseconds(200)) }
            }
            #expect(total == size)
            // At most the high-water mark plus what one read brings.
            #expect(mostBuffered <= ClientExchange.highWater + 256 * 1024)
            #expect(try await session.get("\(base)/hello").text() == "hello")
            #expect(try await Self.accepted(session, base) == 1)
        }
    }

    // MARK: - Faults

    @Test(arguments: [
        ("/duplicate-length", ClientError.malformedResponse(.duplicateContentLength)),
        ("/bad-status", .malformedResponse(.invalidStartLine)),
        ("/bare-lf", .malformedResponse(.bareLF)),
        ("/switching", .malformedResponse(.invalidStatus)),
        ("/cut-head", .serverDisconnected(duringBody: false)),
        ("/stall?s=0.05", .serverDisconnected(duringBody: false)),
    ])
    func malformedOrCutRepliesAreTypedErrorsAndTheConnectionIsDiscarded(
        _ path: String,
        _ error: ClientError
    ) async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            #expect(try await session.get("\(base)/hello").text() == "hello")
            await #expect(throws: error) { _ = try await session.get("\(base)\(path)") }
            #expect(try await session.get("\(base)/hello").text() == "hello")
            // A reused connection closed before any byte of the response is retried once (GET is
            // idempotent): the stalled request costs two connections.
            #expect(try await Self.accepted(session, base) == (path.hasPrefix("/stall") ? 3 : 2))
        }
    }

    @Test
    func aBodyCutShortIsAPayloadError() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            let response = try await session.get("\(base)/cut")
            #expect(response.contentLength == 100)
            await #expect(throws: ClientError.serverDisconnected(duringBody: true)) { _ = try await response.bytes() }
        }
    }

    @Test
    func bytesAfterTheResponseMeanTheConnectionIsNotReused() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            #expect(try await session.get("\(base)/trailing-garbage").text() == "ok")
            #expect(try await session.get("\(base)/connection-close").text() == "bye")
            #expect(try await Self.accepted(session, base) == 3)
        }
    }

    @Test
    func aKeepAliveConnectionTheServerDroppedIsRetriedForIdempotentRequestsOnly() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            #expect(try await session.get("\(base)/then-drop").text() == "first")
            // The server closes the connection when the next request arrives: GET is sent again.
            #expect(try await session.get("\(base)/hello").text() == "hello")
            #expect(try await session.get("\(base)/then-drop").text() == "first")
            await #expect(throws: ClientError.serverDisconnected(duringBody: false)) {
                _ = try await session.post("\(base)/echo", body: .text("once"))
            }
        }
    }

    @Test
    func timeoutsAreTypedAndCloseTheConnection() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            let short = ClientTimeout(total: nil, sockRead: .milliseconds(200))
            await #expect(throws: ClientError.timeout(.sockRead)) {
                _ = try await session.get("\(base)/stall", timeout: short)
            }
            let response = try await session.get("\(base)/stall-body", timeout: short)
            await #expect(throws: ClientError.timeout(.sockRead)) { _ = try await response.bytes() }
            // A body that keeps trickling in never trips sock_read, but does trip total.
            let trickle = try await session.get(
                "\(base)/slow-body?n=40&d=0.05",
                timeout: ClientTimeout(total: .milliseconds(500), sockRead: .milliseconds(300))
            )
            await #expect(throws: ClientError.timeout(.total)) { _ = try await trickle.bytes() }
            #expect(session.poolStatistics.idle == 0)
        }
    }

    @Test
    func waitingForAConnectionIsBoundedByTheConnectTimeout() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession(limit: 1)
            defer { session.close() }
            let stalled = loop.createTask { try await session.get("\(base)/stall?s=1").status.code }
            try await sleep(.milliseconds(50))
            #expect(session.poolStatistics.open == 1)
            await #expect(throws: ClientError.timeout(.connect)) {
                _ = try await session.get("\(base)/hello", timeout: ClientTimeout(connect: .milliseconds(100)))
            }
            await #expect(throws: ClientError.serverDisconnected(duringBody: false)) { _ = try await stalled.value }
            // Once the stalled one is gone, the slot serves the next request.
            #expect(try await session.get("\(base)/hello").text() == "hello")
        }
    }

    @Test
    func cancellingAReadMidResponseClosesTheConnection() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            let reader = loop.createTask {
                let response = try await session.get("\(base)/slow-body?n=100&d=0.02")
                for try await _ in response.content {}
            }
            try await sleep(.milliseconds(100))
            #expect(session.poolStatistics.open == 1)
            reader.cancel()
            await #expect(throws: CancelledError.self) { _ = try await reader.value }
            var waited = 0
            while session.poolStatistics.open != 0 && waited < 500 {
                try await sleep(.milliseconds(10))
                waited += 1
            }
            #expect(session.poolStatistics.open == 0)
            // A response dropped unread mid-body closes its connection too.
            do {
                let dropped = try await session.get("\(base)/stall-body?s=2")
                _ = dropped.status
            }
            try await sleep(.milliseconds(50))
            #expect(session.poolStatistics.open == 0)
            #expect(try await session.get("\(base)/hello").text() == "hello")
        }
    }

    // MARK: - Redirects and cookies

    @Test
    func redirectsAreFollowedWithTheRightMethod() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            let followed = try await session.get("\(base)/redirect?status=301&to=/hello")
            #expect(try await followed.text() == "hello")
            #expect(followed.url.path == "/hello")
            #expect(followed.history.map(\.status.code) == [301])

            var echo = try await session.post("\(base)/redirect?status=307&to=/echo", body: .text("keep"))
                .json(as: Echo.self)
            #expect(echo.method == "POST")
            #expect(echo.body == "keep")

            echo = try await session.post("\(base)/redirect?status=303&to=/echo", body: .text("drop"))
                .json(as: Echo.self)
            #expect(echo.method == "GET")
            #expect(echo.body == "")
            #expect(echo.header("content-type") == nil)

            let notFollowed = try await session.get("\(base)/redirect?status=302&to=/hello", allowRedirects: false)
            #expect(notFollowed.status.code == 302)
            #expect(notFollowed.headers[.location] == "/hello")

            await #expect(throws: ClientError.tooManyRedirects(count: 10)) {
                _ = try await session.get("\(base)/redirect-loop")
            }
            await #expect(throws: ClientError.tooManyRedirects(count: 2)) {
                _ = try await session.request(.get, "\(base)/redirect-loop", maxRedirects: 2)
            }
            // A redirect to https is followed, through TLS (nothing listens on port 1).
            do {
                _ = try await session.get("\(base)/redirect?to=https://127.0.0.1:1/x")
                Issue.record("the redirect to a closed port succeeded")
            } catch let error as ClientError {
                guard case .cannotConnect(host: "127.0.0.1", port: 1, _) = error else {
                    Issue.record("\(error)")
                    return
                }
            }
            // A stream body cannot be sent twice: the 307 is returned as it is.
            let streamed = try await session.post(
                "\(base)/redirect?status=307&to=/echo",
                body: .stream([Array("x".utf8)].async)
            )
            #expect(streamed.status.code == 307)
        }
    }

    @Test
    func aCrossOriginRedirectDropsAuthorization() async throws {
        let server = try await PeerProcess.faultServer()
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            let auth: HTTPFields = [.authorization: "Bearer secret"]
            let sameOrigin = "http://127.0.0.1:\(server.port)/redirect?to=/echo"
            var echo = try await session.get(sameOrigin, headers: auth).json(as: Echo.self)
            #expect(echo.header("authorization") == "Bearer secret")
            let otherOrigin = "http://127.0.0.1:\(server.port)/redirect?to=http://localhost:\(server.port)/echo"
            echo = try await session.get(otherOrigin, headers: auth).json(as: Echo.self)
            #expect(echo.header("authorization") == nil)
            #expect(echo.header("host") == "localhost:\(server.port)")
        }
    }

    @Test
    func cookiesAreKeptPerSession() async throws {
        let server = try await PeerProcess.faultServer()
        let base = "http://127.0.0.1:\(server.port)"
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            defer { session.close() }
            _ = try await session.get("\(base)/set-cookie").bytes()
            #expect(Set(session.cookieJar.cookies.map(\.name)) == ["session", "scoped", "secure"])
            var echo = try await session.get("\(base)/echo").json(as: Echo.self)
            #expect(echo.header("cookie") == "session=abc")
            echo = try await session.get("\(base)/private/echo").json(as: Echo.self)
            #expect(echo.target == "/private/echo")
            let other = try ClientSession()
            defer { other.close() }
            echo = try await other.get("\(base)/echo").json(as: Echo.self)
            #expect(echo.header("cookie") == nil)
            session.cookieJar.clear()
            echo = try await session.get("\(base)/echo").json(as: Echo.self)
            #expect(echo.header("cookie") == nil)
        }
    }

    // MARK: - Errors before anything is sent

    @Test
    func unusableURLsAndRefusedConnectionsAreTypedErrors() async throws {
        let port = try PeerProcess.freePort()
        try await EventLoopThread.run { loop in
            let session = try ClientSession()
            await #expect(throws: ClientError.invalidURL("ftp://example.com/")) {
                _ = try await session.get("ftp://example.com/")
            }
            await #expect(throws: ClientError.invalidURL("/relative")) { _ = try await session.get("/relative") }
            do {
                _ = try await session.get("http://127.0.0.1:\(port)/")
                Issue.record("connected to a closed port")
            } catch ClientError.cannotConnect(let host, let connectPort, _) {
                #expect(host == "127.0.0.1")
                #expect(connectPort == port)
            }
            #expect(session.poolStatistics.open == 0)
            session.close()
            await #expect(throws: ClientError.sessionClosed) { _ = try await session.get("http://127.0.0.1:\(port)/") }
        }
    }

    @Test
    func raiseForStatusAndBaseURL() async throws {
        let server = try await PeerProcess.faultServer()
        try await EventLoopThread.run { loop in
            let session = try ClientSession(baseURL: "http://127.0.0.1:\(server.port)/", raiseForStatus: true)
            defer { session.close() }
            #expect(try await session.get("hello").text() == "hello")
            await #expect(throws: ClientError.responseStatus(code: 503, reason: "Custom")) {
                _ = try await session.get("/status?code=503")
            }
            let lenient = try await session.request(.get, "/status?code=404", raiseForStatus: false)
            #expect(lenient.status.code == 404)
        }
    }
}

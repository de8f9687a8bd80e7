import AsyncIO
import AsyncIOHTTP
import Foundation
import Testing

/// One connection at a time, through a real loopback socket driven by a blocking client: keep-alive,
/// pipelining, bodies both ways, Expect, HEAD, errors, and what the connection does around them.
@Suite(.serialized) struct ServerConnectionTests {
    static func withServer(
        configuration: HTTPServerConfiguration = .init(),
        _ body: (ServerFixture, Recorder) async throws -> Void
    ) async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start(configuration: configuration) { makeTestHandler(recorder) }
        try await server.serve { try await body($0, recorder) }
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        try await Self.withServer { server, _ in
            let client = try RawClient(port: server.port)
            for _ in 0..<3 {
                try await client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                let response = try await client.readResponse()
                #expect(response.status == 200)
                #expect(response.text == "hello")
                #expect(response.field("Content-Length") == "5")
                #expect(response.field("Content-Type") == "text/plain; charset=utf-8")
                #expect(response.field("Connection") == nil)
                #expect(response.field("Server") == "swift-asyncio")
                #expect(response.field("Date")?.hasSuffix(" GMT") == true)
            }
            try await client.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let last = try await client.readResponse()
            #expect(last.field("Connection") == "close")
            #expect(try await client.isClosedByPeer())
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await Self.withServer { server, _ in
            let client = try RawClient(port: server.port)
            try await client.send(
                "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            var statuses: [Int] = []
            var bodies: [String] = []
            for _ in 0..<5 {
                let response = try await client.readResponse()
                statuses.append(response.status)
                bodies.append(response.text)
            }
            #expect(statuses == [200, 200, 404, 200, 200])
            #expect(bodies == ["hello", "abc", "404: Not Found", "abc", "hello"])
            #expect(try await client.isClosedByPeer())
        }
    }

    @Test func headGetsTheFieldsOfGetAndNoBody() async throws {
        try await Self.withServer { server, _ in
            let client = try RawClient(port: server.port)
            try await client.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try await client.readResponse(head: true)
            #expect(head.status == 200)
            #expect(head.field("Content-Length") == "5")
            #expect(head.body.isEmpty)
            try await client.send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
            let streamed = try await client.readResponse(head: true)
            #expect(streamed.field("Transfer-Encoding") == "chunked")
            #expect(streamed.body.isEmpty)
            // The next response starts right after the head: nothing of a body was sent.
            let next = try await client.readResponse()
            #expect(next.text == "hello")
        }
    }

    @Test func requestBodiesArriveWithContentLengthAndChunked() async throws {
        try await Self.withServer { server, recorder in
            let client = try RawClient(port: server.port)
            try await client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world")
            #expect(try await client.readResponse().text == "hello world")
            try await client.send(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n"
            )
            let chunked = try await client.readResponse()
            #expect(chunked.text == "hello world")
            #expect(chunked.field("X-Body-Length") == "11")
            let big = [UInt8](repeating: 0x7A, count: 600_000)
            try await client.send(Array("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 600000\r\n\r\n".utf8) + big)
            let echoed = try await client.readResponse()
            #expect(echoed.body == big)
            #expect(recorder.all == ["echo 11", "echo 11", "echo 600000"])
        }
    }

    @Test func aBodyTheHandlerReadsSlowlyIsBufferedOnlyUpToTheLimit() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.bodyBufferSize = 16 * 1024
        try await Self.withServer(configuration: configuration) { server, recorder in
            let client = try RawClient(port: server.port)
            let size = 1_000_000
            try await client.send(
                Array("POST /slow-echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(size)\r\n\r\n".utf8)
                    + [UInt8](repeating: 1, count: size)
            )
            #expect(try await client.readResponse().text == "\(size)")
            // One read past the limit at most (the loop reads 64 KiB at a time).
            #expect(recorder.largestBuffered <= 16 * 1024 + 64 * 1024)
        }
    }

    @Test func anUnreadBodyIsSkippedAndTheConnectionKept() async throws {
        try await Self.withServer { server, _ in
            let client = try RawClient(port: server.port)
            try await client.send("POST /ignore-body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789")
            let response = try await client.readResponse()
            #expect(response.text == "ignored")
            #expect(response.field("Connection") == nil)
            try await client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await client.readResponse().text == "hello")
        }
    }

    @Test func anUnreadBodyOverTheDrainLimitClosesTheConnection() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.maxBodyDrain = 1000
        try await Self.withServer(configuration: configuration) { server, _ in
            let client = try RawClient(port: server.port)
            let body = [UInt8](repeating: 0x30, count: 500_000)
            try await client.send(
                Array("POST /ignore-body HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n".utf8) + body
            )
            #expect(try await client.readResponse().text == "ignored")
            #expect(try await client.isClosedByPeer())
        }
    }

    @Test func expectContinueSendsContinueWhenTheHandlerReads() async throws {
        try await Self.withServer { server, _ in
            let client = try RawClient(port: server.port)
            try await client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            let interim = try await client.readResponse()
            #expect(interim.status == 100)
            try await client.send("data")
            let final = try await client.readResponse()
            #expect(final.status == 200)
            #expect(final.text == "data")
        }
    }

    @Test func expectContinueGetsAFinalAnswerWhenTheHandlerDoesNotRead() async throws {
        try await Self.withServer { server, _ in
            let client = try RawClient(port: server.port)
            try await client.send(
                "POST /ignore-body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
            )
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.field("Connection") == "close")
            #expect(try await client.isClosedByPeer())
        }
    }

    @Test func http10ClosesUnlessKeepAliveAndDelimitsStreamsByTheClose() async throws {
        try await Self.withServer { server, _ in
            let kept = try RawClient(port: server.port)
            try await kept.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let first = try await kept.readResponse()
            #expect(first.field("Connection") == "keep-alive")
            try await kept.send("GET / HTTP/1.0\r\n\r\n")
            let second = try await kept.readResponse()
            #expect(second.field("Connection") == "close")
            #expect(try await kept.isClosedByPeer())

            let streamed = try RawClient(port: server.port)
            try await streamed.send("GET /stream HTTP/1.0\r\n\r\n")
            let response = try await streamed.readResponse()
            #expect(response.text == "abc")
            #expect(response.field("Transfer-Encoding") == nil)
            #expect(response.field("Content-Length") == nil)
        }
    }

    @Test func aHandlerErrorIsA500WithoutDetailsAndTheConnectionStays() async throws {
        try await Self.withServer { server, _ in
            let client = try RawClient(port: server.port)
            try await client.send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n")
            let failed = try await client.readResponse()
            #expect(failed.status == 500)
            #expect(failed.text == "500: Internal Server Error")
            #expect(!failed.text.contains("TestFailure"))
            try await client.send("GET /forbidden HTTP/1.1\r\nHost: x\r\n\r\n")
            let forbidden = try await client.readResponse()
            #expect(forbidden.status == 403)
            #expect(forbidden.text == "nope")
            try await client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await client.readResponse().text == "hello")
        }
    }

    @Test func aHandlerErrorAfterTheResponseStartedCutsItShortAndCloses() async throws {
        try await Self.withServer { server, _ in
            let client = try RawClient(port: server.port)
            try await client.send("GET /throw-after-start HTTP/1.1\r\nHost: x\r\n\r\n")
            var received: [UInt8] = []
            while true {
                let bytes = try await client.receiveSome()
                if bytes.isEmpty { break }
                received += bytes
            }
            let text = String(decoding: received, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(text.contains("7\r\npartial\r\n"))
            #expect(!text.hasSuffix("0\r\n\r\n"))  // no last chunk: the client sees it cut short
        }
    }

    @Test func aClientThatDisconnectsCancelsItsHandler() async throws {
        try await Self.withServer { server, recorder in
            let client = try RawClient(port: server.port)
            try await client.send("GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await recorder.waitFor { $0 == "sleeping" })
            client.reset()
            #expect(try await recorder.waitFor { $0 == "sleep ended: CancelledError" })
            // The server goes on.
            let other = try RawClient(port: server.port)
            try await other.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await other.readResponse().text == "hello")
        }
    }

    @Test func aClientThatVanishesMidBodyFailsTheBodyRead() async throws {
        try await Self.withServer { server, recorder in
            let client = try RawClient(port: server.port)
            try await client.send("POST /read-body-then-fail HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf")
            try await Task.sleep(for: .milliseconds(50))
            client.reset()
            #expect(try await recorder.waitFor { $0.hasPrefix("body failed") })
            #expect(!recorder.all.contains("body complete"))
            #expect(try await Self.eventually { try await server.connectionCount() == 0 })
        }
    }

    @Test func aClientThatHalfClosesStillGetsItsAnswer() async throws {
        try await Self.withServer { server, _ in
            let client = try RawClient(port: server.port)
            try await client.send("GET /short-sleep HTTP/1.1\r\nHost: x\r\n\r\n")
            client.shutdownWrite()
            let response = try await client.readResponse()
            #expect(response.text == "done")
            #expect(response.field("Connection") == "close")
            #expect(try await client.isClosedByPeer())
        }
    }

    @Test func aClientThatNeverReadsCostsNoMoreThanTheWaterMarksAndIsDropped() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.writeTimeout = .milliseconds(500)
        try await Self.withServer(configuration: configuration) { server, recorder in
            let client = try RawClient(port: server.port)
            try await client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await recorder.waitFor(seconds: 20) { $0.hasPrefix("big write failed") })
            // The transport buffered at most one write over the high-water mark (64 KiB).
            #expect(recorder.largestBuffered <= 64 * 1024 + 64 * 1024)
            #expect(try await Self.eventually { try await server.connectionCount() == 0 })
        }
    }

    @Test func aHeadThatTricklesInIsCutOffWith408() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.headerTimeout = .milliseconds(500)
        try await Self.withServer(configuration: configuration) { server, _ in
            let client = try RawClient(port: server.port)
            try await client.send("GET / HTTP/1.1\r\n")
            let deadline = Date().addingTimeInterval(20)
            var answer: [UInt8] = []
            // One byte every 100 ms, as long as the server listens.
            while Date() < deadline {
                do {
                    try await client.send("X")
                } catch {
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
                if try await server.connectionCount() == 0 { break }
            }
            while let bytes = try? await client.receiveSome(), !bytes.isEmpty { answer += bytes }
            #expect(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        }
    }

    @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.idleTimeout = .milliseconds(300)
        try await Self.withServer(configuration: configuration) { server, _ in
            let client = try RawClient(port: server.port)
            try await client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await client.readResponse().text == "hello")
            #expect(try await client.isClosedByPeer())
        }
    }

    @Test func connectionsPastTheLingeringTaskBudgetStillServeEveryRequest() async throws {
        // With no budget every idle connection lets its handler task go at once: each request
        // (sequential, pipelined, on several connections at once) gets a task again.
        var configuration = HTTPServerConfiguration()
        configuration.maxLingeringHandlerTasks = 0
        try await Self.withServer(configuration: configuration) { server, _ in
            let clients = try (0..<3).map { _ in try RawClient(port: server.port) }
            for _ in 0..<3 {
                for client in clients { try await client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n") }
                for client in clients { #expect(try await client.readResponse().text == "hello") }
            }
            try await clients[0].send("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await clients[0].readResponse().text == "hello")
            #expect(try await clients[0].readResponse().text == "hello")
        }
    }

    @Test func theLastOfMaxRequestsSaysClose() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.maxRequestsPerConnection = 2
        try await Self.withServer(configuration: configuration) { server, _ in
            let client = try RawClient(port: server.port)
            try await client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await client.readResponse().field("Connection") == nil)
            #expect(try await client.readResponse().field("Connection") == "close")
            #expect(try await client.isClosedByPeer())
        }
    }

    /// Polls `condition` every 10 ms for up to `seconds`.
    static func eventually(seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }
}

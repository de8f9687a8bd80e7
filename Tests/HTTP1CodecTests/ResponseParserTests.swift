import HTTP1Codec
import HTTPTypes
import Testing

/// One response-parser vector: the request kind it answers, bytes in, events and error out.
struct ResponseVector: Sendable, CustomStringConvertible {
    var name: String
    var method: ResponseParser.RequestMethod
    var wire: String
    var events: [TestEvent]
    var error: HTTPParseError?

    var description: String { name }
}

private func head(
    _ start: String,
    _ framing: BodyFraming,
    keepAlive: Bool = true,
    _ fields: [String]
) -> TestEvent {
    .head(TestEvent.Head(start: start, framing: framing, keepAlive: keepAlive, fields: fields))
}

let responseVectors: [ResponseVector] = [
    ResponseVector(
        name: "Content-Length",
        method: .other,
        wire: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        events: [head("http1_1 200 OK", .contentLength(5), ["Content-Length: 5"]), .body("hello"), .end(trailers: nil)]
    ),
    ResponseVector(
        name: "chunked with trailers",
        method: .other,
        wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nEtag: x\r\n\r\n",
        events: [
            head("http1_1 200 OK", .chunked, ["Transfer-Encoding: chunked"]), .body("hi"), .end(trailers: ["Etag: x"]),
        ]
    ),
    ResponseVector(
        name: "response to HEAD has no body",
        method: .head,
        wire: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        events: [head("http1_1 200 OK", .none, ["Content-Length: 10"]), .end(trailers: nil)]
    ),
    ResponseVector(
        name: "204 has no body",
        method: .other,
        wire: "HTTP/1.1 204 No Content\r\n\r\n",
        events: [head("http1_1 204 No Content", .none, []), .end(trailers: nil)]
    ),
    ResponseVector(
        name: "304 has no body despite Content-Length",
        method: .other,
        wire: "HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\n\r\n",
        events: [head("http1_1 304 Not Modified", .none, ["Content-Length: 42"]), .end(trailers: nil)]
    ),
    ResponseVector(
        name: "100 Continue, then the final response",
        method: .other,
        wire: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        events: [
            head("http1_1 100 Continue", .none, []), .end(trailers: nil),
            head("http1_1 201 Created", .contentLength(0), ["Content-Length: 0"]), .end(trailers: nil),
        ]
    ),
    ResponseVector(
        name: "close-delimited body",
        method: .other,
        wire: "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of this until close",
        events: [
            head("http1_1 200 OK", .untilClose, keepAlive: false, ["Server: x"]), .body("all of this until close"),
            .end(trailers: nil),
        ]
    ),
    ResponseVector(
        name: "Transfer-Encoding not ending in chunked is close-delimited",
        method: .other,
        wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz",
        events: [
            head("http1_1 200 OK", .untilClose, keepAlive: false, ["Transfer-Encoding: gzip"]), .body("zzz"),
            .end(trailers: nil),
        ]
    ),
    ResponseVector(
        name: "HTTP/1.0 response closes by default",
        method: .other,
        wire: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
        events: [
            head("http1_0 200 OK", .contentLength(1), keepAlive: false, ["Content-Length: 1"]), .body("x"),
            .end(trailers: nil),
        ]
    ),
    ResponseVector(
        name: "empty reason phrase",
        method: .other,
        wire: "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
        events: [head("http1_1 404 ", .contentLength(0), ["Content-Length: 0"]), .end(trailers: nil)]
    ),
    ResponseVector(
        name: "101 Switching Protocols stops the parser",
        method: .other,
        wire: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\u{81}\u{0}",
        events: [
            head("http1_1 101 Switching Protocols", .none, ["Upgrade: websocket", "Connection: upgrade"]),
            .end(trailers: nil),
        ]
    ),
    ResponseVector(
        name: "2xx to CONNECT starts a tunnel",
        method: .connect,
        wire: "HTTP/1.1 200 Connection established\r\n\r\ntunnel bytes",
        events: [head("http1_1 200 Connection established", .none, []), .end(trailers: nil)]
    ),
    ResponseVector(
        name: "CL with TE",
        method: .other,
        wire: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        events: [],
        error: .contentLengthWithTransferEncoding
    ),
    ResponseVector(
        name: "duplicate Content-Length",
        method: .other,
        wire: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        events: [],
        error: .duplicateContentLength
    ),
    ResponseVector(
        name: "status line without the second space",
        method: .other,
        wire: "HTTP/1.1 200\r\n\r\n",
        events: [],
        error: .invalidStartLine
    ),
    ResponseVector(
        name: "two-digit status",
        method: .other,
        wire: "HTTP/1.1 20 OK\r\n\r\n",
        events: [],
        error: .invalidStartLine
    ),
    ResponseVector(
        name: "reason phrase with a bare CR",
        method: .other,
        wire: "HTTP/1.1 200 O\rK\r\n\r\n",
        events: [],
        error: .bareCR
    ),
    ResponseVector(
        name: "HTTP/2.0 status line",
        method: .other,
        wire: "HTTP/2.0 200 OK\r\n\r\n",
        events: [],
        error: .unsupportedVersion
    ),
    // Found by the fuzzer in its first seconds: an empty line before a status line made the
    // split path see a CRLF CRLF before the 13 bytes a status line needs.
    ResponseVector(
        name: "empty lines before a status line",
        method: .other,
        wire: "\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
        events: [],
        error: .invalidVersion
    ),
    ResponseVector(
        name: "a request line where a status line belongs (fuzzer crasher)",
        method: .other,
        wire: "GET /\r\n\r\n",
        events: [],
        error: .invalidVersion
    ),
    ResponseVector(
        name: "body cut short",
        method: .other,
        wire: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
        events: [head("http1_1 200 OK", .contentLength(9), ["Content-Length: 9"]), .body("abc")],
        error: .unexpectedEOF
    ),
]

@Suite struct ResponseParserTests {
    @Test(arguments: responseVectors, Split.allCases)
    func responseGivesTheSameEventsForEverySplit(vector: ResponseVector, split: Split) {
        let outcome = runResponseParser(split.pieces(Array(vector.wire.utf8)), method: vector.method)
        #expect(outcome == Outcome(events: vector.events, error: vector.error))
    }

    @Test func tunnelBytesAfterASwitchAreHandedBack() throws {
        var parser = ResponseParser()
        parser.feed(Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\nABC".utf8))
        guard case .head(let head)? = try parser.next(requestMethod: .other) else {
            Issue.record("no head")
            return
        }
        #expect(head.statusCode == 101)
        guard case .end? = try parser.next(requestMethod: .other) else {
            Issue.record("no end")
            return
        }
        #expect(try parser.next(requestMethod: .other) == nil)
        #expect(parser.takeUnconsumedBytes() == Array("ABC".utf8))
    }

    @Test func headConvertsToHTTPResponse() throws {
        var parser = ResponseParser()
        parser.feed(Array("HTTP/1.1 418 I'm a teapot\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n".utf8))
        guard case .head(let head)? = try parser.next(requestMethod: .other) else {
            Issue.record("no head")
            return
        }
        let response = head.makeHTTPResponse()
        #expect(response.status.code == 418)
        #expect(response.status.reasonPhrase == "I'm a teapot")
        #expect(response.headerFields[.contentType] == "text/plain")
    }
}

import HTTP1Codec

/// One request-parser vector: bytes in, events and the exact error (if any) out.
struct RequestVector: Sendable, CustomStringConvertible {
    var name: String
    var bytes: [UInt8]
    var events: [TestEvent]
    var error: HTTPParseError?
    var limits = HTTPParserLimits.default

    var description: String { name }
    var outcome: Outcome { Outcome(events: events, error: error) }
}

// TestEvent holds only value types; Swift Testing needs Sendable arguments.
extension TestEvent: @unchecked Sendable {}

private func head(
    _ start: String,
    _ framing: BodyFraming = .none,
    keepAlive: Bool = true,
    expectsContinue: Bool = false,
    isUpgrade: Bool = false,
    _ fields: [String]
) -> TestEvent {
    .head(
        TestEvent.Head(
            start: start,
            framing: framing,
            keepAlive: keepAlive,
            expectsContinue: expectsContinue,
            isUpgrade: isUpgrade,
            fields: fields
        )
    )
}

private func head(_ start: String, _ fields: [String]) -> TestEvent {
    head(start, .none, fields)
}

private func ok(_ name: String, _ wire: String, _ events: [TestEvent]) -> RequestVector {
    RequestVector(name: name, bytes: Array(wire.utf8), events: events)
}

private func bad(
    _ name: String,
    _ wire: [UInt8],
    _ error: HTTPParseError,
    events: [TestEvent] = [],
    limits: HTTPParserLimits = .default
) -> RequestVector {
    RequestVector(name: name, bytes: wire, events: events, error: error, limits: limits)
}

private func bad(
    _ name: String,
    _ wire: String,
    _ error: HTTPParseError,
    events: [TestEvent] = [],
    limits: HTTPParserLimits = .default
) -> RequestVector {
    bad(name, Array(wire.utf8), error, events: events, limits: limits)
}

/// Requests every strict HTTP/1.1 server must accept, with the events they produce.
let validRequestVectors: [RequestVector] = [
    ok("minimal GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", [head("GET / http1_1", ["Host: a"]), .end(trailers: nil)]),
    ok(
        "POST with Content-Length",
        "POST /p?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        [
            head("POST /p?q=1 http1_1", .contentLength(5), ["Host: a", "Content-Length: 5"]), .body("hello"),
            .end(trailers: nil),
        ]
    ),
    ok(
        "Content-Length 0",
        "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        [head("PUT /x http1_1", .contentLength(0), ["Host: a", "Content-Length: 0"]), .end(trailers: nil)]
    ),
    ok(
        "chunked with extensions and trailers",
        "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value;q=\"x y\"\r\nhello\r\n0006\r\n world\r\nA \t; e\r\n0123456789\r\n"
            + "0\r\nX-Checksum: abc\r\nX-Other:  two \r\n\r\n",
        [
            head("POST /u http1_1", .chunked, ["Host: a", "Transfer-Encoding: chunked"]),
            .body("hello world0123456789"),
            .end(trailers: ["X-Checksum: abc", "X-Other: two"]),
        ]
    ),
    ok(
        "chunked without trailers, mixed-case coding",
        "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        [
            head("POST /u http1_1", .chunked, ["Host: a", "Transfer-Encoding: ChUnKeD"]), .body("abc"),
            .end(trailers: []),
        ]
    ),
    ok(
        "HTTP/1.0 closes by default and needs no Host",
        "GET /old HTTP/1.0\r\n\r\n",
        [head("GET /old http1_0", keepAlive: false, []), .end(trailers: nil)]
    ),
    ok(
        "HTTP/1.0 with Connection: keep-alive",
        "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
        [head("GET / http1_0", keepAlive: true, ["Connection: Keep-Alive"]), .end(trailers: nil)]
    ),
    ok(
        "HTTP/1.1 with Connection: close",
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n",
        [head("GET / http1_1", keepAlive: false, ["Host: a", "Connection: foo, close"]), .end(trailers: nil)]
    ),
    ok(
        "absolute-form target",
        "GET http://example.com:8080/a?b HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
        [head("GET http://example.com:8080/a?b http1_1", ["Host: example.com:8080"]), .end(trailers: nil)]
    ),
    ok(
        "CONNECT authority-form",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        [head("CONNECT example.com:443 http1_1", ["Host: example.com:443"]), .end(trailers: nil)]
    ),
    ok(
        "OPTIONS asterisk-form",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        [head("OPTIONS * http1_1", ["Host: a"]), .end(trailers: nil)]
    ),
    ok(
        "Expect: 100-continue",
        "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nhi",
        [
            head(
                "PUT /f http1_1",
                .contentLength(2),
                expectsContinue: true,
                ["Host: a", "Expect: 100-Continue", "Content-Length: 2"]
            ),
            .body("hi"), .end(trailers: nil),
        ]
    ),
    ok(
        "Upgrade: websocket",
        "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
        [
            head(
                "GET /ws http1_1",
                isUpgrade: true,
                ["Host: a", "Connection: keep-alive, Upgrade", "Upgrade: websocket"]
            ),
            .end(trailers: nil),
        ]
    ),
    ok(
        "Upgrade without the connection option is not an upgrade",
        "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
        [head("GET /ws http1_1", ["Host: a", "Upgrade: websocket"]), .end(trailers: nil)]
    ),
    ok(
        "empty lines before the request line are skipped",
        "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        [head("GET / http1_1", ["Host: a"]), .end(trailers: nil)]
    ),
    ok(
        "empty value, tabs as whitespace, unusual token method",
        "M-SEARCH / HTTP/1.1\r\nHost:\r\nX-Empty:\t \r\nX-Tab:\ta\tb\t\r\n\r\n",
        [head("M-SEARCH / http1_1", ["Host: ", "X-Empty: ", "X-Tab: a\tb"]), .end(trailers: nil)]
    ),
    RequestVector(
        name: "obs-text in a field value",
        bytes: Array("GET / HTTP/1.1\r\nHost: a\r\nX-Latin: caf".utf8) + [0xE9] + Array("\r\n\r\n".utf8),
        events: [head("GET / http1_1", ["Host: a", "X-Latin: caf\u{FFFD}"]), .end(trailers: nil)]
    ),
]

/// Requests a strict server must refuse, with the exact error (and events before it).
let invalidRequestVectors: [RequestVector] = [
    // Request smuggling: framing disagreements.
    bad(
        "CL.TE",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX",
        .contentLengthWithTransferEncoding
    ),
    bad(
        "TE.CL",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
        .contentLengthWithTransferEncoding
    ),
    bad(
        "duplicate Content-Length, equal",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        .duplicateContentLength
    ),
    bad(
        "duplicate Content-Length, different",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\nhello!",
        .duplicateContentLength
    ),
    bad("Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", .invalidContentLength),
    bad("Content-Length with sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", .invalidContentLength),
    bad("Content-Length negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", .invalidContentLength),
    bad("Content-Length hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", .invalidContentLength),
    bad("Content-Length empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", .invalidContentLength),
    bad(
        "Content-Length overflow",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
        .invalidContentLength
    ),
    bad(
        "Transfer-Encoding: chunked, identity",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
        .invalidTransferEncoding
    ),
    bad(
        "Transfer-Encoding: xchunked",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
        .invalidTransferEncoding
    ),
    bad(
        "Transfer-Encoding: chunked twice over two lines",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        .invalidTransferEncoding
    ),
    bad(
        "Transfer-Encoding with an empty element",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked\r\n\r\n",
        .invalidTransferEncoding
    ),
    bad(
        "Transfer-Encoding: gzip, chunked is not implemented",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        .unsupportedTransferCoding
    ),
    bad(
        "Transfer-Encoding in HTTP/1.0",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        .transferEncodingInHTTP10
    ),
    // Chunked body syntax.
    bad(
        "chunk size with a sign",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
        .invalidChunkSize,
        events: [head("POST / http1_1", .chunked, ["Host: a", "Transfer-Encoding: chunked"])]
    ),
    bad(
        "chunk size with 0x",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        .invalidChunkSize,
        events: [head("POST / http1_1", .chunked, ["Host: a", "Transfer-Encoding: chunked"])]
    ),
    bad(
        "chunk size missing",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n;ext\r\n",
        .invalidChunkSize,
        events: [head("POST / http1_1", .chunked, ["Host: a", "Transfer-Encoding: chunked"])]
    ),
    bad(
        "chunk size overflow",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n",
        .chunkSizeOverflow,
        events: [head("POST / http1_1", .chunked, ["Host: a", "Transfer-Encoding: chunked"])],
        limits: HTTPParserLimits(maxBodyLength: .max)
    ),
    bad(
        "chunk size over the body limit",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n",
        .bodyTooLarge,
        events: [head("POST / http1_1", .chunked, ["Host: a", "Transfer-Encoding: chunked"])]
    ),
    bad(
        "chunk extension with a bare LF",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\nhello\r\n0\r\n\r\n",
        .bareLF,
        events: [head("POST / http1_1", .chunked, ["Host: a", "Transfer-Encoding: chunked"])]
    ),
    bad(
        "chunk size line ended by a bare LF",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        .bareLF,
        events: [head("POST / http1_1", .chunked, ["Host: a", "Transfer-Encoding: chunked"])]
    ),
    bad(
        "chunk data longer than its size",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
        .invalidChunkTerminator,
        events: [head("POST / http1_1", .chunked, ["Host: a", "Transfer-Encoding: chunked"]), .body("hel")]
    ),
    bad(
        "trailer with obs-fold",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n",
        .obsoleteLineFolding,
        events: [head("POST / http1_1", .chunked, ["Host: a", "Transfer-Encoding: chunked"])]
    ),
    // Line endings and field syntax.
    bad("bare CR in a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", .bareCR),
    bad("bare LF ending a field line", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", .bareLF),
    bad("bare LF ending the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", .bareLF),
    bad("bare LF as the empty line", "GET / HTTP/1.1\r\nHost: a\r\n\n", .bareLF),
    bad("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-Long: a\r\n  b\r\n\r\n", .obsoleteLineFolding),
    bad("space before colon", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello", .whitespaceBeforeColon),
    bad("tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", .whitespaceBeforeColon),
    bad("field line without colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", .invalidFieldName),
    bad("empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", .invalidFieldName),
    bad("non-token field name", "GET / HTTP/1.1\r\nHost: a\r\nX(y): v\r\n\r\n", .invalidFieldName),
    bad(
        "NUL in a field value",
        Array("GET / HTTP/1.1\r\nHost: a\r\nX: a".utf8) + [0] + Array("b\r\n\r\n".utf8),
        .invalidFieldValue
    ),
    bad(
        "DEL in a field value",
        Array("GET / HTTP/1.1\r\nHost: a\r\nX: a".utf8) + [0x7F] + Array("\r\n\r\n".utf8),
        .invalidFieldValue
    ),
    bad("vertical tab in a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0B}b\r\n\r\n", .invalidFieldValue),
    // Request line.
    bad("invalid method token", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
    bad("empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
    bad("two spaces in the request line", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidStartLine),
    bad("fragment in the target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestTarget),
    bad(
        "DEL in the target",
        Array("GET /a".utf8) + [0x7F] + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8),
        .invalidRequestTarget
    ),
    bad(
        "non-ASCII in the target",
        Array("GET /".utf8) + [0xC3, 0xA9] + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8),
        .invalidRequestTarget
    ),
    bad("asterisk target on GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestTarget),
    bad("CONNECT with origin-form", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestTarget),
    bad("CONNECT without port", "CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestTarget),
    bad("relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidRequestTarget),
    bad("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion),
    bad("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", .unsupportedVersion),
    bad("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", .invalidVersion),
    bad("version with trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .invalidVersion),
    bad("HTTP/0.9 style request", "GET /\r\n\r\n", .invalidStartLine),
    // Host.
    bad("missing Host on HTTP/1.1", "GET / HTTP/1.1\r\nX: y\r\n\r\n", .missingHost),
    bad("duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .duplicateHost),
    bad("duplicate Host on HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", .duplicateHost),
    bad("Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .invalidHost),
    bad("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", .invalidHost),
    // Limits.
    bad(
        "over-long request line",
        "GET /" + String(repeating: "a", count: 8200) + " HTTP/1.1\r\nHost: a\r\n\r\n",
        .requestLineTooLong
    ),
    bad(
        "over-long field line",
        "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "b", count: 8200) + "\r\n\r\n",
        .fieldLineTooLong
    ),
    bad(
        "header-count flood",
        "GET / HTTP/1.1\r\nHost: a\r\n" + String(repeating: "X: y\r\n", count: 100) + "\r\n",
        .tooManyFields
    ),
    bad(
        "head over 64 KiB",
        "GET / HTTP/1.1\r\nHost: a\r\n"
            + String(repeating: "X: " + String(repeating: "c", count: 8000) + "\r\n", count: 9)
            + "\r\n",
        .headTooLarge
    ),
    bad(
        "endless request line",
        "GET /" + String(repeating: "a", count: 70000),
        .requestLineTooLong
    ),
    // Found by the fuzzer: with a head limit below the request-line limit, the error depended
    // on how far the input reached. Now the limit crossed first wins, for every split.
    bad(
        "endless request line with a small head limit",
        "GET /" + String(repeating: "a", count: 5000),
        .headTooLarge,
        limits: HTTPParserLimits(maxHeadLength: 4096)
    ),
    bad(
        "endless field line with a small head limit",
        "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 5000),
        .headTooLarge,
        limits: HTTPParserLimits(maxHeadLength: 4096)
    ),
    bad(
        "version straddling a small head limit (fuzzer crasher)",
        "GET /" + String(repeating: "a", count: 4089) + " HTTP/1.1\r\nHost: a\r\n\r\n",
        .headTooLarge,
        limits: HTTPParserLimits(maxHeadLength: 4096)
    ),
    bad(
        "bare CR just past a small head limit",
        "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 4077) + "\rZ\r\n\r\n",
        .headTooLarge,
        limits: HTTPParserLimits(maxHeadLength: 4096)
    ),
    bad(
        "endless empty lines",
        String(repeating: "\r\n", count: 40000),
        .headTooLarge
    ),
    bad(
        "Content-Length over the body limit",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n",
        .bodyTooLarge
    ),
    // End of stream.
    bad(
        "connection closed inside a body",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc",
        .unexpectedEOF,
        events: [head("POST / http1_1", .contentLength(10), ["Host: a", "Content-Length: 10"]), .body("abc")]
    ),
    bad("connection closed inside a head", "GET / HTTP/1.1\r\nHost: a\r\n", .unexpectedEOF),
]

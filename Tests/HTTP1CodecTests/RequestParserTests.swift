import HTTP1Codec
import HTTPTypes
import Testing

@Suite struct RequestParserTests {
    @Test(arguments: validRequestVectors, Split.allCases)
    func validRequestGivesTheSameEventsForEverySplit(vector: RequestVector, split: Split) {
        #expect(runRequestParser(split.pieces(vector.bytes), limits: vector.limits) == vector.outcome)
    }

    @Test(arguments: invalidRequestVectors, Split.allCases)
    func invalidRequestFailsWithTheExactErrorForEverySplit(vector: RequestVector, split: Split) {
        #expect(runRequestParser(split.pieces(vector.bytes), limits: vector.limits) == vector.outcome)
    }

    @Test(arguments: Split.allCases)
    func pipelinedValidRequestsComeOutInOrder(split: Split) {
        let all = validRequestVectors.flatMap(\.bytes)
        let expected = validRequestVectors.flatMap(\.events)
        #expect(runRequestParser(split.pieces(all)) == Outcome(events: expected, error: nil))
    }

    @Test func everyTwoWaySplitOfThePipelineGivesTheSameEvents() {
        let all = validRequestVectors.prefix(6).flatMap(\.bytes)
        let expected = runRequestParser([all])
        for cut in 0...all.count {
            #expect(runRequestParser([Array(all[..<cut]), Array(all[cut...])]) == expected, "cut at \(cut)")
        }
    }

    @Test func errorStatusesMatchTheRFC() {
        #expect(HTTPParseError.requestLineTooLong.status == 414)
        #expect(HTTPParseError.tooManyFields.status == 431)
        #expect(HTTPParseError.fieldLineTooLong.status == 431)
        #expect(HTTPParseError.headTooLarge.status == 431)
        #expect(HTTPParseError.bodyTooLarge.status == 413)
        #expect(HTTPParseError.unsupportedVersion.status == 505)
        #expect(HTTPParseError.unsupportedTransferCoding.status == 501)
        #expect(HTTPParseError.contentLengthWithTransferEncoding.status == 400)
        #expect(HTTPParseError.bareLF.status == 400)
    }

    @Test func parserStaysFailedAfterAnError() throws {
        var parser = RequestParser()
        parser.feed(Array("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.duplicateHost) { try parser.next() }
        #expect(throws: HTTPParseError.duplicateHost) { try parser.next() }
    }

    @Test func bodyIsASliceOfTheFedArray() throws {
        var parser = RequestParser()
        let wire = Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc".utf8)
        parser.feed(wire)
        guard case .head(let head)? = try parser.next() else {
            Issue.record("no head")
            return
        }
        #expect(head.bytes.startIndex == 0)
        guard case .body(let body)? = try parser.next() else {
            Issue.record("no body")
            return
        }
        #expect(body.startIndex == wire.count - 3)
        #expect(Array(body) == Array("abc".utf8))
    }

    @Test func unconsumedBytesAfterAnUpgradeAreHandedBack() throws {
        var parser = RequestParser()
        parser.feed(Array("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n\u{1}\u{2}".utf8))
        guard case .head(let head)? = try parser.next() else {
            Issue.record("no head")
            return
        }
        #expect(head.isUpgrade)
        guard case .end(nil)? = try parser.next() else {
            Issue.record("no end")
            return
        }
        #expect(parser.takeUnconsumedBytes() == [1, 2])
    }

    @Test func feedingAgainBeforeDrainingKeepsEveryByteInOrder() throws {
        var parser = RequestParser()
        parser.feed(Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab".utf8))
        parser.feed(Array("cdGET /next HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        #expect(parser.hasPendingBytes)
        var log: [String] = []
        while let event = try parser.next() {
            switch event {
            case .head(let head): log.append("head \(head.target)")
            case .body(let bytes): log.append("body \(text(bytes))")
            case .end: log.append("end")
            }
        }
        #expect(log == ["head /", "body abcd", "end", "head /next", "end"])
        #expect(!parser.hasPendingBytes)
    }

    @Test func fieldsAreFoundByNameIgnoringCase() throws {
        var parser = RequestParser()
        parser.feed(Array("GET / HTTP/1.1\r\nHost: a\r\nX-Trace-Id:  abc \r\nAccept: */*\r\n\r\n".utf8))
        guard case .head(let head)? = try parser.next() else {
            Issue.record("no head")
            return
        }
        #expect(head.fields.first(named: "x-trace-id").map(text) == "abc")
        #expect(head.fields.first(named: "ACCEPT").map(text) == "*/*")
        #expect(head.fields.first(named: "Cookie") == nil)
        #expect(head.hostBytes.map(text) == "a")
        #expect(head.fields.count == 3)
    }

    @Test func aCleanCloseBetweenRequestsIsNotAnError() throws {
        var parser = RequestParser()
        parser.feed(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n".utf8))
        guard case .head? = try parser.next(), case .end? = try parser.next() else {
            Issue.record("no request")
            return
        }
        parser.finish()
        #expect(try parser.next() == nil)
    }

    @Test func oneByteFeedsOfAHugeHeadStayLinearAndBounded() {
        let wire = Array(
            ("GET / HTTP/1.1\r\nHost: a\r\n" + String(repeating: "X-Field: value\r\n", count: 99) + "\r\n").utf8
        )
        let outcome = runRequestParser(Split.byteByByte.pieces(wire))
        #expect(outcome.error == nil)
        #expect(outcome.events.count == 2)
    }
}

@Suite struct HTTPRequestConversionTests {
    private func request(_ wire: String) throws -> HTTPRequest {
        var parser = RequestParser()
        parser.feed(Array(wire.utf8))
        guard case .head(let head)? = try parser.next() else { throw HTTPParseError.unexpectedEOF }
        return head.makeHTTPRequest()
    }

    @Test func originFormTakesTheAuthorityFromHost() throws {
        let r = try request("GET /a?b HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
        #expect(r.method == .get)
        #expect(r.scheme == "http")
        #expect(r.authority == "example.com")
        #expect(r.path == "/a?b")
        #expect(r.headerFields[.accept] == "*/*")
        #expect(r.headerFields.count == 1)
    }

    @Test func absoluteFormTakesSchemeAuthorityAndPathFromTheTarget() throws {
        let r = try request("GET HTTPS://example.com:8443?x HTTP/1.1\r\nHost: other\r\n\r\n")
        #expect(r.scheme == "https")
        #expect(r.authority == "example.com:8443")
        #expect(r.path == "/?x")
    }

    @Test func connectHasOnlyAnAuthority() throws {
        let r = try request("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        #expect(r.method == .connect)
        #expect(r.scheme == nil)
        #expect(r.path == nil)
        #expect(r.authority == "example.com:443")
    }

    @Test func optionsAsteriskKeepsTheAsteriskPath() throws {
        let r = try request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(r.method == .options)
        #expect(r.path == "*")
    }
}

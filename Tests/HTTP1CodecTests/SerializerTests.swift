import HTTP1Codec
import HTTPTypes
import Testing

@Suite struct SerializerTests {
    @Test func responseHeadIsWrittenExactly() throws {
        var out: [UInt8] = []
        var response = HTTPResponse(status: .ok)
        response.headerFields[.contentType] = "text/plain"
        response.headerFields[.contentLength] = "5"
        try HTTP1Serializer.writeResponseHead(response, into: &out)
        #expect(text(out) == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n")
    }

    @Test func requestHeadPutsHostFirst() throws {
        var out: [UInt8] = []
        var request = HTTPRequest(method: .post, scheme: "http", authority: "example.com", path: "/a?b")
        request.headerFields[.transferEncoding] = "chunked"
        try HTTP1Serializer.writeRequestHead(request, into: &out)
        #expect(text(out) == "POST /a?b HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n")
    }

    @Test(arguments: [
        ("X-Injected", "a\r\nSet-Cookie: evil=1"),
        ("X-Injected", "a\nb"),
        ("X-Injected", "a\rb"),
        ("X-Injected", "a\u{0}b"),
        ("Bad\r\nName", "v"),
        ("Bad Name", "v"),
        ("", "v"),
    ])
    func responseSplittingInAFieldIsRefusedAndLeavesTheBufferAlone(name: String, value: String) {
        var out = Array("previous".utf8)
        #expect(throws: HTTPSerializeError.self) {
            try HTTP1Serializer.writeResponseHead(
                statusCode: 200,
                reasonPhrase: "OK",
                fields: [(name, value)],
                into: &out
            )
        }
        #expect(text(out) == "previous")
    }

    @Test func responseSplittingInTheReasonPhraseIsRefused() {
        var out: [UInt8] = []
        #expect(throws: HTTPSerializeError.invalidReasonPhrase) {
            try HTTP1Serializer.writeResponseHead(
                statusCode: 200,
                reasonPhrase: "OK\r\n\r\n<html>",
                fields: [(String, String)](),
                into: &out
            )
        }
        #expect(out.isEmpty)
    }

    @Test func requestLineInjectionIsRefused() {
        var out: [UInt8] = []
        #expect(throws: HTTPSerializeError.invalidTarget) {
            try HTTP1Serializer.writeRequestHead(
                method: "GET",
                target: "/ HTTP/1.1\r\nHost: evil\r\n\r\nGET /",
                fields: [(String, String)](),
                into: &out
            )
        }
        #expect(throws: HTTPSerializeError.invalidMethod) {
            try HTTP1Serializer.writeRequestHead(method: "G T", target: "/", fields: [(String, String)](), into: &out)
        }
        #expect(out.isEmpty)
    }

    @Test func chunkedBodyWithTrailersRoundTripsThroughTheParser() throws {
        var out: [UInt8] = []
        try HTTP1Serializer.writeRequestHead(
            method: "POST",
            target: "/up",
            fields: [("Host", "a"), ("Transfer-Encoding", "chunked")],
            into: &out
        )
        var body = BodyWriter(framing: .chunked)
        try body.write(Array(repeating: UInt8(ascii: "x"), count: 300), into: &out)
        try body.write([UInt8](), into: &out)
        try body.write(Array("tail".utf8), into: &out)
        var trailers = HTTPFields()
        trailers[HTTPField.Name("X-Checksum")!] = "42"
        try body.finish(trailers: trailers, into: &out)
        #expect(text(out).contains("12c\r\n"))
        let outcome = runRequestParser([out])
        #expect(
            outcome.events == [
                .head(
                    TestEvent.Head(
                        start: "POST /up http1_1",
                        framing: .chunked,
                        keepAlive: true,
                        fields: ["Host: a", "Transfer-Encoding: chunked"]
                    )
                ),
                .body(String(repeating: "x", count: 300) + "tail"),
                .end(trailers: ["X-Checksum: 42"]),
            ]
        )
        #expect(outcome.error == nil)
    }

    @Test func contentLengthBodyMustMatchItsLength() throws {
        var out: [UInt8] = []
        var body = BodyWriter(framing: .contentLength(3))
        try body.write(Array("ab".utf8), into: &out)
        #expect(throws: HTTPSerializeError.bodyLengthMismatch) { try body.write(Array("cd".utf8), into: &out) }
        #expect(throws: HTTPSerializeError.bodyLengthMismatch) { try body.finish(into: &out) }
        try body.write(Array("c".utf8), into: &out)
        try body.finish(into: &out)
        #expect(text(out) == "abc")
        var none = BodyWriter(framing: .none)
        #expect(throws: HTTPSerializeError.bodyLengthMismatch) { try none.write([1], into: &out) }
    }

    @Test func lastChunkRefusesAnInjectedTrailer() {
        var out: [UInt8] = []
        #expect(throws: HTTPSerializeError.invalidFieldValue) {
            try HTTP1Serializer.writeLastChunk(trailers: [("X", "1\r\n\r\nHTTP/1.1 200 OK")], into: &out)
        }
        #expect(out.isEmpty)
    }
}

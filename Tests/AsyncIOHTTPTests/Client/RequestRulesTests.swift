import HTTP1Codec
import HTTPTypes
import Testing

@testable import AsyncIOHTTP

/// Redirect rules and request serialization: pure functions, no sockets.
struct RequestRulesTests {
    // MARK: - Redirects

    @Test(arguments: [
        (301, HTTPRequest.Method.post, HTTPRequest.Method.get, false),
        (302, .post, .get, false),
        (303, .post, .get, false),
        (303, .put, .get, false),
        (303, .head, .head, true),
        (301, .get, .get, true),
        (302, .put, .put, true),
        (307, .post, .post, true),
        (308, .put, .put, true),
    ])
    func redirectMethodAndBody(
        _ status: Int,
        _ method: HTTPRequest.Method,
        _ next: HTTPRequest.Method,
        _ keepsBody: Bool
    ) throws {
        let rule = try #require(
            try RedirectRule.next(status: status, method: method, url: ClientURL("http://a/x"), location: "/y")
        )
        #expect(rule.method == next)
        #expect(rule.keepsBody == keepsBody)
        #expect(rule.url.description == "http://a/y")
        #expect(!rule.crossOrigin)
    }

    @Test
    func notARedirectWithoutLocationOrRedirectStatus() throws {
        let url = try ClientURL("http://a/")
        #expect(try RedirectRule.next(status: 302, method: .get, url: url, location: nil) == nil)
        #expect(try RedirectRule.next(status: 304, method: .get, url: url, location: "/x") == nil)
        #expect(try RedirectRule.next(status: 200, method: .get, url: url, location: "/x") == nil)
    }

    @Test
    func crossOriginRedirectDropsCredentialsAndCookies() throws {
        let rule = try #require(
            try RedirectRule.next(status: 307, method: .post, url: ClientURL("http://a/"), location: "http://b/")
        )
        #expect(rule.crossOrigin)
        var fields: HTTPFields = [.authorization: "Bearer secret", .cookie: "a=1", .accept: "*/*"]
        rule.apply(to: &fields)
        #expect(fields == [.accept: "*/*"])
        let samePort = try #require(
            try RedirectRule.next(status: 302, method: .get, url: ClientURL("http://a/"), location: "http://a:81/")
        )
        #expect(samePort.crossOrigin)
    }

    @Test
    func aDroppedBodyDropsItsFields() throws {
        let rule = try #require(
            try RedirectRule.next(status: 303, method: .post, url: ClientURL("http://a/"), location: "/done")
        )
        var fields: HTTPFields = [.contentType: "application/json", .contentLength: "2", .authorization: "x"]
        rule.apply(to: &fields)
        #expect(fields == [.authorization: "x"])
    }

    // MARK: - Serialization

    func head(_ request: PreparedRequest, cookies: String? = nil) throws -> String {
        String(decoding: try request.serializeHead(cookies: cookies), as: UTF8.self)
    }

    @Test
    func aGetHasHostUserAgentAndAccept() throws {
        let request = PreparedRequest(method: .get, url: try ClientURL("http://[::1]:8080/p?q=1"), fields: [:])
        #expect(
            try head(request)
                == "GET /p?q=1 HTTP/1.1\r\nHost: [::1]:8080\r\nUser-Agent: \(ClientSession.defaultUserAgent)\r\n"
                + "Accept: */*\r\n\r\n"
        )
    }

    @Test
    func callerFieldsWinAndCookiesAreJoined() throws {
        let request = PreparedRequest(
            method: .get,
            url: try ClientURL("http://u:p@h/"),
            fields: [.userAgent: "mine", .accept: "text/html", .cookie: "own=1"]
        )
        #expect(
            try head(request, cookies: "jar=2")
                == "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: mine\r\nAccept: text/html\r\n"
                + "Authorization: Basic dTpw\r\nCookie: own=1; jar=2\r\n\r\n"
        )
    }

    @Test
    func bodiesGetTheirTypeAndFraming() throws {
        var request = PreparedRequest(
            method: .post,
            url: try ClientURL("http://h/"),
            fields: [.contentLength: "999"],
            body: .form([("a", "b c")])
        )
        #expect(
            try head(request).hasSuffix("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n\r\n")
        )
        request.body = .stream([[UInt8]]().async)
        #expect(
            try head(request).hasSuffix("Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        )
        request.body = nil
        #expect(try head(request).contains("Content-Length: 999\r\n"))
        let empty = PreparedRequest(method: .post, url: try ClientURL("http://h/"), fields: [:])
        #expect(try head(empty).hasSuffix("Content-Length: 0\r\n\r\n"))
    }

    @Test
    func aFieldThatWouldSplitTheRequestIsATypedError() throws {
        let url = try ClientURL("http://h/")
        // swift-http-types already turns CR/LF in field values into spaces: one field on the wire.
        let legalized = PreparedRequest(method: .get, url: url, fields: [.accept: "a\r\nX-Forged: 1"])
        #expect(try !head(legalized).contains("\r\nX-Forged"))
        // A value that reaches the serializer raw (a body's Content-Type) is refused, typed.
        let forged = PreparedRequest(
            method: .post,
            url: url,
            fields: [:],
            body: .bytes([1], contentType: "text/plain\r\nX-Forged: 1")
        )
        #expect(throws: ClientError.invalidRequest(.invalidFieldValue)) { try forged.serializeHead(cookies: nil) }
    }

    @Test
    func multipartEscapesNamesAndFramesParts() {
        var form = MultipartForm(boundary: "XyZ")
        form.addField(name: "a\"b", value: "1")
        form.addFile(name: "f", filename: "x\r\n.txt", contentType: "text/plain", bytes: Array("hi".utf8))
        #expect(
            String(decoding: form.encoded(), as: UTF8.self)
                == "--XyZ\r\nContent-Disposition: form-data; name=\"a%22b\"\r\n\r\n1\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x%0D%0A.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\nhi\r\n--XyZ--\r\n"
        )
        #expect(MultipartForm().boundary.count == 32)
    }
}

extension Array where Element: Sendable {
    /// The elements as an AsyncSequence (for stream bodies in tests).
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}

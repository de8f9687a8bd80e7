import FoundationEssentials
import HTTPTypes

/// A response whose body is known in advance: aiohttp's `web.Response`.
///
/// Return one from a handler: `Response(text: "Hello")`, `try Response.json(value)`,
/// `Response(body: bytes, contentType: "image/png")`. It is sent with `Content-Length`.
///
/// It is also the talk's `aiohttp.Response`: `Response(transport, 200, close: true)` is bound to the
/// connection at once, and its body is streamed with `sendHeaders`, `write` and `writeEOF`.
///
/// Mirrors `aiohttp.web.Response(body=…, text=…, status=…, reason=…, headers=…, content_type=…,
/// charset=…)` and `web.json_response`.
public final class Response: StreamResponse {
    /// The body, sent at `writeEOF` (after whatever was written). Mirrors `body`.
    @exclusivity(unchecked) public var body: [UInt8]
    /// Made by the talk's initializer: the body is streamed, its length unknown.
    private let streamed: Bool

    /// A response with `body`.
    public init(
        body: [UInt8] = [],
        status: HTTPResponse.Status = .ok,
        reason: String? = nil,
        headers: HTTPFields = [:],
        contentType: String? = nil,
        charset: String? = nil
    ) {
        self.body = body
        streamed = false
        super.init(status: status, reason: reason, headers: headers)
        self.contentType = contentType ?? (headers[.contentType] == nil ? "application/octet-stream" : nil)
        self.charset = charset
    }

    /// A text response (`text/plain; charset=utf-8` unless told otherwise).
    public convenience init(
        text: String,
        status: HTTPResponse.Status = .ok,
        reason: String? = nil,
        headers: HTTPFields = [:],
        contentType: String = "text/plain",
        charset: String = "utf-8"
    ) {
        self.init(
            body: Array(text.utf8),
            status: status,
            reason: reason,
            headers: headers,
            contentType: contentType,
            charset: charset
        )
    }

    /// The talk's response: bound to the connection of `transport` at once, body streamed.
    ///
    /// - Parameters:
    ///   - transport: the connection's ``ServerHTTPProtocol/transport``.
    ///   - status: the status code.
    ///   - close: close the connection after this response.
    /// Mirrors `aiohttp.Response(transport, status, close=False)` (aiohttp 0.x).
    public init(_ transport: HTTPServerTransport, _ status: Int, close: Bool = false) {
        body = []
        streamed = true
        super.init(status: HTTPResponse.Status(code: status))
        if close { keepAlive = false }
        let connection = transport.connection
        bind(to: connection, exchange: connection.response.number)
    }

    /// A JSON response: `value` encoded with `encoder`, `application/json`.
    ///
    /// - Throws: what `encoder` throws. Mirrors `web.json_response(data)`.
    public static func json<Value: Encodable>(
        _ value: Value,
        status: HTTPResponse.Status = .ok,
        headers: HTTPFields = [:],
        encoder: JSONEncoder = JSONEncoder()
    ) throws -> Response {
        let data = try encoder.encode(value)
        return Response(
            body: [UInt8](data),
            status: status,
            headers: headers,
            contentType: "application/json",
            charset: nil
        )
    }

    /// The text of the body, decoded as UTF-8. Mirrors `text`.
    public var text: String { String(decoding: body, as: UTF8.self) }

    override var finalBody: [UInt8] { body }

    override var knownBodyCount: Int? { streamed || chunked ? nil : body.count }
}

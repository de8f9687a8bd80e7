import AsyncIO
import HTTP1Codec
import HTTPTypes

/// A request as a handler of the application API sees it: aiohttp's `web.Request`.
///
/// Created by the server for each request; read the method, the path and its parameters, the
/// query, the fields, the body. It stays valid after the handler returns, but its ``body`` and
/// responses bound to it only work while the request is being handled.
///
/// Mirrors `aiohttp.web.Request` / `BaseRequest`.
public final class Request {
    /// The parsed head.
    public let message: RawRequestMessage
    /// The body, as it arrives. Mirrors `content`.
    public let body: RequestBody
    let connection: ServerHTTPProtocol
    let exchangeNumber: Int
    private var cachedHeaders: HTTPFields?
    private var cachedPath: (path: String, query: String?)?

    init(message: RawRequestMessage, body: RequestBody, connection: ServerHTTPProtocol) {
        self.message = message
        self.body = body
        self.connection = connection
        exchangeNumber = connection.response.number
    }

    /// The method. Mirrors `method`.
    public var method: HTTPRequest.Method { message.httpMethod }

    /// The HTTP version. Mirrors `version`.
    public var version: HTTPVersion { message.version }

    /// The request-target as sent, path and query, undecoded. Mirrors `path_qs` / `raw_path`.
    public var rawPath: String { message.path }

    /// The header fields. Mirrors `headers`.
    public var headers: HTTPFields {
        if let cachedHeaders { return cachedHeaders }
        let fields = message.headers
        cachedHeaders = fields
        return fields
    }

    /// The peer's address. Mirrors `remote` (an address, not a string).
    public var remote: SocketAddress? { connection.socketTransport?.extraInfo.peerName }

    /// The connection's transport for this request.
    public var transport: HTTPServerTransport { connection.transport }
}

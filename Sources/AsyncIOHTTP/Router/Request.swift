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
    // The properties below are `@exclusivity(unchecked)`: the object lives on its loop's thread and
    // no access to them overlaps another, so the dynamic check (a runtime call per access, several
    // per request) buys nothing.
    @exclusivity(unchecked) private var cachedHeaders: HTTPFields?
    @exclusivity(unchecked) var cachedBytes: [UInt8]?
    @usableFromInline @exclusivity(unchecked) var state = StateStorage()

    /// The application that routed the request (nil on a plain ``HTTPServer`` handler).
    /// Mirrors `request.app`.
    @exclusivity(unchecked) public internal(set) var app: Application?
    /// The path parameters of the route, percent-decoded: `/users/{id}` gives `matchInfo["id"]`.
    /// Mirrors `request.match_info`.
    @exclusivity(unchecked) public internal(set) var matchInfo: [String: String] = [:]
    /// The route's handler, for the innermost middleware to call.
    @exclusivity(unchecked) var route: Handler?

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

    /// The request-target's path, undecoded, without the query (`/a%20b` for `/a%20b?x=1`).
    /// Mirrors `raw_path` without its query.
    public var rawPathWithoutQuery: String { String(pathWithoutQuery) }

    /// The path, percent-decoded (`/a b` for `/a%20b?x=1`). Mirrors `path`.
    public var path: String { percentDecode(pathWithoutQuery.utf8) }

    /// The query string as sent, without `?` (empty if none). Mirrors `query_string`.
    public var queryString: String {
        let target = message.path
        guard let mark = target.firstIndex(of: "?") else { return "" }
        return String(target[target.index(after: mark)...])
    }

    /// The query's names and values, decoded (`+` is a space). Mirrors `query` (a `MultiDict`).
    public var query: QueryItems { QueryItems(parsing: queryString) }

    /// The cookies the client sent (`Cookie` fields). Mirrors `cookies`.
    public var cookies: [String: String] {
        let values = headers[values: .cookie]
        guard !values.isEmpty else { return [:] }
        return ResponseCookie.parseCookieField(values.joined(separator: "; "))
    }

    /// The request's state under `key`, for middlewares to pass values to handlers.
    /// Mirrors `request[key]`.
    @inlinable
    public subscript<Value>(key: AppKey<Value>) -> Value? {
        get { state[key] }
        set { state[key] = newValue }
    }

    /// ``pathWithoutQuery`` as a `String`, made from the target's bytes in the usual case of an
    /// origin-form target (`/path?query`): what the router looks up.
    var routingPath: String {
        let target = message.pathBytes
        guard target.first == UInt8(ascii: "/") else { return String(pathWithoutQuery) }
        let end = target.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex
        return String(decoding: target[..<end], as: UTF8.self)
    }

    /// The request-target's path, without the query and undecoded; `/` for `*` and absolute forms
    /// without a path.
    var pathWithoutQuery: Substring {
        let target = message.path
        let end = target.firstIndex(of: "?") ?? target.endIndex
        var path = target[..<end]
        if !path.hasPrefix("/") {
            // absolute-form (`http://host/path`) or `*`: the path is after the authority.
            guard let scheme = path.range(of: "://") else { return "/" }
            let afterAuthority = path[scheme.upperBound...]
            path = afterAuthority.firstIndex(of: "/").map { afterAuthority[$0...] } ?? "/"
        }
        return path
    }

    /// The peer's address. Mirrors `remote` (an address, not a string).
    public var remote: SocketAddress? { connection.socketTransport?.extraInfo.peerName }

    /// The connection's transport for this request.
    public var transport: HTTPServerTransport { connection.transport }
}

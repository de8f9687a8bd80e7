import AsyncIO
import AsyncIOTLS
import Glibc
import HTTP1Codec
import HTTPTypes

/// An HTTP/1.1 client with a keep-alive connection pool, cookies, redirects and timeouts.
///
/// ```swift
/// try run { loop in
///     let session = ClientSession()
///     defer { session.close() }
///     let response = try await session.get("http://127.0.0.1:8080/users", query: [("page", "2")])
///     print(response.status, try await response.text())
///     let created = try await session.post("http://127.0.0.1:8080/users", body: .json(User(name: "ada")))
///     let user = try await created.json(as: User.self)
/// }
/// ```
///
/// A session belongs to the loop it is first used on (it is not `Sendable`); its methods are called
/// from code running on that loop (a task, `run { … }`, a closure given to `gather`), and a request
/// made off it throws `AsyncIOError.loopState`. Connections are kept per (scheme, host, port): at most `limit` open at once
/// (idle ones count; the oldest idle one of another host is closed to make room), at most
/// `limitPerHost` to one origin; idle ones are closed after `keepAliveTimeout`. Requests beyond
/// the limits wait in line (bounded by the connect timeout).
///
/// Mirrors `aiohttp.ClientSession` with its `TCPConnector`. See "HTTP client" in the docs for the
/// full name mapping and the deviations.
public final class ClientSession {
    /// What the pool holds at one moment.
    public struct PoolStatistics: Sendable, Hashable {
        /// Connections open (idle, busy and connecting).
        public var open: Int
        /// Connections idle in the pool.
        public var idle: Int
        /// Requests waiting for a connection.
        public var waiting: Int
    }

    /// Relative URLs given to the request methods are resolved against this one. Mirrors `base_url`.
    public let baseURL: ClientURL?
    /// Header fields sent with every request (a request's own fields override them).
    public var headers: HTTPFields
    /// The default timeouts of every request. Mirrors `timeout`.
    public var timeout: ClientTimeout
    /// The session's cookies. Mirrors `cookie_jar`.
    public var cookieJar: CookieJar
    /// Throw ``ClientError/responseStatus(code:reason:)`` for statuses of 400 and more. Mirrors
    /// `raise_for_status`.
    public var raiseForStatus: Bool
    /// The most redirects followed per request. Mirrors `max_redirects`.
    public var maxRedirects: Int
    /// The parser limits applied to every response (head sizes; body size, unlimited by default).
    public let responseLimits: HTTPParserLimits
    let pool: ConnectionPool
    private var loop: EventLoop?
    private var urlCache: [String: ClientURL] = [:]
    private var headCache: [HeadKey: [UInt8]] = [:]

    /// The User-Agent sent when neither the session nor the request sets one.
    public static let defaultUserAgent = "swift-asyncio AsyncIOHTTP/0.1"

    /// Creates a session.
    ///
    /// - Parameters:
    ///   - baseURL: resolves relative URLs (aiohttp's `base_url`).
    ///   - headers: fields for every request.
    ///   - timeout: default timeouts (aiohttp's: 5 minutes total, 30 s per connection attempt).
    ///   - limit: the most connections open at once, 0 for no limit (aiohttp's default, 100).
    ///   - limitPerHost: the most connections to one origin, 0 for no limit (the default).
    ///   - keepAliveTimeout: how long an idle connection is kept (aiohttp's 15 s).
    ///   - cookieJar: the initial cookies.
    ///   - raiseForStatus: throw for statuses of 400 and more.
    ///   - maxRedirects: the most redirects followed per request (aiohttp's 10).
    ///   - responseLimits: the parser's limits for responses; the body is unlimited by default
    ///     (``ClientResponse/content`` streams it with backpressure), the head limits are the codec's.
    ///   - tls: the client context for `https` (aiohttp's `TCPConnector(ssl=context)`); nil: the
    ///     system's trusted roots, certificate and host-name checks on, ALPN `http/1.1`, made at the
    ///     first `https` request.
    /// - Throws: ``ClientError/invalidURL(_:)`` for a bad `baseURL`; ``ClientError/invalidRequest(_:)``
    ///   is thrown later, by the request, for a bad header. Mirrors `ClientSession(...)`.
    public init(
        baseURL: String? = nil,
        headers: HTTPFields = [:],
        timeout: ClientTimeout = .default,
        limit: Int = 100,
        limitPerHost: Int = 0,
        keepAliveTimeout: Duration = .seconds(15),
        cookieJar: CookieJar = CookieJar(),
        raiseForStatus: Bool = false,
        maxRedirects: Int = 10,
        responseLimits: HTTPParserLimits = HTTPParserLimits(maxBodyLength: .max),
        tls: TLSContext? = nil
    ) throws(ClientError) {
        self.baseURL = try baseURL.map { (url) throws(ClientError) in try ClientURL(url) }
        self.headers = headers
        self.timeout = timeout
        self.cookieJar = cookieJar
        self.raiseForStatus = raiseForStatus
        self.maxRedirects = maxRedirects
        self.responseLimits = responseLimits
        pool = ConnectionPool(
            limit: max(limit, 0),
            limitPerHost: max(limitPerHost, 0),
            keepAliveTimeout: keepAliveTimeout,
            limits: responseLimits,
            tls: tls
        )
    }

    /// True once ``close()`` was called. Mirrors `closed`.
    public var isClosed: Bool { pool.isClosed }

    /// What the connection pool holds now.
    public var poolStatistics: PoolStatistics { pool.statistics }

    /// Closes every connection (responses still arriving fail with
    /// ``ClientError/serverDisconnected(duringBody:)``); later requests throw
    /// ``ClientError/sessionClosed``. Calling it twice does nothing.
    ///
    /// Mirrors `await session.close()`. Deviation: not `async`, since nothing here waits (the
    /// transports finish closing in the background).
    public func close() {
        pool.closeAll()
    }

    // MARK: - Requests

    /// Sends a request and returns the response once its head arrived (following redirects).
    ///
    /// - Parameters:
    ///   - method: the method.
    ///   - url: an absolute URL, or one relative to ``baseURL``.
    ///   - query: items appended to the URL's query, form-encoded (aiohttp's `params=`).
    ///   - headers: fields for this request, over the session's.
    ///   - body: the body, if any.
    ///   - allowRedirects: follow 301, 302, 303, 307 and 308 (aiohttp's `allow_redirects`).
    ///   - maxRedirects: overrides the session's limit.
    ///   - timeout: overrides the session's timeouts.
    ///   - raiseForStatus: overrides the session's choice.
    /// - Returns: the response; read its body, or drop or ``ClientResponse/release()`` it.
    /// - Throws: ``ClientError``; `CancelledError` (a request cancelled mid-response closes its
    ///   connection). Mirrors `session.request(method, url, …)`.
    public func request(
        _ method: HTTPRequest.Method,
        _ url: String,
        query: [(String, String)] = [],
        headers: HTTPFields = [:],
        body: ClientRequestBody? = nil,
        allowRedirects: Bool = true,
        maxRedirects: Int? = nil,
        timeout: ClientTimeout? = nil,
        raiseForStatus: Bool? = nil
    ) async throws -> ClientResponse {
        guard !isClosed else { throw ClientError.sessionClosed }
        let loop = try boundLoop()
        let target = try parsedURL(url)
        var request = PreparedRequest(
            method: method,
            url: target.appendingQueryItems(query),
            fields: merged(headers),
            body: body
        )
        let timeout = timeout ?? self.timeout
        let deadline = timeout.total.map { Deadline(instant: loop.time + $0, kind: .total) }
        let maxRedirects = maxRedirects ?? self.maxRedirects
        var history: [ClientResponse] = []
        while true {
            let response = try await send(request, timeout: timeout, deadline: deadline, loop: loop)
            response.history = history
            if allowRedirects, RedirectRule.redirectStatuses.contains(response.head.statusCode),
                let rule = try RedirectRule.next(
                    status: response.head.statusCode,
                    method: request.method,
                    url: request.url,
                    location: response.head.fields.first(named: "location").map { String(decoding: $0, as: UTF8.self) }
                ),
                !rule.keepsBody || (request.body?.isReplayable ?? true)
            {
                response.release()
                guard history.count < maxRedirects else { throw ClientError.tooManyRedirects(count: maxRedirects) }
                history.append(response)
                request.follow(rule)
                continue
            }
            if raiseForStatus ?? self.raiseForStatus { try response.raiseForStatus() }
            return response
        }
    }

    /// The loop this session runs on: the caller's, which must be the same for every request.
    private func boundLoop() throws -> EventLoop {
        let running = try getRunningLoop()
        if let loop, loop !== running {
            throw AsyncIOError.loopState("a ClientSession is used on another event loop than the one it started on")
        }
        loop = running
        return running
    }

    // MARK: - Caches

    /// The URL a request names, parsed (and resolved against ``baseURL``) once per string.
    private func parsedURL(_ string: String) throws(ClientError) -> ClientURL {
        if let url = urlCache[string] { return url }
        let url: ClientURL
        if let baseURL { url = try baseURL.resolving(string) } else { url = try ClientURL(string) }
        if urlCache.count >= Self.cacheLimit { urlCache.removeAll(keepingCapacity: true) }
        urlCache[string] = url
        return url
    }

    /// The head of a request without body, serialized once per (method, URL, fields, cookies):
    /// a client fetching the same URLs again and again validates and writes each head once.
    private func serializedHead(_ request: PreparedRequest, cookies: String?) throws(ClientError) -> [UInt8] {
        guard request.body == nil else { return try request.serializeHead(cookies: cookies) }
        let key = HeadKey(method: request.method, url: request.url, fields: request.fields, cookies: cookies)
        if let head = headCache[key] { return head }
        let head = try request.serializeHead(cookies: cookies)
        if headCache.count >= Self.cacheLimit { headCache.removeAll(keepingCapacity: true) }
        headCache[key] = head
        return head
    }

    /// The most entries each cache keeps before it starts over.
    private static let cacheLimit = 64

    private struct HeadKey: Hashable {
        var method: HTTPRequest.Method
        var url: ClientURL
        var fields: HTTPFields
        var cookies: String?
    }

    /// The session's fields with the request's over them.
    private func merged(_ requestHeaders: HTTPFields) -> HTTPFields {
        guard !headers.isEmpty else { return requestHeaders }
        var fields = headers
        for name in Set(requestHeaders.map(\.name)) {
            fields[values: name] = requestHeaders[values: name]
        }
        return fields
    }

    /// Sends one request (no redirects) on a pooled connection and waits for the response head.
    ///
    /// A request that finds its reused connection closed by the server before any byte of the
    /// response arrived is sent once more on a fresh connection, if it is idempotent and its body
    /// can be sent again: the server's keep-alive timeout and our request may cross on the wire.
    private func send(
        _ request: PreparedRequest,
        timeout: ClientTimeout,
        deadline: Deadline?,
        loop: EventLoop
    ) async throws -> ClientResponse {
        try request.checkScheme()
        let now = wallClockSeconds()
        let head = try serializedHead(request, cookies: cookieJar.cookieHeader(for: request.url, now: now))
        let connectDeadline = Deadline.earliest(
            deadline,
            timeout.connect.map { Deadline(instant: loop.time + $0, kind: .connect) }
        )
        var retried = false
        while true {
            let connection = try await pool.acquire(
                request.url.origin,
                deadline: connectDeadline,
                sockConnect: timeout.sockConnect,
                loop: loop
            )
            let reused = connection.isReused
            let exchange = connection.begin(
                method: request.parserMethod,
                close: request.closesConnection,
                total: deadline?.instant,
                sockRead: timeout.sockRead
            )
            do {
                try await request.write(head: head, to: connection, exchange: exchange)
                let responseHead = try await exchange.waitForHead()
                if responseHead.hasField(lowercased: setCookie) {
                    let values = responseHead.fields.compactMap { line in
                        line.name.elementsEqual("set-cookie".utf8, by: { lowercase($0) == $1 })
                            ? String(decoding: line.value, as: UTF8.self) : nil
                    }
                    cookieJar.store(setCookie: values, from: request.url, now: wallClockSeconds())
                }
                return ClientResponse(method: request.method, url: request.url, head: responseHead, exchange: exchange)
            } catch {
                exchange.abandon()
                let canRetry =
                    !retried && reused && !exchange.receivedAnything && request.isRetryable
                    && error as? ClientError == .serverDisconnected(duringBody: false)
                guard canRetry else { throw error }
                retried = true
            }
        }
    }
}

private let setCookie = Array("set-cookie".utf8)

extension ResponseHead {
    /// Whether a field named `name` (given in lowercase) is present: a scan of the raw head for a
    /// line that starts with it and a colon, cheaper than reading the fields one by one.
    func hasField(lowercased name: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { head in
            var i = 0
            let end = head.count - name.count - 1
            while i < end {
                // At the start of a line (after CRLF), compare the name, then expect the colon.
                if head[i] == UInt8(ascii: "\n") {
                    var j = 0
                    while j < name.count && lowercase(head[i + 1 + j]) == name[j] { j += 1 }
                    if j == name.count && head[i + 1 + j] == UInt8(ascii: ":") { return true }
                }
                i += 1
            }
            return false
        }
    }
}

/// Seconds since 1970, for cookie expiry.
func wallClockSeconds() -> Int64 {
    Int64(time(nil))
}

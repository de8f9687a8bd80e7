import HTTP1Codec

/// How an HTTP server connection behaves: parser limits, deadlines, buffers, names.
///
/// The defaults are those of nginx and aiohttp where they have one: a 75 s keep-alive timeout
/// (aiohttp's `keepalive_timeout`), 60 s to send a body chunk or read a response, 1 MiB request
/// bodies (aiohttp's `client_max_size`). Unlike aiohttp, the whole request head must arrive within
/// `headerTimeout` (a client trickling one byte a second is cut off, as nginx does).
public struct HTTPServerConfiguration: Sendable, Equatable {
    /// The request parser's limits: request line (414), fields (431), body (413).
    public var limits: HTTPParserLimits
    /// The most time a request head may take to arrive, counted from its first byte (for a
    /// connection's first request: from the connection). Then `408` and close.
    public var headerTimeout: Duration
    /// How long a keep-alive connection may stay idle between requests before it is closed.
    public var idleTimeout: Duration
    /// How long a handler waiting for request body bytes waits before the body fails with
    /// ``HTTPError/requestTimeout(text:)``.
    public var bodyReadTimeout: Duration
    /// How long the peer may leave our writes paused (it reads nothing) before the connection is
    /// dropped.
    public var writeTimeout: Duration
    /// The most requests served on one connection; the last response says `Connection: close`.
    /// Zero or less: no limit.
    public var maxRequestsPerConnection: Int
    /// The most request body bytes buffered for a handler that does not read them; reading from the
    /// socket pauses above it.
    public var bodyBufferSize: Int
    /// The most bytes of pipelined requests buffered while a request is handled; reading from the
    /// socket pauses above it.
    public var pipelineBufferLimit: Int
    /// The most bytes of a request body the handler did not read that are skipped to keep the
    /// connection; a longer rest closes it.
    public var maxBodyDrain: Int
    /// The `Server` field sent with every response; nil or empty sends none.
    public var serverName: String?
    /// How long an idle connection keeps its handler task before letting it go.
    public var handlerLinger: Duration
    /// The most idle connections of one ``HTTPServer`` that keep their handler task for
    /// ``handlerLinger``; past it, a connection that goes idle lets its task go at once. Under
    /// keep-alive load a connection keeps its task (make this at least the number of busy
    /// connections); a burst of connections that then stay idle costs no task memory each.
    public var maxLingeringHandlerTasks: Int

    /// Creates a configuration; every argument defaults to the value documented on its property.
    public init(
        limits: HTTPParserLimits = .default,
        headerTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(75),
        bodyReadTimeout: Duration = .seconds(60),
        writeTimeout: Duration = .seconds(60),
        maxRequestsPerConnection: Int = 0,
        bodyBufferSize: Int = 64 * 1024,
        pipelineBufferLimit: Int = 64 * 1024,
        maxBodyDrain: Int = 256 * 1024,
        serverName: String? = "swift-asyncio",
        handlerLinger: Duration = .seconds(2),
        maxLingeringHandlerTasks: Int = 1024
    ) {
        self.limits = limits
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.bodyReadTimeout = bodyReadTimeout
        self.writeTimeout = writeTimeout
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.bodyBufferSize = bodyBufferSize
        self.pipelineBufferLimit = pipelineBufferLimit
        self.maxBodyDrain = maxBodyDrain
        self.serverName = serverName
        self.handlerLinger = handlerLinger
        self.maxLingeringHandlerTasks = maxLingeringHandlerTasks
    }
}

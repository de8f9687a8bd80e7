import AsyncIO
import AsyncIOTLS
import Glibc
import Logging

/// A running HTTP server: its listening sockets, its connections, and a graceful shutdown.
///
/// Start one with a handler function (aiohttp's low-level `web.Server(handler)`):
/// ```swift
/// let server = try await HTTPServer.start(host: "127.0.0.1", port: 8080, loop: loop) { request in
///     Response(text: "Hello")
/// }
/// ...
/// await server.shutdown()
/// ```
/// or with a factory of ``ServerHTTPProtocol`` subclasses (the talk's API). ``shutdown(timeout:)``
/// stops accepting, closes idle keep-alive connections, lets requests in progress finish (their
/// responses say `Connection: close`), and after `timeout` cancels the handlers still running.
///
/// Mirrors aiohttp's `web.Server` with `web.ServerRunner`/`TCPSite` and their `shutdown(timeout)`.
public final class HTTPServer {
    /// The loop the server runs on.
    public let loop: EventLoop
    /// The listening server (asyncio's `Server`): its sockets, `close()`, `waitClosed()`.
    public private(set) var server: Server?
    private var connections: [ObjectIdentifier: ServerHTTPProtocol] = [:]
    private var allClosed: Event?
    private var isShuttingDown = false
    /// Handler tasks of idle connections waiting for their connection's next request.
    private var parkedTasks = 0
    /// The most of them (the connections' `maxLingeringHandlerTasks`).
    private var parkedTaskLimit = Int.max

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Starts a server calling `handler` for each request.
    ///
    /// - Parameters:
    ///   - host: the address to listen on (nil: every interface, as `createServer`).
    ///   - port: the port; 0 picks a free one (read it back from ``port``).
    ///   - configuration: limits, deadlines, the `Server` field.
    ///   - logger: receives handler errors (label `aiohttp.server` by default).
    ///   - accessLog: writes a line per request (none by default).
    ///   - backlog: the listen backlog.
    ///   - reusePort: set `SO_REUSEPORT` (several processes or loops on one port).
    ///   - tls: serve HTTPS with this server context (aiohttp's `ssl_context`); make it with
    ///     `TLSConfiguration.httpServer(certificateChainFile:privateKeyFile:)`, which offers ALPN
    ///     `http/1.1`. Nil: plain HTTP.
    ///   - loop: the loop to run on.
    ///   - handler: answers each request.
    /// - Throws: what `createServer` throws (`SystemError` EADDRINUSE, resolution errors);
    ///   `TLSError.configuration` for a context whose ALPN list lacks `http/1.1`.
    public static func start(
        host: String? = nil,
        port: Int = 0,
        configuration: HTTPServerConfiguration = .init(),
        logger: Logger? = nil,
        accessLog: AccessLogger? = nil,
        backlog: Int = 1024,
        reusePort: Bool = false,
        tls: TLSContext? = nil,
        loop: isolated EventLoop,
        handler: @escaping Handler
    ) async throws -> HTTPServer {
        let context = HTTPServerContext(configuration: configuration, logger: logger, accessLog: accessLog)
        return try await start(host: host, port: port, backlog: backlog, reusePort: reusePort, tls: tls, loop: loop) {
            RequestHandler(context: context, pipeline: .handler(handler))
        }
    }

    /// Starts a server whose connections `protocolFactory` makes (the talk's subclasses).
    ///
    /// - Throws: what `createServer` throws; `TLSError.configuration` for a context whose ALPN
    ///   list is not empty and lacks `http/1.1`.
    public static func start(
        host: String? = nil,
        port: Int = 0,
        backlog: Int = 1024,
        reusePort: Bool = false,
        tls: TLSContext? = nil,
        loop: isolated EventLoop,
        protocolFactory: @escaping () -> ServerHTTPProtocol
    ) async throws -> HTTPServer {
        let httpServer = HTTPServer(loop: loop)
        let factory = { [unowned httpServer] () -> ServerHTTPProtocol in
            let connection = protocolFactory()
            connection.server = httpServer
            return connection
        }
        if let tls {
            let alpn = tls.configuration.alpnProtocols
            guard alpn.isEmpty || alpn.contains("http/1.1") else {
                throw TLSError.configuration("an HTTP/1.1 server must offer ALPN http/1.1, not \(alpn)")
            }
            httpServer.server = try await loop.createServer(
                factory,
                host: host,
                port: port,
                tls: tls,
                backlog: backlog,
                reusePort: reusePort
            )
        } else {
            httpServer.server = try await loop.createServer(
                factory,
                host: host,
                port: port,
                backlog: backlog,
                reusePort: reusePort
            )
        }
        return httpServer
    }

    /// The listening sockets (empty once closed).
    public var sockets: [Socket] { server?.sockets ?? [] }

    /// The port of the first listening socket.
    public var port: Int {
        guard let address = try? sockets.first?.localAddress() else { return 0 }
        return address.port ?? 0
    }

    /// The number of open connections.
    public var connectionCount: Int { connections.count }

    /// Stops accepting, closes idle connections, lets requests in progress finish for up to
    /// `timeout`, then cancels their handlers and drops their connections.
    ///
    /// Mirrors aiohttp's `BaseRunner.shutdown()` / `Server.shutdown(timeout)` (default 60 s there too).
    public func shutdown(timeout delay: Duration = .seconds(60)) async {
        guard !isShuttingDown else { return }
        isShuttingDown = true
        server?.close()
        for connection in Array(connections.values) {
            loop.runIsolated(connection) { connection, loop in connection.shutdown(loop: loop) }
        }
        if !connections.isEmpty {
            let event = Event()
            allClosed = event
            _ = try? await timeout(delay) { _ in try await event.wait() }
            allClosed = nil
        }
        for connection in Array(connections.values) { connection.abortConnection() }
        try? await server?.waitClosed()
    }

    /// Stops accepting and drops every connection at once.
    public func close() {
        server?.close()
        for connection in Array(connections.values) { connection.abortConnection() }
    }

    // MARK: - Connections

    /// A connection's handler task would park: whether it may (else it ends at once).
    func taskParks() -> Bool {
        guard parkedTasks < parkedTaskLimit else { return false }
        parkedTasks += 1
        return true
    }

    /// A parked handler task woke up (for a request, to end, or because the connection ended).
    func parkedTaskLeft() {
        parkedTasks -= 1
    }

    func connectionMade(_ connection: ServerHTTPProtocol) {
        parkedTaskLimit = connection.configuration.maxLingeringHandlerTasks
        connections[ObjectIdentifier(connection)] = connection
        if isShuttingDown {
            loop.runIsolated(connection) { connection, loop in connection.shutdown(loop: loop) }
        }
    }

    func connectionLost(_ connection: ServerHTTPProtocol) {
        connections.removeValue(forKey: ObjectIdentifier(connection))
        if connections.isEmpty { allClosed?.set() }
    }
}

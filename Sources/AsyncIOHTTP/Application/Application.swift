import AsyncIO
import AsyncIOTLS
import Glibc
import HTTPTypes
import Logging
import Synchronization

/// A function that wraps every handler: it may look at the request, call `handler` (or not), and
/// change or replace the response, or catch what the handler threw.
///
/// ```swift
/// app.middlewares.append { request, handler in
///     do {
///         return try await handler(request)
///     } catch let error as HTTPError where error.status == .notFound {
///         return Response(text: "nothing here", status: .notFound)
///     }
/// }
/// ```
/// Mirrors aiohttp's `@web.middleware async def mw(request, handler)`.
public typealias Middleware = (Request, Handler) async throws -> StreamResponse

/// A typed key for the state of an ``Application`` or a ``Request``: `app[counterKey] = 0`.
///
/// Make keys once (a `static let` or a global) and reuse them: making one looks its name and type
/// up in a process-wide table, reading or writing state with one is an array access.
///
/// Mirrors aiohttp's `web.AppKey("name", type)` (and, for a request, `request["name"]`).
public struct AppKey<Value>: Hashable, Sendable {
    /// The key's name, for messages.
    public let name: String
    /// The key's place in a `StateStorage`: one per name and value type in the process.
    @usableFromInline let slot: Int

    /// A key named `name`. Two keys are the same key when their names and value types are.
    public init(_ name: String, _ type: Value.Type = Value.self) {
        self.name = name
        slot = StateSlots.slot(name: name, type: ObjectIdentifier(Value.self))
    }
}

/// The process-wide numbering of state keys by name and value type.
enum StateSlots {
    private struct Key: Hashable {
        var name: String
        var type: ObjectIdentifier
    }

    private static let table = Mutex<[Key: Int]>([:])

    /// The slot of the keys named `name` for values of `type` (the same for every such key).
    static func slot(name: String, type: ObjectIdentifier) -> Int {
        table.withLock { table in
            let key = Key(name: name, type: type)
            if let slot = table[key] { return slot }
            let slot = table.count
            table[key] = slot
            return slot
        }
    }
}

/// The state of an ``Application`` or a ``Request``: a box per key, at the key's slot.
///
/// No hashing and no dynamic cast on access: a slot belongs to one name and one value type, so the
/// box found there holds a value of the key's type.
@usableFromInline
struct StateStorage {
    @usableFromInline
    final class Box<Value> {
        @usableFromInline var value: Value
        @usableFromInline init(_ value: Value) { self.value = value }
    }

    @usableFromInline var boxes: [AnyObject?] = []

    @usableFromInline init() {}

    @inlinable
    subscript<Value>(key: AppKey<Value>) -> Value? {
        get {
            guard key.slot < boxes.count, let box = boxes[key.slot] else { return nil }
            // SAFETY: the slot is the key's, whose value type is `Value` (see `StateSlots`).
            return unsafeDowncast(box, to: Box<Value>.self).value
        }
        set {
            guard let newValue else {
                if key.slot < boxes.count { boxes[key.slot] = nil }
                return
            }
            if key.slot < boxes.count, let box = boxes[key.slot] {
                // SAFETY: as in `get`.
                unsafeDowncast(box, to: Box<Value>.self).value = newValue
                return
            }
            if key.slot >= boxes.count {
                boxes.append(contentsOf: repeatElement(nil, count: key.slot + 1 - boxes.count))
            }
            boxes[key.slot] = Box(newValue)
        }
    }
}

/// A web application: a router, middlewares, hooks and state, served by an ``HTTPServer``.
///
/// ```swift
/// let app = Application()
/// try app.router.get("/") { _ in Response(text: "Hello") }
/// try app.router.get("/users/{id}") { request in
///     try Response.json(["id": request.matchInfo["id"]])
/// }
/// app.middlewares.append(timing)
/// try app.run(port: 8080)            // or: let runner = try await app.start(port: 8080, loop: loop)
/// ```
/// Middlewares run in the order of ``middlewares`` (the first is the outermost) around the
/// handler the router found. The route is found before the first middleware runs (its
/// ``Request/matchInfo`` is set), and a 404 or 405 is thrown as an ``HTTPError`` by the handler a
/// middleware calls, so a middleware sees and may replace it, as in aiohttp. Hooks: ``onStartup`` before the server
/// listens, ``onShutdown`` when it stops accepting (before open connections finish), ``onCleanup``
/// after the last connection closed. The router, middlewares and hooks are frozen once the
/// application starts.
///
/// Loop thread only, like everything a handler touches. Mirrors `aiohttp.web.Application` with
/// `web.run_app`, `AppRunner` and `TCPSite`.
public final class Application {
    /// The router. Mirrors `app.router`.
    public let router = Router()
    /// The middlewares, the first the outermost. Mirrors `middlewares=[…]`.
    public var middlewares = Middlewares()
    /// Run before the server listens, in order; one that throws stops the start. Mirrors `on_startup`.
    public var onStartup: [(Application) async throws -> Void] = []
    /// Run when the server stops accepting, in order (close long-lived connections, e.g.
    /// WebSockets, here). Mirrors `on_shutdown`.
    public var onShutdown: [(Application) async throws -> Void] = []
    /// Run after the server closed its connections, in order. Mirrors `on_cleanup`.
    public var onCleanup: [(Application) async throws -> Void] = []
    /// The server's limits, deadlines and `Server` field.
    public var configuration: HTTPServerConfiguration
    /// Receives handler errors and hook errors (label `aiohttp.server` by default).
    public var logger: Logger
    /// Writes a line per request when set (aiohttp's `access_log`).
    public var accessLog: AccessLogger?
    @usableFromInline @exclusivity(unchecked) var state = StateStorage()

    /// An application with `configuration`.
    public init(configuration: HTTPServerConfiguration = .init(), logger: Logger? = nil) {
        self.configuration = configuration
        self.logger = logger ?? Logger(label: "aiohttp.server")
    }

    /// The application's state under `key`. Mirrors `app[key]`.
    @inlinable
    public subscript<Value>(key: AppKey<Value>) -> Value? {
        get { state[key] }
        set { state[key] = newValue }
    }

    /// The handler the server calls: the router's, wrapped in the middlewares. Freezes the router.
    ///
    /// Use it to serve the application with ``HTTPServer/start(host:port:configuration:logger:accessLog:backlog:reusePort:tls:loop:handler:)``
    /// yourself (``start(host:port:backlog:reusePort:tls:loop:)`` does that and runs the hooks).
    public func makeHandler() -> Handler {
        let pipeline = makePipeline()
        return { request in
            request.app = self
            return try await pipeline.respond(to: request)
        }
    }

    /// The router and the middlewares as the server calls them. Freezes the router.
    ///
    /// The route is found before the middlewares run (as aiohttp does: `match_info` is set when
    /// the first middleware starts), and the innermost middleware calls it directly; the outermost
    /// one is called directly by the server. Each wrapping closure would be one more async call
    /// per request.
    func makePipeline() -> Pipeline {
        router.isFrozen = true
        let entries = middlewares.entries
        guard let outermost = entries.first else {
            return .application(self, router, outermost: nil, inner: nil)
        }
        var inner: Handler?
        for entry in entries.dropFirst().reversed() {
            if let next = inner {
                inner = { request in try await entry.run(request, next) }
            } else {
                inner = { request in try await entry.run(request, request.route ?? Router.notFound(_:)) }
            }
        }
        return .application(self, router, outermost: outermost, inner: inner)
    }

    // MARK: - Running

    /// Runs the startup hooks, then listens: aiohttp's `AppRunner.setup()` + `TCPSite.start()`.
    ///
    /// With `tls`, the application is served over HTTPS (aiohttp's `TCPSite(…, ssl_context=)`);
    /// `TLSConfiguration.httpServer(certificateChainFile:privateKeyFile:)` makes a context that
    /// offers ALPN `http/1.1`.
    ///
    /// - Throws: what a startup hook throws; what `createServer` throws; `TLSError.configuration`
    ///   for a context whose ALPN list lacks `http/1.1`.
    public func start(
        host: String? = "127.0.0.1",
        port: Int = 8080,
        backlog: Int = 1024,
        reusePort: Bool = false,
        tls: TLSContext? = nil,
        loop: isolated EventLoop
    ) async throws -> AppRunner {
        for hook in onStartup { try await hook(self) }
        let context = HTTPServerContext(configuration: configuration, logger: logger, accessLog: accessLog)
        let pipeline = makePipeline()
        let server = try await HTTPServer.start(
            host: host,
            port: port,
            backlog: backlog,
            reusePort: reusePort,
            tls: tls,
            loop: loop
        ) {
            RequestHandler(context: context, pipeline: pipeline)
        }
        return AppRunner(app: self, server: server)
    }

    /// Serves the application on a loop of its own until SIGINT or SIGTERM, then shuts down
    /// gracefully: aiohttp's `web.run_app(app, host=…, port=…)`.
    ///
    /// Prints `======== Running on http://HOST:PORT ========` (`https://` with `tls`) once it listens.
    /// - Parameters:
    ///   - host: the address to listen on.
    ///   - port: the port; 0 picks a free one.
    ///   - shutdownTimeout: how long requests in flight may take to finish.
    ///   - backlog: the listen backlog.
    ///   - tls: serves HTTPS with this server context (`run_app(app, ssl_context=)`).
    /// - Throws: what ``start(host:port:backlog:reusePort:tls:loop:)`` throws.
    public func run(
        host: String = "127.0.0.1",
        port: Int = 8080,
        shutdownTimeout: Duration = .seconds(60),
        backlog: Int = 1024,
        tls: TLSContext? = nil
    ) throws {
        // SAFETY: `run` runs the loop on this thread and returns when it ends, so the application
        // is only ever touched by this thread.
        nonisolated(unsafe) let app = self
        try AsyncIO.run { loop in
            let stop = loop.createFuture(of: Void.self)
            for signal in [SIGTERM, SIGINT] {
                try loop.addSignalHandler(signal) { try? stop.setResult(()) }
            }
            let runner = try await app.start(host: host, port: port, backlog: backlog, tls: tls, loop: loop)
            let scheme = tls == nil ? "http" : "https"
            let line = "======== Running on \(scheme)://\(host):\(runner.port) ========\n(Press CTRL+C to quit)\n"
            _ = line.withCString { Glibc.write(1, $0, strlen($0)) }
            try await stop.value
            await runner.cleanup(timeout: shutdownTimeout)
        }
    }
}

/// A running ``Application``: its server, and the graceful stop that runs the shutdown and cleanup
/// hooks. Mirrors aiohttp's `AppRunner` with its `TCPSite`.
public final class AppRunner {
    /// The application.
    public let app: Application
    /// The server.
    public let server: HTTPServer
    private var cleanedUp = false

    init(app: Application, server: HTTPServer) {
        self.app = app
        self.server = server
    }

    /// The port the server listens on.
    public var port: Int { server.port }

    /// Stops accepting, runs the shutdown hooks, lets requests in flight finish for up to `timeout`
    /// (then cancels them), and runs the cleanup hooks. A hook that throws is logged and the rest
    /// still run. A second call does nothing. Mirrors `AppRunner.cleanup()`.
    public func cleanup(timeout: Duration = .seconds(60)) async {
        guard !cleanedUp else { return }
        cleanedUp = true
        server.server?.close()
        await runHooks(app.onShutdown, name: "on_shutdown")
        await server.shutdown(timeout: timeout)
        await runHooks(app.onCleanup, name: "on_cleanup")
    }

    private func runHooks(_ hooks: [(Application) async throws -> Void], name: String) async {
        for hook in hooks {
            do {
                try await hook(app)
            } catch {
                app.logger.error("Error in \(name) hook", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// What answers the requests of a server: an ``Application``'s router and middlewares, or the
/// handler of an ``HTTPServer``.
enum Pipeline {
    case handler(Handler)
    /// `inner`: the middlewares inside the outermost one, wrapped (nil for fewer than two).
    case application(Application, Router, outermost: Middlewares.Entry?, inner: Handler?)

    /// The application, set as the requests' `app`.
    var app: Application? {
        if case .application(let app, _, _, _) = self { return app }
        return nil
    }

    @inline(__always)
    func respond(to request: Request) async throws -> StreamResponse {
        switch self {
        case .handler(let handler):
            return try await handler(request)
        case .application(_, let router, let outermost, let inner):
            let route = router.route(for: request)
            guard let outermost else { return try await route(request) }
            guard let inner else { return try await outermost.run(request, route) }
            request.route = route
            return try await outermost.run(request, inner)
        }
    }
}

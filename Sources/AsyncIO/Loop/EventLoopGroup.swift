// Theory of operation
//
// One loop uses one core. asyncio leaves the rest to the user (run several processes behind a
// load balancer); uvloop and NIO users run a loop per core in one process. A group is N loops, each
// on a thread of its own (`EventLoopThread`), and nothing else: a loop stays single-threaded,
// loops share nothing, and they talk only through their thread-safe entry points
// (`callSoonThreadSafe`, `runCoroutineThreadSafe`).
//
// Serving on every loop: each loop listens on the same address with its own socket and
// SO_REUSEPORT, so the kernel spreads incoming connections over the loops (by a hash of the
// connection's addresses) and a connection lives on the loop that accepted it, with no hand-off
// between threads. With port 0, the first loop binds a free port and the others bind that one.
import CAsyncIOShims
import Glibc
import Synchronization

/// Event loops, one thread each, for using every core: a loop per core, and servers that listen on
/// every loop.
///
/// ```swift
/// let group = try EventLoopGroup(loopCount: 4)
/// defer { group.shutdown() }
/// let server = try await group.startServer(host: "127.0.0.1", port: 8888) { reader, writer in
///     while case let line = try await reader.readLine(), !line.isEmpty { try writer.write(line) }
/// }
/// ```
///
/// Not in asyncio (its answer is one process per core); the model is uvloop servers run per
/// thread with `reuse_port=True`, and NIO's `MultiThreadedEventLoopGroup`.
public final class EventLoopGroup: Sendable {
    /// The loops' threads, in order.
    public let threads: [EventLoopThread]
    private let nextIndex = Atomic<Int>(0)
    /// The servers `createServer` / `startServer` started, closed by `shutdown`.
    private let servers = LockedValue<[GroupServer]>([])

    /// The loops, in order. Use them through their thread-safe API from other threads.
    public var loops: [EventLoop] { threads.map(\.loop) }

    /// Starts `loopCount` loops, each on a new thread named `name-<index>`.
    ///
    /// - Throws: `AsyncIOError.invalidArgument` unless `loopCount >= 1`; `SystemError` if a loop
    ///   cannot be made (EMFILE).
    public init(loopCount: Int = EventLoopGroup.coreCount, name: String = "asyncio-loop") throws {
        guard loopCount >= 1 else { throw AsyncIOError.invalidArgument("loopCount must be at least 1") }
        var threads: [EventLoopThread] = []
        do {
            for index in 0..<loopCount { threads.append(try EventLoopThread(name: "\(name)-\(index)")) }
        } catch {
            for thread in threads { thread.shutdown() }
            throw error
        }
        self.threads = threads
    }

    /// The number of cores this process may run on (its CPU affinity), at least 1.
    public static var coreCount: Int {
        let count = Int(casyncio_cpu_count())
        return count > 0 ? count : max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// The next loop in turn (round robin), for spreading work that is not a connection.
    public func next() -> EventLoop {
        threads[nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue % threads.count].loop
    }

    /// Runs `body` on every loop at once, with the loop's index, and returns the results in order.
    ///
    /// - Throws: the first error a body threw (the others still ran to completion).
    public func runOnEveryLoop<Value: Sendable>(
        _ body: @escaping @Sendable (isolated EventLoop, Int) async throws -> Value
    ) async throws -> [Value] {
        let futures = try threads.enumerated().map { index, thread in
            try thread.submit { loop in try await body(loop, index) }
        }
        var results: [Value] = []
        var firstError: (any Error)?
        for future in futures {
            do { results.append(try await future.value) } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
        return results
    }

    /// Closes the servers `createServer` and `startServer` started (no more listening, their
    /// connections aborted), then stops every loop, cancels and awaits what is left on them, closes
    /// them and waits for their threads. Services started with `startOnEveryLoop` are the caller's
    /// to stop before; their connections are dropped with the loops.
    ///
    /// Blocks the calling thread until every loop finished. Call it once, from outside the group's
    /// loops.
    public func shutdown() {
        let started = servers.withLock { servers in
            defer { servers.removeAll() }
            return servers
        }
        for server in started { server.closeBlocking() }
        for thread in threads { thread.loop.stop() }
        for thread in threads { thread.shutdown() }
    }

    // MARK: - Serving on every loop

    /// Starts a service (a server of any kind) on every loop: `start` is called on each loop with
    /// the port to listen on (with `SO_REUSEPORT` set), first on loop 0 with `port`, then on the
    /// others at once with the port loop 0 bound (`boundPort`, which differs from `port` when that
    /// is 0).
    ///
    /// This is the general form, for servers built on `createServer` such as an HTTP server:
    ///
    /// ```swift
    /// let servers = try await group.startOnEveryLoop(port: 8080) { loop, port in
    ///     try await HTTPServer.start(host: "127.0.0.1", port: port, reusePort: true, loop: loop) { … }
    /// } boundPort: { $0.port }
    /// ```
    ///
    /// - Throws: what `start` throws; the services already started are left to their loops (they
    ///   end with the group's `shutdown`).
    public func startOnEveryLoop<Service>(
        port: Int,
        _ start: @escaping @Sendable (isolated EventLoop, _ port: Int) async throws -> Service,
        boundPort: @escaping @Sendable (Service) throws -> Int
    ) async throws -> GroupServices<Service> {
        // SAFETY (UnsafeTransfer): each service is made on its loop and only touched there
        // (GroupServices runs every call on the service's own loop).
        let first = try await threads[0].run { loop in
            let service = try await start(loop, port)
            return (UnsafeTransfer(service), try boundPort(service))
        }
        let others = try await withThrowingTaskGroup(of: (Int, UnsafeTransfer<Service>).self) { group in
            for (index, thread) in threads.enumerated().dropFirst() {
                group.addTask {
                    (index, try await thread.run { loop in UnsafeTransfer(try await start(loop, first.1)) })
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let services = [(threads[0].loop, first.0)] + others.sorted { $0.0 < $1.0 }.map { (threads[$0.0].loop, $0.1) }
        return GroupServices(services: services, port: first.1)
    }

    /// Serves connections with a protocol made by `factory` on every loop (see `startOnEveryLoop`).
    ///
    /// - Parameters:
    ///   - factory: makes a protocol for each connection, on the loop that accepted it.
    ///   - host: the address every loop listens on (`nil`: all interfaces).
    ///   - port: the one port all loops share (`0`: loop 0 picks it, the others follow).
    ///   - backlog: each listener's accept queue.
    /// `P` is `SendableMetatype` because the factory runs on every loop's thread: any protocol
    /// class qualifies unless it declares an isolated conformance.
    ///
    /// - Throws: as `EventLoop.createServer`. Mirrors `loop.create_server(…, reuse_port=True)` on
    ///   every loop.
    public func createServer<P: StreamingProtocol & SendableMetatype>(
        _ factory: @escaping @Sendable (isolated EventLoop) -> P,
        host: String? = nil,
        port: Int = 0,
        backlog: Int = 100
    ) async throws -> GroupServer {
        let server = try await startOnEveryLoop(port: port) { loop, port in
            try await loop.createServer({ factory(loop) }, host: host, port: port, backlog: backlog, reusePort: true)
        } boundPort: {
            try $0.sockets.first?.localAddress().port ?? port
        }
        servers.withLock { $0.append(server) }
        return server
    }

    /// Serves stream clients with `clientConnected` on every loop (see `startOnEveryLoop`); each client's
    /// coroutine runs as a task on the loop that accepted it.
    ///
    /// - Throws: as `EventLoop.startServer`. Mirrors `asyncio.start_server(…, reuse_port=True)` on
    ///   every loop.
    public func startServer(
        host: String? = nil,
        port: Int = 0,
        limit: Int = StreamReader.defaultLimit,
        backlog: Int = 100,
        clientConnected: @escaping @Sendable (StreamReader, StreamWriter) async throws -> Void
    ) async throws -> GroupServer {
        let server = try await startOnEveryLoop(port: port) { loop, port in
            try await loop.startServer(
                host: host,
                port: port,
                limit: limit,
                backlog: backlog,
                reusePort: true,
                clientConnected: clientConnected
            )
        } boundPort: {
            try $0.sockets.first?.localAddress().port ?? port
        }
        servers.withLock { $0.append(server) }
        return server
    }
}

/// The services a group started with `startOnEveryLoop`, one per loop, on one port.
///
/// Every call hops to each service's loop; the services themselves never leave their loops.
public final class GroupServices<Service>: Sendable {
    // SAFETY (UnsafeTransfer): each service is touched only by code submitted to its own loop.
    private let services: [(EventLoop, UnsafeTransfer<Service>)]
    /// The port every loop listens on.
    public let port: Int

    init(services: [(EventLoop, UnsafeTransfer<Service>)], port: Int) {
        self.services = services
        self.port = port
    }

    /// The number of loops serving.
    public var count: Int { services.count }

    /// Runs `body` with each loop's service, on that loop, all loops at once; waits for all.
    ///
    /// - Throws: the first error a body threw (the others still ran to completion).
    public func onEachLoop(_ body: @escaping @Sendable (isolated EventLoop, Service) async throws -> Void) async throws
    {
        let futures = try services.map { loop, service in
            try loop.runCoroutineThreadSafe { loop in try await body(loop, service.value) }
        }
        var firstError: (any Error)?
        for future in futures {
            do { try await future.value } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }
}

/// The `Server`s a group started (`createServer`, `startServer`), one per loop, on one port.
public typealias GroupServer = GroupServices<Server>

extension GroupServices where Service == Server {
    /// Stops listening on every loop; existing connections go on (as `Server.close()`).
    ///
    /// Mirrors `Server.close()` on every loop.
    public func close() async {
        try? await onEachLoop { _, server in server.close() }
    }

    /// Closes every connection of every loop's server. Mirrors `Server.close_clients()`.
    public func closeClients() async {
        try? await onEachLoop { _, server in server.closeClients() }
    }

    /// Aborts every connection of every loop's server. Mirrors `Server.abort_clients()`.
    public func abortClients() async {
        try? await onEachLoop { _, server in server.abortClients() }
    }

    /// `close()` and `abortClients()` from a thread outside the group, waiting for each loop.
    func closeBlocking() {
        for (loop, server) in services {
            _ = try? loop.runCoroutineThreadSafe { _ in
                server.value.close()
                server.value.abortClients()
            }.result(timeout: .seconds(10))
        }
    }

    /// Waits until every loop's server is closed and its connections are gone.
    ///
    /// Mirrors `Server.wait_closed()`.
    public func waitClosed() async throws {
        try await onEachLoop { _, server in try await server.waitClosed() }
    }
}

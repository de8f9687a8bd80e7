import AsyncIO
import DequeModule

// Theory of operation
//
// A Pool lends each command (or each `withConnection` body) a connection of its own, at most
// `size` open at once. A free connection goes straight to the longest-waiting caller (FIFO);
// without a waiter it goes back on the idle stack (most recently used on top, so a quiet pool's
// extra connections age and are health-checked rather than kept warm by rotation).
//
// Slots are counted, not connections: `open` counts connections open or being opened. A waiter is
// woken either with a connection or with nil, "a slot is free: open one yourself", after a broken
// connection was given back. A waiter that gives up (timeout, cancellation) leaves the line; if a
// connection was handed to it just then, it is passed on, so no slot is ever lost.
//
// Health: a connection idle longer than `healthCheckInterval` is PINGed before it is lent; a
// broken one (closed by the server, a cancelled command) is dropped and its slot freed.

/// A bounded pool of connections: asyncio_redis's `Pool`, redis-py's `BlockingConnectionPool`.
///
/// ```swift
/// let pool = try await Pool.create(host: "localhost", port: 6379, size: 10)
/// try await pool.set("k", "v")                        // any command, on a free connection
/// try await pool.withConnection { redis in            // one connection for several commands
///     try await redis.transaction(watching: ["k"]) { redis, transaction in … }
/// }
/// await pool.close()
/// ```
public final class Pool: RedisClient {
    public let configuration: Configuration
    /// The most connections open at once.
    public let size: Int
    /// The longest a caller waits for a free connection (nil: no limit).
    public let waitTimeout: Duration?
    /// Idle connections older than this are PINGed before they are lent (nil: never).
    public let healthCheckInterval: Duration?
    public let loop: EventLoop

    private var idle: [(connection: Connection, since: ContinuousClock.Instant)] = []
    private var waiters: Deque<Future<Connection?>> = []
    /// Connections open or being opened.
    public private(set) var openCount = 0
    private var closed = false
    private var drained: Future<Void>?

    init(
        configuration: Configuration,
        size: Int,
        waitTimeout: Duration?,
        healthCheckInterval: Duration?,
        loop: EventLoop
    ) {
        self.configuration = configuration
        self.size = Swift.max(1, size)
        self.waitTimeout = waitTimeout
        self.healthCheckInterval = healthCheckInterval
        self.loop = loop
    }

    /// Creates a pool and opens its first connection, so a wrong address or password fails here.
    public static func create(host: String = "localhost", port: Int = 6379, size: Int = 10) async throws -> Pool {
        try await create(Configuration(host: host, port: port), size: size)
    }

    /// Creates a pool of connections opened as `configuration` says.
    public static func create(
        _ configuration: Configuration,
        size: Int = 10,
        waitTimeout: Duration? = .seconds(10),
        healthCheckInterval: Duration? = .seconds(30)
    ) async throws -> Pool {
        let loop: EventLoop
        do { loop = try getRunningLoop() } catch { throw RedisError.wrongLoop }
        let pool = Pool(
            configuration: configuration,
            size: size,
            waitTimeout: waitTimeout,
            healthCheckInterval: healthCheckInterval,
            loop: loop
        )
        let first = try await pool.acquire()
        pool.release(first)
        return pool
    }

    /// Idle connections right now.
    public var idleCount: Int { idle.count }

    public func run<Value>(_ command: Command<Value>) async throws -> Value {
        try await withConnection { try await $0.run(command) }
    }

    /// Lends a connection to `body` and takes it back afterwards (a broken one is replaced).
    public func withConnection<Result>(_ body: (Connection) async throws -> Result) async throws -> Result {
        let connection = try await acquire()
        defer { release(connection) }
        return try await body(connection)
    }

    /// A connection of its own for the caller, who must ``release(_:)`` it.
    public func acquire() async throws -> Connection {
        while true {
            if closed { throw RedisError.poolExhausted("the pool is closed") }
            if let (connection, since) = idle.popLast() {
                if connection.isClosed {
                    openCount -= 1
                    continue
                }
                if let interval = healthCheckInterval, since.duration(to: .now) > interval {
                    guard (try? await connection.ping()) != nil else {
                        connection.close()
                        openCount -= 1
                        continue
                    }
                }
                return connection
            }
            if openCount < size {
                return try await open()
            }
            if let connection = try await wait() { return connection }
            // nil: a slot was freed for us (openCount already counts it).
            openCount -= 1
        }
    }

    private func open() async throws -> Connection {
        openCount += 1
        do {
            return try await Connection.create(configuration)
        } catch {
            freeSlot()
            throw error
        }
    }

    /// Waits in line; nil means a slot was freed (and counted for us).
    private func wait() async throws -> Connection? {
        let future: Future<Connection?>
        do { future = try Future() } catch { throw RedisError.wrongLoop }
        waiters.append(future)
        do {
            guard let limit = waitTimeout else { return try await future.value }
            return try await timeout(limit) { _ in try await future.value }
        } catch {
            if let index = waiters.firstIndex(where: { $0 === future }) { waiters.remove(at: index) }
            if future.isDone, !future.isCancelled {
                // Handed over just as we gave up: pass it on.
                switch Result(catching: { try future.result() }) {
                case .success(let granted?): release(granted)
                case .success(nil): freeSlot()
                case .failure: break
                }
            }
            if let error = error as? AsyncIOError, case .timeout = error {
                throw RedisError.poolExhausted("no free connection within \(limitText)")
            }
            throw error
        }
    }

    private var limitText: String { waitTimeout.map { "\($0)" } ?? "the limit" }

    /// Gives a connection back: to the first waiter, else to the idle stack; a broken one frees its slot.
    public func release(_ connection: Connection) {
        if closed || connection.isClosed {
            connection.close()
            freeSlot()
            return
        }
        if !wakeOne(with: connection) {
            idle.append((connection, .now))
        }
    }

    /// A slot is no longer used: it goes to the first waiter (still counted, for it to open a
    /// connection), or is uncounted.
    private func freeSlot() {
        if closed || !wakeOne(with: nil) { openCount -= 1 }
        checkDrained()
    }

    /// Hands `grant` to the longest waiter still waiting; false if there is none.
    @discardableResult
    private func wakeOne(with grant: Connection?) -> Bool {
        while let waiter = waiters.popFirst() {
            if !waiter.isDone, (try? waiter.setResult(grant)) != nil { return true }
        }
        return false
    }

    /// Closes the pool: idle connections now, lent ones as they come back; waiters fail. Returns
    /// when every connection is closed.
    public func close() async {
        guard !closed else { return }
        closed = true
        for (connection, _) in idle {
            connection.close()
            openCount -= 1
        }
        idle.removeAll()
        while let waiter = waiters.popFirst() {
            try? waiter.setException(RedisError.poolExhausted("the pool is closed"))
        }
        guard openCount > 0, let future = try? Future<Void>() else { return }
        drained = future
        try? await future.value
    }

    private func checkDrained() {
        if closed, openCount == 0, let drained {
            self.drained = nil
            try? drained.setResult(())
        }
    }
}

import AsyncIO
import AsyncIOTLS
import HTTP1Codec

/// A point in time by which something must happen, and which timeout it stands for.
struct Deadline {
    var instant: LoopInstant
    var kind: ClientTimeout.Kind

    /// The earlier of two optional deadlines.
    static func earliest(_ a: Deadline?, _ b: Deadline?) -> Deadline? {
        guard let a else { return b }
        guard let b else { return a }
        return b.instant < a.instant ? b : a
    }
}

/// A session's keep-alive connections: the I/O around ``ConnectionPoolState``.
///
/// Waiters wait on a Future each; the pool only completes Futures and closes transports, so any
/// of its methods may run from code that is not statically isolated to the loop. Connecting is
/// done by the waiter itself (in `acquire`, which is), in a task of its own so that the connect
/// timeouts can stop it. Idle connections are closed after `keepAliveTimeout` (aiohttp's
/// `keepalive_timeout`, 15 s), checked by one timer for the whole pool.
///
/// Mirrors `aiohttp.TCPConnector(limit=100, limit_per_host=0, keepalive_timeout=15)`.
final class ConnectionPool {
    typealias Key = ClientURL.Origin

    enum Grant {
        case connection(ClientConnection)
        case connect
    }

    private var state: ConnectionPoolState<Key>
    private var connections: [Int: ClientConnection] = [:]
    private var waiters: [Int: (future: Future<Grant>, key: Key)] = [:]
    private var nextID = 0
    private var expiryTimer: Handle?
    let keepAliveTimeout: Duration
    let limits: HTTPParserLimits
    /// The context of `https` connections: the session's, or the default one once made.
    private var tls: TLSContext?
    private(set) var isClosed = false

    init(limit: Int, limitPerHost: Int, keepAliveTimeout: Duration, limits: HTTPParserLimits, tls: TLSContext?) {
        state = ConnectionPoolState(limit: limit, limitPerHost: limitPerHost)
        self.keepAliveTimeout = keepAliveTimeout
        self.limits = limits
        self.tls = tls
    }

    /// The context for an `https` origin (and a `wss://` WebSocket): the session's, or the
    /// default (system roots, full verification, ALPN http/1.1), made once.
    func tlsContext() throws(TLSError) -> TLSContext {
        if let tls { return tls }
        let context = try TLSContext(.client(alpnProtocols: ["http/1.1"]))
        tls = context
        return context
    }

    deinit {
        expiryTimer?.cancel()
        for connection in connections.values {
            connection.place == .idle ? connection.close() : connection.abortTransport()
        }
    }

    /// What the pool holds now.
    var statistics: ClientSession.PoolStatistics {
        ClientSession.PoolStatistics(
            open: state.openCount,
            idle: state.idleCount,
            waiting: state.waitingCount
        )
    }

    private func makeID() -> Int {
        nextID += 1
        return nextID
    }

    // MARK: - Acquiring

    /// Returns a busy connection to `key`: an idle one, or a new one once the limits allow.
    ///
    /// - Throws: ``ClientError/timeout(_:)`` (connect or total, whichever `deadline` is);
    ///   ``ClientError/cannotConnect(host:port:reason:)``; `CancelledError`.
    func acquire(
        _ key: Key,
        deadline: Deadline?,
        sockConnect: Duration?,
        loop: EventLoop
    ) async throws -> ClientConnection {
        guard !isClosed else { throw ClientError.sessionClosed }
        let waiter = makeID()
        var grant: Grant?
        for action in state.acquire(key, waiter: waiter) {
            switch action {
            case .handOver(waiter, let id):
                let connection = connections[id]!
                connection.place = .busy
                grant = .connection(connection)
            case .connect(waiter):
                grant = .connect
            default:
                perform([action])
            }
        }
        if grant == nil { grant = try await wait(waiter, key: key, deadline: deadline, loop: loop) }
        switch grant! {
        case .connection(let connection):
            return connection
        case .connect:
            let attemptDeadline = Deadline.earliest(
                deadline,
                sockConnect.map { Deadline(instant: loop.time + $0, kind: .sockConnect) }
            )
            return try await connect(key, deadline: attemptDeadline, loop: loop)
        }
    }

    /// Waits in line for a grant.
    private func wait(_ waiter: Int, key: Key, deadline: Deadline?, loop: EventLoop) async throws -> Grant {
        let future = try Future<Grant>()
        waiters[waiter] = (future, key)
        do {
            return try await awaitFuture(future, until: deadline, loop: loop)
        } catch {
            // Gave up (timeout, cancellation): leave the line, and give back a grant that came anyway.
            waiters[waiter] = nil
            state.removeWaiter(waiter)
            if future.isDone, !future.isCancelled, let grant = try? future.result() {
                switch grant {
                case .connection(let connection):
                    loop.runIsolated(connection) { connection, loop in connection.pool?.release(connection, loop: loop)
                    }
                case .connect:
                    perform(state.connectFailed(key))
                }
            }
            throw error
        }
    }

    /// Opens a connection in a task of its own (so that a deadline can cancel it).
    private func connect(_ key: Key, deadline: Deadline?, loop: EventLoop) async throws -> ClientConnection {
        let connection = ClientConnection(id: makeID(), origin: key, limits: limits, pool: self, loop: loop)
        let tls: TLSContext?
        do {
            tls = key.scheme == "https" ? try tlsContext() : nil
        } catch {
            perform(state.connectFailed(key))
            throw ClientError.tls(host: key.host, port: key.port, error: error)
        }
        loop.runIsolated(connection) { connection, loop in
            connection.connecting = loop.createTask(name: "connect \(connection.origin.host):\(connection.origin.port)")
            {
                let (host, port) = (connection.origin.host, connection.origin.port)
                if let tls {
                    // The handshake is part of connecting: the connect timeout covers it.
                    _ = try await loop.createConnection(
                        { connection },
                        host: host,
                        port: port,
                        tls: tls,
                        happyEyeballsDelay: .milliseconds(250)
                    )
                } else {
                    _ = try await loop.createConnection(
                        { connection },
                        host: host,
                        port: port,
                        happyEyeballsDelay: .milliseconds(250)
                    )
                }
            }
        }
        let task = connection.connecting!
        connection.connecting = nil
        do {
            try await awaitFuture(task, until: deadline, loop: loop)
        } catch {
            if task.isDone, !task.isCancelled, (try? task.result()) != nil {
                // Connected just as we gave up: nobody counts this connection, so just close it.
                connection.close()
            }
            perform(state.connectFailed(key))
            if error is ClientError || error is CancelledError { throw error }
            if let error = error as? TLSError { throw ClientError.tls(host: key.host, port: key.port, error: error) }
            throw ClientError.cannotConnect(host: key.host, port: key.port, reason: "\(error)")
        }
        guard !isClosed else {
            connection.close()
            perform(state.connectFailed(key))
            throw ClientError.sessionClosed
        }
        connections[connection.id] = connection
        return connection
    }

    // MARK: - Events from connections

    /// A busy connection finished a response (or was not wanted after all) and can carry another
    /// request: it goes idle, or straight to the next waiter.
    func release(_ connection: ClientConnection, loop: isolated EventLoop) {
        guard !isClosed else {
            connection.close()
            return
        }
        connection.place = .idle
        perform(state.release(connection.id, key: connection.origin, reusable: true, now: loop.time))
        scheduleExpiry(loop: loop)
    }

    /// A connection closed (its `connectionLost`): its slot is free.
    func connectionClosed(_ connection: ClientConnection, wasIdle: Bool, loop: isolated EventLoop) {
        guard connections.removeValue(forKey: connection.id) != nil else { return }
        if wasIdle {
            perform(state.idleClosed(connection.id, key: connection.origin))
        } else {
            perform(state.release(connection.id, key: connection.origin, reusable: false, now: loop.time))
        }
    }

    /// Closes every connection, idle and busy, and fails every waiter: the session is closing.
    func closeAll() {
        isClosed = true
        expiryTimer?.cancel()
        expiryTimer = nil
        let (idle, dropped) = state.closeAll()
        for id in idle {
            let connection = connections.removeValue(forKey: id)
            connection?.place = .gone
            connection?.close()
        }
        for id in dropped {
            if let waiter = waiters.removeValue(forKey: id) {
                try? waiter.future.setException(ClientError.sessionClosed)
            }
        }
        // Busy connections are cut: their responses fail with serverDisconnected.
        for connection in connections.values { connection.abortTransport() }
    }

    // MARK: - Actions

    private func perform(_ actions: [ConnectionPoolState<Key>.Action]) {
        for action in actions {
            switch action {
            case .handOver(let waiter, let id):
                let connection = connections[id]!
                connection.place = .busy
                guard let entry = waiters.removeValue(forKey: waiter),
                    (try? entry.future.setResult(.connection(connection))) != nil
                else {
                    // The waiter was cancelled in this same iteration: the connection stays idle.
                    connection.place = .idle
                    perform(state.release(id, key: connection.origin, reusable: true, now: connection.loop.time))
                    continue
                }
            case .connect(let waiter):
                guard let entry = waiters.removeValue(forKey: waiter) else { continue }
                if (try? entry.future.setResult(.connect)) == nil {
                    // The waiter was cancelled in this same iteration: free the slot it was given.
                    perform(state.connectFailed(entry.key))
                }
            case .close(let id):
                let connection = connections.removeValue(forKey: id)
                connection?.place = .gone
                connection?.close()
            }
        }
    }

    private func scheduleExpiry(loop: isolated EventLoop) {
        guard expiryTimer == nil, let oldest = state.oldestIdleSince else { return }
        expiryTimer = loop.callAt(oldest + keepAliveTimeout) { [weak self] in
            guard let self else { return }
            self.expiryTimer = nil
            self.perform(self.state.expire(idleSince: loop.time + (.zero - self.keepAliveTimeout)))
            self.scheduleExpiry(loop: loop)
        }
    }
}

/// A Future watched by a deadline timer.
private final class DeadlineWatch<Value> {
    let future: Future<Value>
    var expired = false
    var timer: Handle?

    init(_ future: Future<Value>) {
        self.future = future
    }
}

/// Awaits `future` until `deadline`; past it, cancels the Future and throws the deadline's timeout.
func awaitFuture<Value>(_ future: Future<Value>, until deadline: Deadline?, loop: EventLoop) async throws -> Value {
    guard let deadline else { return try await future.value }
    let watch = DeadlineWatch(future)
    loop.runIsolated(watch) { watch, loop in
        watch.timer = loop.callAt(deadline.instant) {
            if !watch.future.isDone {
                watch.expired = true
                watch.future.cancel(message: "client timeout")
            }
        }
    }
    defer { watch.timer?.cancel() }
    do {
        return try await future.value
    } catch is CancelledError where watch.expired {
        throw ClientError.timeout(deadline.kind)
    }
}

import AsyncIO
import AsyncIOTLS
import RESPCodec

// Theory of operation
//
// A Connection is a ConnectionProtocol (bytes in from the loop) with async methods on top (commands
// out from tasks). Both halves run on the loop's thread: the protocol callbacks are isolated to the
// loop, and the async methods run on their caller's executor, which is the loop (they check it).
//
// Out: a command is encoded once, into its own array, and takes its place in the line
// (PendingReplies). The first command of a loop iteration is written at once (the common case: one
// caller awaiting each command, or a pipeline, pays no scheduling at all). Later commands of the
// same iteration are queued, and the first of them schedules one flush with `callSoon`, which
// writes them all with one `writev`. So fifty tasks calling `get` at once cost two system calls,
// with no pipeline object in sight.
//
// In: `dataReceived` feeds the parser and hands each complete value to the head of the line. Push
// frames (RESP3 `>`), and in a subscriber the RESP2 arrays that are pub/sub messages, never take a
// place in the line: messages go to the subscriber, SUBSCRIBE confirmations to the command that is
// waiting for them, anything else to `onPush`.
//
// Failure is total and final: a malformed frame, a reply nobody asked for, a cancelled or timed-out
// command, a lost socket. Each sets `failure`, fails every pending command with it, and aborts the
// transport; every later command throws it at once. A fresh connection (a Pool makes one) starts
// clean.

/// A connection to a Redis server: asyncio_redis's `Connection`, redis-py's `Redis` on one socket.
///
/// ```swift
/// let connection = try await Connection.create(host: "localhost", port: 6379)
/// try await connection.set("greeting", "hello", expiry: .seconds(60))
/// let greeting = try await connection.get("greeting")     // "hello"
/// ```
///
/// Commands may be called from many tasks at once: what they queue in one loop iteration goes out
/// in one write, and each caller gets its own reply. A Connection belongs to the event loop it was
/// created on; use it from tasks on that loop.
public final class Connection: ConnectionProtocol {
    /// How this connection was opened.
    public let configuration: Configuration
    /// The loop the connection belongs to.
    public let loop: EventLoop
    /// 3 after a successful `HELLO 3`, else 2.
    public private(set) var protocolVersion = 2
    /// Called with every RESP3 push frame that is not a pub/sub message or confirmation (client-side
    /// caching invalidations, for example), on the loop, between replies.
    public var onPush: ((RESPValue) -> Void)?

    private var transport: (any Transport)?
    // SAFETY (`@exclusivity(unchecked)`): these are touched on the loop's thread only, and no
    // access to one of them overlaps another: feeding the parser, delivering a reply and queueing a
    // command call nothing that comes back into the connection (waking a caller only schedules
    // it). The run-time check cost a tenth of a pipelined command.
    @exclusivity(unchecked) private var parser: RESPParser
    @exclusivity(unchecked) private var pending = PendingReplies()
    /// Places in the line whose callers are done with them, for the next commands.
    @exclusivity(unchecked) private var spare: [PendingCommand] = []
    @exclusivity(unchecked) private var outgoing: [[UInt8]] = []
    private var flushScheduled = false
    /// The loop iteration in which a command was last written at once (see `enqueue`).
    private var lastWriteIteration = -1
    /// Why the connection is unusable; set once, never cleared.
    private(set) var failure: RedisError?
    /// The subscriber this connection delivers messages to (it owns the connection).
    weak var subscriber: Subscriber?
    /// Told once when the connection is gone (a pool's slot, a subscriber's reconnect).
    var onClose: ((RedisError) -> Void)?
    private var opening: LoopTask<Void>?

    init(configuration: Configuration, loop: EventLoop) {
        self.configuration = configuration
        self.loop = loop
        parser = RESPParser(limits: configuration.limits)
    }

    // MARK: - Opening

    /// Connects to `host`:`port` (asyncio_redis's `Connection.create`), authenticates, selects the
    /// database and negotiates RESP3.
    ///
    /// - Throws: ``RedisError`` (connect failures are ``RedisError/connectionClosed(reason:)``,
    ///   ``RedisError/timeout(_:)``), ``RedisReplyError`` for a refused `AUTH` or `SELECT`.
    public static func create(
        host: String = "localhost",
        port: Int = 6379,
        password: String? = nil,
        database: Int = 0
    ) async throws -> Connection {
        try await create(Configuration(host: host, port: port, password: password, database: database))
    }

    /// Connects as a `redis://`, `unix://` URL says (see ``Configuration/init(url:)``).
    public static func create(url: String) async throws -> Connection {
        try await create(try Configuration(url: url))
    }

    /// Connects as `configuration` says, on the running loop.
    public static func create(_ configuration: Configuration) async throws -> Connection {
        let loop: EventLoop
        do { loop = try getRunningLoop() } catch { throw RedisError.wrongLoop }
        let connection = Connection(configuration: configuration, loop: loop)
        do {
            try await timeout(configuration.connectTimeout) { _ in try await connection.open() }
        } catch {
            connection.fail(.connectionClosed(reason: "connect failed: \(error)"))
            if let error = error as? AsyncIOError, case .timeout = error {
                throw RedisError.timeout("connecting to \(configuration.endpoint)")
            }
            if error is RedisError || error is RedisReplyError || error is CancelledError { throw error }
            throw RedisError.connectionClosed(reason: "cannot connect to \(configuration.endpoint): \(error)")
        }
        return connection
    }

    private func open() async throws {
        loop.runIsolated(self) { connection, loop in
            connection.opening = loop.createTask(name: "redis connect") {
                switch connection.configuration.endpoint {
                case .tcp(let host, let port):
                    if let tls = connection.configuration.tls {
                        _ = try await loop.createConnection({ connection }, host: host, port: port, tls: tls)
                    } else {
                        _ = try await loop.createConnection({ connection }, host: host, port: port)
                    }
                case .unix(let path):
                    _ = try await loop.createUnixConnection({ connection }, path: path)
                }
            }
        }
        let task = opening!
        opening = nil
        try await task.value
        try await handshake()
    }

    /// `HELLO 3 [AUTH user pass] [SETNAME name]`, or on a server that refuses it, `AUTH` and
    /// `CLIENT SETNAME` in RESP2; then `SELECT`.
    private func handshake() async throws {
        let config = configuration
        var helloDone = false
        if config.protocolVersion >= 3 {
            var writer = CommandWriter(
                count: 2 + (config.password == nil ? 0 : 3) + (config.clientName == nil ? 0 : 2)
            )
            writer.add("HELLO")
            writer.add("3")
            if let password = config.password {
                writer.add("AUTH")
                writer.add(config.username ?? "default")
                writer.add(password)
            }
            if let name = config.clientName {
                writer.add("SETNAME")
                writer.add(name)
            }
            let reply = try await roundTrip(writer.bytes)
            if let error = reply.replyError {
                // NOPROTO: no RESP3 here; "unknown command": a server older than 6. Anything else
                // (a wrong password) is the caller's to see.
                guard error.code == "NOPROTO" || error.message.lowercased().contains("unknown command") else {
                    throw error
                }
            } else {
                protocolVersion = 3
                helloDone = true
            }
        }
        if !helloDone {
            if let password = config.password {
                if let username = config.username {
                    _ = try await run(Command<String>("AUTH", username, password))
                } else {
                    _ = try await run(Command<String>("AUTH", password))
                }
            }
            if let name = config.clientName { _ = try await run(Command<String>("CLIENT", "SETNAME", name)) }
        }
        if config.database != 0 { _ = try await run(Command<String>("SELECT", config.database)) }
    }

    // MARK: - Commands

    /// Runs a typed command and returns its decoded value.
    ///
    /// - Throws: ``RedisReplyError`` for an error reply; ``RedisError`` when the connection failed
    ///   or the reply has the wrong shape; `CancelledError` when the caller was cancelled (which
    ///   closes the connection, see the type's documentation).
    public func run<Value>(_ command: Command<Value>) async throws -> Value {
        try command.value(of: try await roundTrip(command.bytes))
    }

    /// Sends any command and returns its raw reply (redis-py's `execute_command`).
    ///
    /// `try await connection.send("OBJECT", "ENCODING", "mykey")`. Arguments may be `String`,
    /// `[UInt8]`, integers, `Double`, or anything ``RESPCommandArgument``.
    /// - Throws: ``RedisReplyError`` for an error reply, and as ``run(_:)``.
    @discardableResult
    public func send<each Argument: RESPCommandArgument>(_ argument: repeat each Argument) async throws -> RESPValue {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(repeat each argument, into: &bytes)
        let reply = try await roundTrip(bytes)
        if let error = reply.replyError { throw error }
        return reply
    }

    /// Whether the connection can no longer carry commands.
    public var isClosed: Bool { failure != nil }

    /// What the connection holds right now: every count is bounded by the commands in flight, so
    /// a connection that answered everything it was asked holds nothing but its spare places.
    public var statistics: ConnectionStatistics {
        ConnectionStatistics(
            pendingCount: pending.count,
            queuedCount: outgoing.count,
            sparePlaceCount: spare.count,
            bufferedByteCount: parser.bufferedByteCount
        )
    }

    /// Closes the connection; commands still waiting fail with ``RedisError/connectionClosed(reason:)``.
    public func close() {
        fail(.connectionClosed(reason: "closed by the client"), abort: false)
    }

    /// Sends `bytes` (one command) and waits for its reply, error replies included.
    func roundTrip(_ bytes: [UInt8]) async throws -> RESPValue {
        switch try await submit(bytes, .reply) {
        case .reply(let reply): return reply
        case .replies(let replies): return .array(replies)  // not reached: a `.reply` place gets one reply
        case .pending, .failed: throw failure ?? RedisError.connectionClosed(reason: "no reply")
        }
    }

    /// Sends `count` commands encoded in `bytes` and waits for all their replies.
    func roundTrip(_ bytes: [UInt8], count: Int) async throws -> [RESPValue] {
        switch try await submit(bytes, .batch(count: count)) {
        case .replies(let replies): return replies
        case .reply(let reply): return [reply]  // not reached: a batch place gets its array
        case .pending, .failed: throw failure ?? RedisError.connectionClosed(reason: "no reply")
        }
    }

    /// Sends a SUBSCRIBE-family command and waits for its `count` confirmations (or its error).
    func subscribeRoundTrip(_ bytes: [UInt8], kind: String, count: Int) async throws -> RESPValue {
        try await roundTrip(bytes, .confirmations(kind: Array(kind.utf8), remaining: count))
    }

    private func roundTrip(_ bytes: [UInt8], _ kind: PendingCommand.Kind) async throws -> RESPValue {
        guard case .reply(let reply) = try await submit(bytes, kind) else {
            throw failure ?? RedisError.connectionClosed(reason: "no reply")
        }
        return reply
    }

    /// Queues `bytes` with a place in the line of `kind`, waits until the place is done, and
    /// returns its outcome (a failed outcome is thrown).
    private func submit(_ bytes: [UInt8], _ kind: PendingCommand.Kind) async throws -> PendingCommand.Outcome {
        if let failure { throw failure }
        guard (try? getRunningLoop()) === loop else { throw RedisError.wrongLoop }
        let place = spare.popLast() ?? PendingCommand(loop: loop)
        place.reset(kind)
        enqueue(bytes, place)
        try await awaitReply(place)
        let outcome = place.outcome
        place.outcome = .pending
        spare.append(place)  // its caller is done with it: the next command may take it
        if case .failed(let error) = outcome { throw error }
        return outcome
    }

    /// Queues a command's bytes and its place in the line, and schedules the flush.
    private func enqueue(_ bytes: [UInt8], _ place: PendingCommand) {
        pending.append(place)
        let iteration = loop.statistics.iterations
        if outgoing.isEmpty, iteration != lastWriteIteration, let transport {
            // The first command of this iteration: straight out, in order behind what was sent.
            lastWriteIteration = iteration
            try? transport.write(bytes)
            return
        }
        outgoing.append(bytes)
        if !flushScheduled {
            flushScheduled = true
            scheduleFlush()
        }
    }

    /// Schedules `flush()` for the next iteration of the loop.
    ///
    /// `assumeIsolated` (which checks the thread, see EventLoop's `isIsolatingCurrentContext`) and
    /// a callback made once: scheduling a flush allocates only its Handle.
    private func scheduleFlush() {
        // SAFETY: the callback is only called on the loop's thread, by the loop, and this runs on
        // that thread (assumeIsolated stops the program otherwise).
        let callback = FlushCallback(flushCallback)
        loop.assumeIsolated { loop in _ = loop.callSoon(callback.call) }
    }

    /// `flush()` as a callback made once, so that scheduling a flush allocates only its Handle.
    private lazy var flushCallback: () throws -> Void = { [unowned self] in self.flush() }

    /// Writes everything queued since the last flush, in one system call.
    private func flush() {
        flushScheduled = false
        guard let transport, failure == nil else { return }
        if outgoing.count == 1 {
            try? transport.write(outgoing[0])
        } else {
            try? transport.writeLines(outgoing)
        }
        outgoing.removeAll(keepingCapacity: true)
    }

    /// Waits until `place` is done; a caller that stops waiting before that poisons the connection
    /// (see PendingReplies).
    private func awaitReply(_ place: PendingCommand) async throws {
        do {
            if let limit = configuration.commandTimeout {
                try await timeout(limit) { _ in try await Self.wait(place) }
            } else {
                try await Self.wait(place)
            }
        } catch {
            // Done already (the reply came in the same iteration as the cancellation): the line is
            // intact, the caller just does not see the reply.
            guard !place.isDone else { throw error }
            let timedOut: Bool
            if let error = error as? AsyncIOError, case .timeout = error { timedOut = true } else { timedOut = false }
            fail(
                .connectionClosed(
                    reason: "a command was \(timedOut ? "timed out" : "cancelled") after it was sent; "
                        + "its reply could reach another command"
                )
            )
            if timedOut { throw RedisError.timeout("no reply within \(configuration.commandTimeout!)") }
            throw error
        }
    }

    private static func wait(_ place: PendingCommand) async throws {
        while !place.isDone { try await place.point.wait() }
    }

    /// Makes the connection unusable: every pending command fails with `error`, the transport goes.
    func fail(_ error: RedisError, abort: Bool = true) {
        guard failure == nil else { return }
        failure = error
        outgoing.removeAll()
        pending.failAll(error)
        if abort { transport?.abort() } else { transport?.close() }
        if transport == nil { closed(error) }
    }

    private func closed(_ error: RedisError) {
        let onClose = self.onClose
        self.onClose = nil
        onClose?(error)
    }

    // MARK: - ConnectionProtocol

    public func connectionMade(_ transport: any Transport, loop: isolated EventLoop) {
        if failure != nil {
            transport.abort()  // the connect was given up on while it completed
            return
        }
        self.transport = transport
    }

    public func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {
        guard failure == nil else { return }
        parser.feed(data)
        do {
            while failure == nil, let value = try parser.next() {
                route(value)
            }
        } catch {
            fail(.protocolError("malformed reply: \(error)"))
        }
    }

    public func eofReceived(loop: isolated EventLoop) -> Bool {
        let partial = parser.bufferedByteCount > 0 ? " in the middle of a reply" : ""
        fail(.connectionClosed(reason: "the server closed the connection\(partial)"))
        return false
    }

    public func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        transport = nil
        let reason = error.map { "the connection was lost: \($0)" } ?? "the server closed the connection"
        fail(.connectionClosed(reason: reason))
        if let failure { closed(failure) }
    }

    // MARK: - Routing replies

    /// Hands one top-level value to whoever it belongs to.
    private func route(_ value: RESPValue) {
        switch value {
        case .push(let elements):
            routePush(value, elements)
        case .array(let elements) where subscriber != nil && Self.isPubSubFrame(elements):
            routePush(value, elements)
        default:
            guard pending.deliver(value) else {
                fail(.protocolError("a reply arrived that no command was waiting for: \(value)"))
                return
            }
        }
    }

    private static let messageKinds: Set<[UInt8]> = Set(["message", "pmessage", "smessage"].map { Array($0.utf8) })
    private static let confirmationKinds: Set<[UInt8]> = Set(
        ["subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"].map { Array($0.utf8) }
    )

    /// A RESP2 array a subscribed connection gets for a message or a SUBSCRIBE confirmation.
    private static func isPubSubFrame(_ elements: [RESPValue]) -> Bool {
        guard elements.count >= 3, case .bulkString(let kind) = elements[0] else { return false }
        return messageKinds.contains(kind) || confirmationKinds.contains(kind)
    }

    private func routePush(_ value: RESPValue, _ elements: [RESPValue]) {
        guard let kind = elements.first?.bytes else {
            onPush?(value)
            return
        }
        if Self.messageKinds.contains(kind), let message = PubSubMessage(kind: kind, elements) {
            if let subscriber { subscriber.deliver(message) } else { onPush?(value) }
        } else if Self.confirmationKinds.contains(kind) {
            if !pending.confirm(kind: kind, frame: value) { onPush?(value) }
        } else {
            onPush?(value)
        }
    }
}

/// The flush callback, handed to the loop's isolation (see `Connection.scheduleFlush`).
private struct FlushCallback: @unchecked Sendable {
    let call: () throws -> Void
    init(_ call: @escaping () throws -> Void) { self.call = call }
}

/// A snapshot of what a ``Connection`` holds (trio's `statistics()` habit).
public struct ConnectionStatistics: Sendable, Equatable {
    /// Commands sent (or queued) whose replies have not all arrived.
    public var pendingCount: Int
    /// Commands queued behind the first of this loop iteration, not written yet.
    public var queuedCount: Int
    /// Places in the line kept for reuse: at most the most commands that were in flight at once.
    public var sparePlaceCount: Int
    /// Reply bytes received and not yet consumed by a complete reply.
    public var bufferedByteCount: Int
}

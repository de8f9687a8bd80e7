import AsyncIO
import DequeModule
import RESPCodec

// Theory of operation
//
// A Subscriber owns one connection in subscribed mode (mini-redis' `subscribe(self)` consumes the
// client; asyncio_redis's `start_subscribe()` does the same). The connection hands it every
// message frame; the subscriber keeps them in a bounded buffer that one consumer drains with
// `next()` / `nextPublished()` / `for try await`. SUBSCRIBE-family commands wait for their
// confirmations through the connection's line of pending replies like any command.
//
// The subscriber remembers what it asked for (channels, patterns, shard channels). When the
// connection is lost and reconnecting is on, it puts a gap marker in the buffer at once (the
// messages published until it is back are gone, and the user must know), then reconnects with
// capped, jittered exponential backoff and subscribes again to exactly that set.
//
// The buffer never grows past its limit: with `.dropOldest` the oldest message goes and the count
// of dropped messages comes out as a gap marker before the next message; with `.fail` the
// subscription ends with `RedisError.subscriberOverflow`.

/// A pub/sub subscription that owns its connection: asyncio_redis's `Subscription`.
///
/// ```swift
/// let subscriber = try await connection.startSubscribe()
/// try await subscriber.subscribe(["my-channel"])
/// while true {
///     let reply = try await subscriber.nextPublished()
///     print("Received:", reply.value, "on channel", reply.channel)
/// }
/// ```
///
/// It is also an `AsyncSequence` of ``Event``s: messages, and ``Gap`` markers where messages may
/// have been lost (a reconnect, or a full buffer).
public final class Subscriber: AsyncSequence {
    /// What the sequence yields.
    public enum Event: Sendable, Hashable {
        case message(PubSubMessage)
        /// Messages may be missing here.
        case gap(Gap)
    }

    /// Where messages may have been lost, and why.
    public enum Gap: Sendable, Hashable {
        /// The connection was lost (`error`); it is being re-established and subscribed again.
        case reconnecting(after: RedisError)
        /// The buffer was full and this many of the oldest messages were dropped.
        case dropped(count: Int)
    }

    /// What happens when messages arrive faster than they are consumed.
    public enum BufferPolicy: Sendable, Hashable {
        /// Keep the newest `limit` messages; drop the oldest and report the count as a ``Gap``.
        case dropOldest(limit: Int)
        /// End the subscription with ``RedisError/subscriberOverflow(limit:)`` past `limit`.
        case fail(limit: Int)

        var limit: Int {
            switch self {
            case .dropOldest(let limit), .fail(let limit): Swift.max(1, limit)
            }
        }
    }

    /// How a lost connection is re-established: exponential backoff from `initialDelay`, doubling up
    /// to `maximumDelay`, each wait a random point in its upper half ("equal jitter").
    public struct ReconnectPolicy: Sendable, Hashable {
        public var initialDelay: Duration
        public var maximumDelay: Duration
        public var enabled: Bool

        public init(
            initialDelay: Duration = .milliseconds(100),
            maximumDelay: Duration = .seconds(5),
            enabled: Bool = true
        ) {
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
            self.enabled = enabled
        }

        /// Never reconnect: a lost connection ends the subscription with its error.
        public static let never = ReconnectPolicy(enabled: false)

        /// The wait before attempt `attempt` (0-based).
        func delay(attempt: Int) -> Duration {
            let ceiling = Swift.min(maximumDelay, initialDelay * (1 << Swift.min(attempt, 20)))
            let half = ceiling / 2
            return half + half * Double.random(in: 0...1)
        }
    }

    public let loop: EventLoop
    /// The connection messages arrive on now (a new one after each reconnect).
    public private(set) var connection: Connection
    public let bufferPolicy: BufferPolicy
    public let reconnectPolicy: ReconnectPolicy
    /// The channels, patterns and shard channels subscribed to (what a reconnect restores).
    public private(set) var channels: Set<String> = []
    public private(set) var patterns: Set<String> = []
    public private(set) var shardChannels: Set<String> = []
    /// Messages dropped by ``BufferPolicy/dropOldest(limit:)`` so far.
    public private(set) var droppedCount = 0
    /// Connections lost (and re-established or being re-established) so far.
    public private(set) var reconnectCount = 0

    private var buffer: Deque<PubSubMessage> = []
    private var gaps: Deque<Gap> = []
    private var unreportedDrops = 0
    private let arrived: WaitPoint
    private var failure: (any Error)?
    private var closedByUser = false
    private var reconnecting: LoopTask<Void>?

    init(connection: Connection, bufferPolicy: BufferPolicy, reconnectPolicy: ReconnectPolicy) {
        self.connection = connection
        loop = connection.loop
        self.bufferPolicy = bufferPolicy
        self.reconnectPolicy = reconnectPolicy
        arrived = WaitPoint(loop: connection.loop)
        attach(connection)
    }

    private func attach(_ connection: Connection) {
        self.connection = connection
        connection.subscriber = self
        connection.onClose = { [weak self] error in self?.connectionClosed(error) }
    }

    // MARK: - Subscribing

    /// Subscribes to `channels` and waits for the server's confirmations.
    public func subscribe(_ channels: [String]) async throws {
        guard !channels.isEmpty else { return }
        self.channels.formUnion(channels)
        try await command("SUBSCRIBE", channels, confirmations: channels.count)
    }

    /// Subscribes to channels matching glob-style `patterns`.
    public func psubscribe(_ patterns: [String]) async throws {
        guard !patterns.isEmpty else { return }
        self.patterns.formUnion(patterns)
        try await command("PSUBSCRIBE", patterns, confirmations: patterns.count)
    }

    /// Subscribes to shard channels (Redis 7 `SSUBSCRIBE`).
    public func ssubscribe(_ channels: [String]) async throws {
        guard !channels.isEmpty else { return }
        shardChannels.formUnion(channels)
        try await command("SSUBSCRIBE", channels, confirmations: channels.count)
    }

    /// Unsubscribes from `channels`, or from every channel when empty.
    public func unsubscribe(_ channels: [String] = []) async throws {
        let count = channels.isEmpty ? Swift.max(1, self.channels.count) : channels.count
        if channels.isEmpty { self.channels.removeAll() } else { self.channels.subtract(channels) }
        try await command("UNSUBSCRIBE", channels, confirmations: count)
    }

    /// Unsubscribes from `patterns`, or from every pattern when empty.
    public func punsubscribe(_ patterns: [String] = []) async throws {
        let count = patterns.isEmpty ? Swift.max(1, self.patterns.count) : patterns.count
        if patterns.isEmpty { self.patterns.removeAll() } else { self.patterns.subtract(patterns) }
        try await command("PUNSUBSCRIBE", patterns, confirmations: count)
    }

    /// Unsubscribes from shard channels, or from every one when empty.
    public func sunsubscribe(_ channels: [String] = []) async throws {
        let count = channels.isEmpty ? Swift.max(1, shardChannels.count) : channels.count
        if channels.isEmpty { shardChannels.removeAll() } else { shardChannels.subtract(channels) }
        try await command("SUNSUBSCRIBE", channels, confirmations: count)
    }

    private func command(_ name: String, _ names: [String], confirmations: Int) async throws {
        try await Self.command(name, names, confirmations: confirmations, on: connection)
    }

    private static func command(
        _ name: String,
        _ names: [String],
        confirmations: Int,
        on connection: Connection
    )
        async throws
    {
        var writer = CommandWriter(count: 1 + names.count)
        writer.add(name)
        writer.add(contentsOf: names)
        let reply = try await connection.subscribeRoundTrip(writer.bytes, kind: name.lowercased(), count: confirmations)
        if let error = reply.replyError { throw error }
    }

    // MARK: - Receiving

    /// The next message, waiting for one (asyncio_redis's `next_published()`).
    ///
    /// Gap markers are skipped here (``droppedCount`` and ``reconnectCount`` count them); iterate
    /// the subscriber as a sequence to see them in place.
    /// - Throws: the error that ended the subscription; ``RedisError/connectionClosed(reason:)``
    ///   after ``close()``.
    public func nextPublished() async throws -> PubSubMessage {
        while let event = try await next() {
            if case .message(let message) = event { return message }
        }
        throw RedisError.connectionClosed(reason: "the subscriber was closed")
    }

    /// The next event, or nil once the subscriber was closed and its buffer drained.
    public func next() async throws -> Event? {
        while true {
            if let gap = gaps.popFirst() { return .gap(gap) }
            if unreportedDrops > 0 {
                defer { unreportedDrops = 0 }
                return .gap(.dropped(count: unreportedDrops))
            }
            if let message = buffer.popFirst() { return .message(message) }
            if let failure { throw failure }
            if closedByUser { return nil }
            try await arrived.wait()
        }
    }

    /// Messages waiting to be consumed.
    public var bufferedCount: Int { buffer.count }

    /// Unsubscribes from everything by closing the connection; ``next()`` returns nil after the
    /// buffered messages.
    public func close() {
        closedByUser = true
        reconnecting?.cancel()
        reconnecting = nil
        connection.close()
        arrived.wake()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let subscriber: Subscriber

        public mutating func next() async throws -> Event? { try await subscriber.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(subscriber: self) }

    // MARK: - From the connection

    func deliver(_ message: PubSubMessage) {
        guard failure == nil else { return }
        if buffer.count >= bufferPolicy.limit {
            switch bufferPolicy {
            case .dropOldest:
                buffer.removeFirst()
                droppedCount += 1
                unreportedDrops += 1
            case .fail(let limit):
                end(RedisError.subscriberOverflow(limit: limit))
                return
            }
        }
        buffer.append(message)
        arrived.wake()
    }

    private func end(_ error: any Error) {
        failure = error
        reconnecting?.cancel()
        connection.fail(.connectionClosed(reason: "the subscription ended: \(error)"))
        arrived.wake()
    }

    private func connectionClosed(_ error: RedisError) {
        guard !closedByUser, failure == nil else { return }
        guard reconnectPolicy.enabled else {
            failure = error
            arrived.wake()
            return
        }
        reconnectCount += 1
        gaps.append(.reconnecting(after: error))
        arrived.wake()
        loop.runIsolated(self) { subscriber, loop in
            subscriber.reconnecting = loop.createTask(name: "redis resubscribe") { await subscriber.reconnect() }
        }
    }

    /// Opens a new connection and subscribes to exactly what was subscribed, until it works or the
    /// subscriber is closed.
    private func reconnect() async {
        var attempt = 0
        while !closedByUser, failure == nil {
            do {
                try await sleep(reconnectPolicy.delay(attempt: attempt))
            } catch {
                return  // cancelled by close()
            }
            attempt += 1
            var fresh: Connection?
            do {
                let connection = try await Connection.create(self.connection.configuration)
                fresh = connection
                connection.subscriber = self
                for (name, names) in [("SUBSCRIBE", channels), ("PSUBSCRIBE", patterns), ("SSUBSCRIBE", shardChannels)]
                where !names.isEmpty {
                    try await Self.command(name, names.sorted(), confirmations: names.count, on: connection)
                }
                guard !closedByUser else {
                    connection.close()
                    return
                }
                attach(connection)
                if connection.isClosed { connectionClosed(connection.failure!) }
                reconnecting = nil
                return
            } catch {
                fresh?.subscriber = nil
                fresh?.close()
            }
        }
    }
}

extension Connection {
    /// Turns this connection into a ``Subscriber``, which owns it from now on (asyncio_redis's
    /// `start_subscribe()`); use another connection for other commands.
    public func startSubscribe(
        bufferPolicy: Subscriber.BufferPolicy = .dropOldest(limit: 65_536),
        reconnect: Subscriber.ReconnectPolicy = Subscriber.ReconnectPolicy()
    ) async throws -> Subscriber {
        if let failure { throw failure }
        return Subscriber(connection: self, bufferPolicy: bufferPolicy, reconnectPolicy: reconnect)
    }
}

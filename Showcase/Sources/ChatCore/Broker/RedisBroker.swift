import AsyncIO
import AsyncIORedis
import Logging
import RESPCodec

/// The broker of several instances sharing one Redis: they form one chat.
///
/// - Fan-out: each room is a pub/sub channel (`chat:room:NAME`); an instance subscribes to the
///   rooms it has members in, and delivers what arrives, its own events included.
/// - History: each room's messages go into a capped stream (`chat:history:NAME`, `XADD MAXLEN`),
///   read back on joining (`XREVRANGE … COUNT`), so a freshly started instance shows the same.
/// - Presence: a sorted set per room (`chat:presence:NAME`) of `nick@instance` scored by an expiry
///   time, refreshed every 10 s and read as "score in the future": an instance that dies without
///   leaving drops out within 30 s. `chat:rooms` lists the rooms the same way.
/// - Nicknames: a key per nickname taken (`chat:nick:NAME`, lowercased) holding the instance's
///   name, set only if free or already this instance's (a Lua script, atomic), with the same 30 s
///   lifetime and refresh: two instances never hand out the same nickname, and the nicknames of an
///   instance that dies come free within 30 s. Guest names carry a random tag of the instance
///   (`guest-k3f9-12`), so they need no round trip.
///
/// When Redis goes away (a command fails, the subscription is lost), the broker turns degraded:
/// it keeps serving this instance's users from memory (their messages, their history, their
/// presence) and tells the hub; it reconnects with capped, jittered exponential backoff,
/// subscribes again, restores its presence, and tells the hub which rooms may have missed messages
/// published elsewhere meanwhile.
public final class RedisBroker: ChatBroker {
    public let name: String
    private let url: String
    private let configuration: Configuration
    private let instance: String
    private let historyLength: Int
    private let logger: Logger
    private weak var sink: (any BrokerSink)?
    private var loop: EventLoop?
    private var commands: Connection?
    private var subscriber: Subscriber?
    private var listener: LoopTask<Void>?
    private var refresher: LoopTask<Void>?
    private var reconnecting: LoopTask<Void>?
    /// The rooms this instance subscribed to.
    private var rooms: Set<String> = []
    /// This instance's presence: per room, how many connections of each nickname.
    private var local: [String: [String: Int]] = [:]
    /// The nicknames this instance's clients hold, lowercased.
    private var nicks: Set<String> = []
    /// This instance's tag in guest names.
    private let guestTag: String
    /// Messages published here while degraded, per room (what this instance's users can see).
    private var fallbackHistory: [String: [ChatEvent]] = [:]
    private var isClosed = false
    /// True while Redis is unreachable.
    public private(set) var isDegraded = false

    /// How long a presence entry lives without a refresh, and how often it is refreshed.
    static let presenceLifetime: Int64 = 30_000
    static let presenceRefresh: Duration = .seconds(10)
    /// Reconnection backoff: from 100 ms, doubling, up to 5 s, each wait in its upper half.
    static let firstDelay: Duration = .milliseconds(100)
    static let maxDelay: Duration = .seconds(5)

    /// - Throws: ``RedisError`` for a URL that is not a Redis URL.
    public init(url: String, instance: String, historyLength: Int, logger: Logger) throws {
        var configuration = try Configuration(url: url)
        configuration.connectTimeout = .seconds(2)
        configuration.commandTimeout = .seconds(2)
        configuration.clientName = "chat"
        self.configuration = configuration
        self.url = url
        self.instance = instance
        self.historyLength = historyLength
        self.logger = logger
        name = url
        let letters = Array("abcdefghijkmnpqrstuvwxyz23456789")
        guestTag = String((0..<4).map { _ in letters.randomElement()! })
    }

    public func start(sink: any BrokerSink, loop: isolated EventLoop) async throws {
        self.sink = sink
        self.loop = loop
        do {
            try await connect(loop: loop)
        } catch {
            // Serve this instance's users at once; Redis may come up later.
            degrade(error)
        }
        refresher = loop.createTask { [self] in await refreshPresence() }
    }

    // MARK: - Connections

    private func connect(loop: isolated EventLoop) async throws {
        let commands = try await Connection.create(configuration)
        let subscriber: Subscriber
        do {
            subscriber = try await Connection.create(configuration).startSubscribe(
                bufferPolicy: .dropOldest(limit: 65_536),
                reconnect: .never
            )
            if !rooms.isEmpty { try await subscriber.subscribe(rooms.map(Self.channel)) }
        } catch {
            commands.close()
            throw error
        }
        self.commands = commands
        self.subscriber = subscriber
        listener = loop.createTask { [self] in await listen(subscriber) }
        for (room, nicks) in local {
            for nick in nicks.keys { try await addPresence(room, nick, on: commands) }
        }
        try await holdNicknames(on: commands)
    }

    /// Delivers what the subscription brings until it ends.
    private func listen(_ subscriber: Subscriber) async {
        do {
            for try await event in subscriber {
                switch event {
                case .message(let message):
                    if let event = ChatEvent.parse(message.payload) { sink?.brokerDelivered(event) }
                case .gap(.dropped(let count)):
                    logger.warning("pub/sub messages dropped", metadata: ["count": "\(count)"])
                case .gap(.reconnecting(let error)):
                    if subscriber === self.subscriber { degrade(error) }
                    return
                }
            }
            if subscriber === self.subscriber { degrade(RedisError.connectionClosed(reason: "the subscription ended")) }
        } catch {
            if subscriber === self.subscriber { failed(error) }
        }
    }

    /// A command failed: Redis is gone, unless the caller's task was cancelled (a page that left
    /// mid-command), which says nothing about Redis.
    private func failed(_ error: any Error) {
        if error is CancelledError { return }
        degrade(error)
    }

    /// Turns degraded (once) and starts reconnecting.
    private func degrade(_ error: any Error) {
        guard !isDegraded, !isClosed, let loop else { return }
        isDegraded = true
        commands?.close()
        subscriber?.close()
        commands = nil
        subscriber = nil
        sink?.brokerStatus(.degraded(reason: "\(error)"))
        loop.runIsolated(self) { broker, loop in
            broker.reconnecting = loop.createTask { await broker.reconnect(loop: loop) }
        }
    }

    private func reconnect(loop: isolated EventLoop) async {
        var ceiling = Self.firstDelay
        while !isClosed {
            let wait = ceiling / 2 + (ceiling / 2) * Double.random(in: 0...1)
            do { try await sleep(wait) } catch { return }
            do {
                try await connect(loop: loop)
            } catch {
                logger.debug("redis still unreachable", metadata: ["error": "\(error)"])
                ceiling = min(Self.maxDelay, ceiling * 2)
                continue
            }
            isDegraded = false
            fallbackHistory = [:]
            logger.notice("redis reachable again", metadata: ["broker": "\(name)"])
            sink?.brokerStatus(.recovered(missedRooms: rooms.sorted()))
            return
        }
    }

    // MARK: - ChatBroker

    public func subscribe(_ room: String) async {
        rooms.insert(room)
        guard let subscriber else { return }
        do { try await subscriber.subscribe([Self.channel(room)]) } catch { failed(error) }
    }

    public func unsubscribe(_ room: String) async {
        rooms.remove(room)
        fallbackHistory[room] = nil
        guard let subscriber else { return }
        do { try await subscriber.unsubscribe([Self.channel(room)]) } catch { failed(error) }
    }

    public func publish(_ event: ChatEvent) async {
        if let commands {
            let payload = event.json()
            do {
                if event.type == .message {
                    _ = try await commands.send(
                        "XADD",
                        Self.historyKey(event.room),
                        "MAXLEN",
                        "\(historyLength)",
                        "*",
                        "event",
                        payload
                    )
                }
                _ = try await commands.send("PUBLISH", Self.channel(event.room), payload)
                return
            } catch {
                failed(error)
            }
        }
        // Degraded: this instance's users still talk to each other.
        if event.type == .message {
            var history = fallbackHistory[event.room, default: []]
            history.append(event)
            if history.count > historyLength { history.removeFirst(history.count - historyLength) }
            fallbackHistory[event.room] = history
        }
        sink?.brokerDelivered(event)
    }

    public func history(_ room: String) async -> [ChatEvent] {
        guard let commands else { return fallbackHistory[room] ?? [] }
        do {
            let reply = try await commands.send(
                "XREVRANGE",
                Self.historyKey(room),
                "+",
                "-",
                "COUNT",
                "\(historyLength)"
            )
            return (reply.elements ?? []).reversed().compactMap { entry in
                // [id, [field, value, …]]
                guard let fields = entry.elements?.last?.elements, fields.count >= 2, let bytes = fields[1].bytes
                else { return nil }
                return ChatEvent.parse(bytes)
            }
        } catch {
            failed(error)
            return fallbackHistory[room] ?? []
        }
    }

    public func enter(_ room: String, nick: String) async {
        local[room, default: [:]][nick, default: 0] += 1
        guard let commands else { return }
        do { try await addPresence(room, nick, on: commands) } catch { failed(error) }
    }

    public func exit(_ room: String, nick: String) async {
        guard let count = local[room]?[nick] else { return }
        local[room]?[nick] = count > 1 ? count - 1 : nil
        if local[room]?.isEmpty == true { local[room] = nil }
        guard count == 1, let commands else { return }
        do {
            _ = try await commands.send("ZREM", Self.presenceKey(room), member(nick))
        } catch {
            failed(error)
        }
    }

    public func presence(_ room: String) async -> [String] {
        guard let commands else { return (local[room] ?? [:]).keys.sorted() }
        do {
            let reply = try await commands.send("ZRANGEBYSCORE", Self.presenceKey(room), "\(ChatEvent.now())", "+inf")
            let nicks = (reply.elements ?? []).compactMap(\.string).map { String($0.prefix { $0 != "@" }) }
            return Set(nicks).sorted()
        } catch {
            failed(error)
            return (local[room] ?? [:]).keys.sorted()
        }
    }

    public func rooms() async -> [RoomInfo] {
        let fallback = local.map { RoomInfo(name: $0.key, count: $0.value.count) }.sorted { $0.name < $1.name }
        guard let commands else { return fallback }
        do {
            let now = "\(ChatEvent.now())"
            let names = try await commands.send("ZRANGEBYSCORE", Self.roomsKey, now, "+inf", "LIMIT", "0", "200")
            var rooms: [RoomInfo] = []
            for name in (names.elements ?? []).compactMap(\.string) {
                let members = try await commands.send("ZRANGEBYSCORE", Self.presenceKey(name), now, "+inf")
                let nicks = Set((members.elements ?? []).compactMap(\.string).map { $0.prefix { $0 != "@" } })
                if !nicks.isEmpty { rooms.append(RoomInfo(name: name, count: nicks.count)) }
            }
            return rooms.sorted { $0.name < $1.name }
        } catch {
            failed(error)
            return fallback
        }
    }

    public func close() async {
        isClosed = true
        refresher?.cancel()
        reconnecting?.cancel()
        if let commands {
            for (room, nicks) in local {
                for nick in nicks.keys { _ = try? await commands.send("ZREM", Self.presenceKey(room), member(nick)) }
            }
            for nick in nicks {
                _ = try? await commands.evaluate(Self.releaseScript, keys: [Self.nickKey(nick)], arguments: [instance])
            }
            commands.close()
        }
        subscriber?.close()
        listener?.cancel()
    }

    // MARK: - Nicknames

    public func claim(nick: String) async -> Bool {
        let key = nick.lowercased()
        guard let commands else {
            // Degraded: unique on this instance only (the hub checks), claimed again on recovery.
            nicks.insert(key)
            return true
        }
        do {
            guard try await hold(key, on: commands) else { return false }
            nicks.insert(key)
            return true
        } catch {
            failed(error)
            nicks.insert(key)
            return true
        }
    }

    public func release(nick: String) async {
        let key = nick.lowercased()
        guard nicks.remove(key) != nil, let commands else { return }
        do {
            _ = try await commands.evaluate(Self.releaseScript, keys: [Self.nickKey(key)], arguments: [instance])
        } catch {
            failed(error)
        }
    }

    public func guestName(number: Int) -> String { "guest-\(guestTag)-\(number)" }

    /// Takes or keeps `key` (a lowercased nickname) for this instance for the presence lifetime;
    /// false when another instance holds it.
    private func hold(_ key: String, on commands: Connection) async throws -> Bool {
        let reply = try await commands.evaluate(
            Self.holdScript,
            keys: [Self.nickKey(key)],
            arguments: [instance, "\(Self.presenceLifetime)"]
        )
        return reply == .integer(1)
    }

    /// Renews every nickname held here (after a reconnection, and every refresh).
    private func holdNicknames(on commands: Connection) async throws {
        for nick in nicks where try await !hold(nick, on: commands) {
            // Taken elsewhere while Redis was away: both keep it (a connected user's name is not
            // taken back); said in the log.
            logger.warning("nickname held by another instance too", metadata: ["nick": "\(nick)"])
        }
    }

    /// Sets KEYS[1] to ARGV[1] for ARGV[2] ms if it is free or already ARGV[1]'s: 1, else 0.
    static let holdScript = Script(
        """
        local holder = redis.call('GET', KEYS[1])
        if holder == false or holder == ARGV[1] then
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            return 1
        end
        return 0
        """
    )
    /// Deletes KEYS[1] if ARGV[1] holds it.
    static let releaseScript = Script(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """
    )

    // MARK: - Presence

    private func member(_ nick: String) -> String { "\(nick)@\(instance)" }

    private func addPresence(_ room: String, _ nick: String, on commands: Connection) async throws {
        let expiry = "\(ChatEvent.now() + Self.presenceLifetime)"
        _ = try await commands.send("ZADD", Self.presenceKey(room), expiry, member(nick))
        _ = try await commands.send("ZADD", Self.roomsKey, expiry, room)
    }

    /// Every 10 s: this instance's presence entries get a new expiry; expired ones are removed.
    private func refreshPresence() async {
        while !isClosed {
            do { try await sleep(Self.presenceRefresh) } catch { return }
            guard let commands else { continue }
            do {
                let now = "\(ChatEvent.now())"
                for (room, nicks) in local {
                    for nick in nicks.keys { try await addPresence(room, nick, on: commands) }
                    _ = try await commands.send("ZREMRANGEBYSCORE", Self.presenceKey(room), "-inf", now)
                }
                _ = try await commands.send("ZREMRANGEBYSCORE", Self.roomsKey, "-inf", now)
                try await holdNicknames(on: commands)
            } catch {
                failed(error)
            }
        }
    }

    // MARK: - Keys

    static func channel(_ room: String) -> String { "chat:room:\(room)" }
    static func historyKey(_ room: String) -> String { "chat:history:\(room)" }
    static func presenceKey(_ room: String) -> String { "chat:presence:\(room)" }
    static func nickKey(_ nick: String) -> String { "chat:nick:\(nick)" }
    static let roomsKey = "chat:rooms"
}

import AsyncIO
import CoreMetrics
import Logging

/// The rooms of one instance: its clients, who of them is in which room, and the commands they
/// send, with the broker behind it for what instances share (fan-out, history, presence).
///
/// Everything runs on one loop: the hub is not thread-safe and needs not be.
public final class ChatHub: BrokerSink {
    public let broker: any ChatBroker
    public let limits: ChatLimits
    public let metrics: ChatMetrics
    /// This instance's name in the events it publishes.
    public let instance: String
    /// Which of the instance's loops this hub runs on (0 with one loop).
    public let loopIndex: Int
    let logger: Logger
    private var clients: [Int: ChatClient] = [:]
    /// Per room with members here: its members, by client id.
    private var members: [String: [Int: ChatClient]] = [:]
    /// Lowercased nickname → client id: nicknames are unique on one instance.
    private var nicknames: [String: Int] = [:]
    private var lastID = 0
    private var limiter: RateLimiter
    /// True while the broker is degraded.
    public private(set) var isDegraded = false

    public init(
        broker: any ChatBroker,
        limits: ChatLimits,
        metrics: ChatMetrics,
        instance: String,
        loopIndex: Int = 0,
        logger: Logger
    ) {
        self.broker = broker
        self.loopIndex = loopIndex
        self.limits = limits
        self.metrics = metrics
        self.instance = instance
        self.logger = logger
        limiter = RateLimiter(burst: limits.connectionBurst, perSecond: limits.connectionsPerSecond)
    }

    /// The number of connected clients.
    public var clientCount: Int { clients.count }

    /// The number of rooms with members on this instance.
    public var roomCount: Int { members.count }

    // MARK: - Clients

    /// Whether a new connection from `address` may go on (line and web connections count alike);
    /// a refusal is counted and logged.
    public func admit(address: String) -> Bool {
        guard limiter.allow(address, now: monotonicSeconds()) else {
            metrics.refusedConnections.increment()
            logger.notice("connection refused", metadata: ["address": "\(address)", "reason": "rate limit"])
            return false
        }
        return true
    }

    /// Registers a new client under a guest nickname and welcomes it.
    public func register(address: String, kind: ChatClient.Kind, connection: any ClientConnection) -> ChatClient {
        lastID += 1
        var nick = broker.guestName(number: lastID)
        while nicknames[nick] != nil { nick += "_" }
        let client = ChatClient(id: lastID, address: address, kind: kind, nick: nick, connection: connection)
        clients[client.id] = client
        nicknames[nick] = client.id
        metrics.connected(kind, loop: loopIndex)
        logger.info(
            "client connected",
            metadata: ["client": "\(client.id)", "kind": "\(kind)", "address": "\(address)"]
        )
        client.send(Reply(.welcome, nick: nick))
        if isDegraded { client.send(degradedNotice) }
        return client
    }

    /// The client is gone: it leaves its rooms (the others are told) and its nickname is free.
    public func disconnected(_ client: ChatClient, reason: String) async {
        guard clients.removeValue(forKey: client.id) != nil else { return }
        let reason = client.closeReason ?? reason
        client.close(reason: nil)
        nicknames[client.nick.lowercased()] = nil
        metrics.disconnected(client.kind, loop: loopIndex)
        for room in client.rooms.reversed() {
            await leave(client, room, reason: reason)
        }
        if !Validation.isGuest(client.nick) { await broker.release(nick: client.nick) }
        logger.info(
            "client disconnected",
            metadata: ["client": "\(client.id)", "nick": "\(client.nick)", "reason": "\(reason)"]
        )
    }

    /// Tells every client `reason` and closes its connection (graceful shutdown).
    public func closeAll(reason: String) {
        for client in clients.values { client.close(reason: reason, shutdown: true) }
    }

    // MARK: - Commands

    /// Carries out one command of `client`; refusals are answered with an error reply.
    public func handle(_ command: ClientCommand, from client: ChatClient) async {
        guard !client.isClosing else { return }
        do {
            switch command {
            case .nick(let name): try await rename(client, to: Validation.nick(name))
            case .join(let name): try await join(client, Validation.room(name))
            case .leave(let name):
                let room =
                    try name.map { name throws(ValidationError) in try Validation.room(name) } ?? client.currentRoom
                guard let room, client.rooms.contains(room) else {
                    return refuse(client, "you are not in \(room ?? "any room")")
                }
                await leave(client, room, reason: nil)
                client.send(Reply(.left, room: room))
            case .say(let name, let text):
                let room =
                    try name.map { name throws(ValidationError) in try Validation.room(name) } ?? client.currentRoom
                guard let room, client.rooms.contains(room) else {
                    return refuse(client, "join a room first: /join ROOM", counted: true)
                }
                let message: String
                do { message = try Validation.message(text, limit: limits.maxMessageBytes) } catch {
                    return refuse(client, "\(error)", counted: true)
                }
                metrics.messagesIn.increment()
                await broker.publish(
                    ChatEvent(type: .message, room: room, nick: client.nick, text: message, origin: instance)
                )
            case .who(let name):
                let room =
                    try name.map { name throws(ValidationError) in try Validation.room(name) } ?? client.currentRoom
                guard let room else { return refuse(client, "which room? /who ROOM") }
                client.send(Reply(.who, room: room, who: await broker.presence(room)))
            case .rooms: client.send(Reply(.rooms, rooms: await broker.rooms()))
            case .help: client.send(Reply(.welcome, nick: client.nick))
            case .quit: client.close(reason: "bye")
            case .unknown(let name): refuse(client, "unknown command \(Validation.printable(name)) (try /help)")
            }
        } catch {
            refuse(client, "\(error)")
        }
    }

    private func refuse(_ client: ChatClient, _ text: String, counted: Bool = false) {
        if counted { metrics.refusedMessages.increment() }
        client.send(Reply(.error, text: text))
    }

    private func rename(_ client: ChatClient, to nick: String) async {
        let old = client.nick
        guard nick != old else { return client.send(Reply(.nick, nick: nick)) }
        let key = nick.lowercased()
        if let holder = nicknames[key], holder != client.id {
            return refuse(client, "the nickname \(nick) is taken")
        }
        // Guest names are given, never taken.
        if Validation.isGuest(nick), key != old.lowercased() {
            return refuse(client, "the nickname \(nick) is taken")
        }
        // Held here while the broker asks the other loops and instances.
        nicknames[key] = client.id
        if key != old.lowercased() {
            guard await broker.claim(nick: nick) else {
                nicknames[key] = nil
                return refuse(client, "the nickname \(nick) is taken")
            }
            if !Validation.isGuest(old) { await broker.release(nick: old) }
        }
        guard !client.isClosing, clients[client.id] != nil else {
            // Gone while waiting: it keeps nothing.
            nicknames[key] = nil
            return await broker.release(nick: nick)
        }
        if key != old.lowercased() { nicknames[old.lowercased()] = nil }
        client.nick = nick
        client.send(Reply(.nick, nick: nick))
        for room in client.rooms {
            await broker.exit(room, nick: old)
            await broker.enter(room, nick: nick)
            await broker.publish(ChatEvent(type: .rename, room: room, nick: old, text: nick, origin: instance))
        }
    }

    private func join(_ client: ChatClient, _ room: String) async {
        if let index = client.rooms.firstIndex(of: room) {
            // Already there: it becomes the current room.
            client.rooms.append(client.rooms.remove(at: index))
            return client.send(
                Reply(.joined, room: room, history: await broker.history(room), who: await broker.presence(room))
            )
        }
        guard client.rooms.count < limits.maxRoomsPerClient else {
            metrics.refusedMessages.increment()
            logger.notice("client cut off", metadata: ["client": "\(client.id)", "reason": "too many rooms"])
            return client.close(reason: "too many rooms (the limit is \(limits.maxRoomsPerClient) per connection)")
        }
        let isNew = members[room] == nil
        guard !isNew || members.count < limits.maxRooms else {
            return refuse(client, "this server has too many rooms; join an existing one (/rooms)")
        }
        client.rooms.append(room)
        members[room, default: [:]][client.id] = client
        if isNew {
            metrics.roomOpened(room)
            await broker.subscribe(room)
        }
        await broker.enter(room, nick: client.nick)
        let history = await broker.history(room)
        let who = await broker.presence(room)
        guard client.rooms.contains(room) else { return }
        client.send(Reply(.joined, room: room, history: history, who: who))
        await broker.publish(ChatEvent(type: .join, room: room, nick: client.nick, origin: instance))
    }

    private func leave(_ client: ChatClient, _ room: String, reason: String?) async {
        guard let index = client.rooms.firstIndex(of: room) else { return }
        client.rooms.remove(at: index)
        members[room]?[client.id] = nil
        let isEmpty = members[room]?.isEmpty ?? true
        if isEmpty {
            members[room] = nil
            metrics.roomClosed(room)
        }
        await broker.exit(room, nick: client.nick)
        await broker.publish(ChatEvent(type: .leave, room: room, nick: client.nick, text: reason, origin: instance))
        // Someone may have joined while the leave was published.
        if isEmpty, members[room] == nil { await broker.unsubscribe(room) }
    }

    // MARK: - From the broker

    public func brokerDelivered(_ event: ChatEvent) {
        let lag = ChatEvent.now() - event.ts
        if lag >= 0 { metrics.brokerLag.recordMilliseconds(lag) }
        guard let room = members[event.room] else { return }
        let outgoing = Outgoing(event)
        var slow: [ChatClient] = []
        for client in room.values where !client.send(outgoing) {
            slow.append(client)
        }
        metrics.messagesOut.increment(by: Int64(room.count - slow.count))
        for client in slow {
            metrics.droppedSlow.increment()
            logger.notice("slow client cut off", metadata: ["client": "\(client.id)", "nick": "\(client.nick)"])
            client.close(reason: "too slow: over \(limits.maxOutgoingBytes / 1024) KiB waiting to be sent to you")
        }
    }

    public func brokerStatus(_ status: BrokerStatus) {
        switch status {
        case .degraded(let reason):
            logger.warning("broker degraded", metadata: ["broker": "\(broker.name)", "reason": "\(reason)"])
            isDegraded = true
            metrics.brokerDegraded.set(1)
            for client in clients.values { client.send(degradedNotice) }
        case .recovered(let missedRooms):
            logger.notice("broker recovered", metadata: ["broker": "\(broker.name)", "missed": "\(missedRooms)"])
            isDegraded = false
            metrics.brokerDegraded.set(0)
            let missed = Set(missedRooms)
            for client in clients.values {
                let rooms = client.rooms.filter { missed.contains($0) }
                client.send(Reply(.recovered, text: "The message broker is back.", missed: rooms))
            }
        }
    }

    private var degradedNotice: Reply {
        Reply(
            .degraded,
            text: "The message broker is unreachable: you only reach users of this server until it is back."
        )
    }
}

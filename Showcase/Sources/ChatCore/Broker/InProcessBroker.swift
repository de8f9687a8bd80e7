import AsyncIO

/// The broker of a single process: rooms, history and presence in memory.
///
/// Events are delivered to the sink at once, in publishing order.
public final class InProcessBroker: ChatBroker {
    public let name = "in-process"
    private let historyLength: Int
    private weak var sink: (any BrokerSink)?
    private var histories: [String: [ChatEvent]] = [:]
    /// Per room, how many connections of each nickname are in it.
    private var members: [String: [String: Int]] = [:]

    public init(historyLength: Int = 100) {
        self.historyLength = historyLength
    }

    public func start(sink: any BrokerSink, loop: isolated EventLoop) async throws {
        self.sink = sink
    }

    public func subscribe(_ room: String) async {}

    public func unsubscribe(_ room: String) async {}

    public func publish(_ event: ChatEvent) async {
        if event.type == .message {
            var history = histories[event.room, default: []]
            history.append(event)
            if history.count > historyLength { history.removeFirst(history.count - historyLength) }
            histories[event.room] = history
        }
        sink?.brokerDelivered(event)
    }

    public func history(_ room: String) async -> [ChatEvent] {
        Array(histories[room] ?? [])
    }

    public func enter(_ room: String, nick: String) async {
        members[room, default: [:]][nick, default: 0] += 1
    }

    public func exit(_ room: String, nick: String) async {
        guard let count = members[room]?[nick] else { return }
        members[room]?[nick] = count > 1 ? count - 1 : nil
        if members[room]?.isEmpty == true { members[room] = nil }
    }

    public func presence(_ room: String) async -> [String] {
        (members[room] ?? [:]).keys.sorted()
    }

    public func rooms() async -> [RoomInfo] {
        members.map { RoomInfo(name: $0.key, count: $0.value.count) }.sorted { $0.name < $1.name }
    }

    public func close() async {}
}

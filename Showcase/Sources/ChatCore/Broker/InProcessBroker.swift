import AsyncIO

/// The broker of a single process on one loop: rooms, history and presence in memory.
///
/// Events are delivered to the sink at once, in publishing order.
public final class InProcessBroker: ChatBroker {
    public let name = "in-process"
    private weak var sink: (any BrokerSink)?
    private var directory: RoomDirectory

    public init(historyLength: Int = 100) {
        directory = RoomDirectory(historyLength: historyLength)
    }

    public func start(sink: any BrokerSink, loop: isolated EventLoop) async throws {
        self.sink = sink
    }

    public func subscribe(_ room: String) async {}

    public func unsubscribe(_ room: String) async {}

    public func publish(_ event: ChatEvent) async {
        directory.record(event)
        sink?.brokerDelivered(event)
    }

    public func history(_ room: String) async -> [ChatEvent] { directory.history(room) }

    public func enter(_ room: String, nick: String) async { directory.enter(room, nick: nick) }

    public func exit(_ room: String, nick: String) async { directory.exit(room, nick: nick) }

    public func presence(_ room: String) async -> [String] { directory.presence(room) }

    public func rooms() async -> [RoomInfo] { directory.rooms() }

    public func claim(nick: String) async -> Bool { directory.claim(nick) }

    public func release(nick: String) async { directory.release(nick) }

    public func close() async {}
}

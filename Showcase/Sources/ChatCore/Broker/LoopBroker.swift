import AsyncIO

/// The broker of one loop of a process running several (`--loops N`): rooms shared with the other
/// loops through ``LoopRooms``, each loop delivering to its own clients.
///
/// Events published on this loop reach its own members before `publish` returns (as with
/// ``InProcessBroker``); other loops get them in a batch on their next iteration.
public final class LoopBroker: ChatBroker {
    public let name = "in-process"
    let shared: LoopRooms
    let index: Int

    init(rooms: LoopRooms, index: Int) {
        self.shared = rooms
        self.index = index
    }

    private var inbox: LoopInbox { shared.inboxes[index] }

    public func start(sink: any BrokerSink, loop: isolated EventLoop) async throws {
        precondition(inbox.loop === loop, "LoopBroker \(index) started on another loop")
        inbox.sink = sink
    }

    public func subscribe(_ room: String) async { shared.subscribe(room, loop: index) }

    public func unsubscribe(_ room: String) async { shared.unsubscribe(room, loop: index) }

    public func publish(_ event: ChatEvent) async {
        for target in shared.post(event) where target != index { shared.inboxes[target].wake() }
        // This loop's members, at once: whatever is queued here, this event included, in order.
        inbox.drain()
    }

    public func history(_ room: String) async -> [ChatEvent] {
        shared.state.withLock { $0.directory.history(room) }
    }

    public func enter(_ room: String, nick: String) async {
        shared.state.withLock { $0.directory.enter(room, nick: nick) }
    }

    public func exit(_ room: String, nick: String) async {
        shared.state.withLock { $0.directory.exit(room, nick: nick) }
    }

    public func presence(_ room: String) async -> [String] {
        shared.state.withLock { $0.directory.presence(room) }
    }

    public func rooms() async -> [RoomInfo] {
        shared.state.withLock { $0.directory.rooms() }
    }

    public func claim(nick: String) async -> Bool {
        shared.state.withLock { $0.directory.claim(nick) }
    }

    public func release(nick: String) async {
        shared.state.withLock { $0.directory.release(nick) }
    }

    /// `guest-<n>`, numbered across the process's loops.
    public func guestName(number: Int) -> String { "guest-\(shared.nextGuest())" }

    public func close() async {
        inbox.sink = nil
    }
}

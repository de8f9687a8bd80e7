import AsyncIO

/// What joins the instances of the chat into one: fan-out of each room's events, each room's
/// history, and who is in each room.
///
/// The hub calls it on its loop; it calls the hub back through its ``BrokerSink``. Its methods do
/// not throw: a broker that loses its backing store (Redis gone) keeps serving this instance's own
/// users from what it has, tells the sink it is degraded, and tells it again when it is back.
///
/// - ``InProcessBroker``: one process, nothing else to run (the default).
/// - ``RedisBroker``: every instance sharing one Redis forms one chat.
public protocol ChatBroker: AnyObject {
    /// What it is, for logs and `/healthz` (`in-process`, `redis://127.0.0.1:6379`).
    var name: String { get }

    /// Connects to what backs it; events and status changes go to `sink` from now on.
    func start(sink: any BrokerSink, loop: isolated EventLoop) async throws

    /// This instance has a first member in `room`: deliver its events from now on.
    func subscribe(_ room: String) async
    /// This instance's last member left `room`.
    func unsubscribe(_ room: String) async
    /// Sends `event` to every instance with members in its room (this one included, through the
    /// sink) and keeps messages in the room's history.
    func publish(_ event: ChatEvent) async
    /// The room's last messages, oldest first.
    func history(_ room: String) async -> [ChatEvent]
    /// `nick` is in `room` (presence).
    func enter(_ room: String, nick: String) async
    /// `nick` left `room`.
    func exit(_ room: String, nick: String) async
    /// Who is in `room`, sorted.
    func presence(_ room: String) async -> [String]
    /// Takes `nick` for a client of this instance, case-insensitively, across every instance that
    /// shares the broker; false when another instance (or loop) has it.
    func claim(nick: String) async -> Bool
    /// Gives `nick` back.
    func release(nick: String) async
    /// The name of a new client before it picks one: unique across the instances sharing the
    /// broker. `number` is unique on this instance.
    func guestName(number: Int) -> String
    /// The rooms with someone in them, by name.
    func rooms() async -> [RoomInfo]
    /// Stops: leaves presence, closes connections.
    func close() async
}

extension ChatBroker {
    /// `guest-<number>`, for a broker that serves one instance.
    public func guestName(number: Int) -> String { "guest-\(number)" }
}

/// Where a broker delivers: the hub.
public protocol BrokerSink: AnyObject {
    /// An event of a room this instance subscribed to.
    func brokerDelivered(_ event: ChatEvent)
    /// The broker's health changed.
    func brokerStatus(_ status: BrokerStatus)
}

public enum BrokerStatus: Sendable, Equatable {
    /// The backing store is gone: only this instance's users are served; `reason` says why.
    case degraded(reason: String)
    /// It is back; events of `missedRooms` published meanwhile elsewhere did not arrive.
    case recovered(missedRooms: [String])
}

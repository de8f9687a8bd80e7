import FoundationEssentials
import Glibc

/// Something that happened in a room, as every instance of the chat sees it: the unit the broker
/// fans out (in-process, or through Redis pub/sub) and keeps in a room's history.
///
/// Its JSON form is also what the web page receives (`type` tells which), and what goes into Redis.
public struct ChatEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// `nick` said `text`.
        case message
        /// `nick` joined the room.
        case join
        /// `nick` left the room (`text`: why, when not by choice).
        case leave
        /// `nick` is now called `text`.
        case rename
    }

    public var type: Kind
    public var room: String
    public var nick: String
    public var text: String?
    /// Milliseconds since the Unix epoch, when the event was published (broker lag is measured
    /// from it).
    public var ts: Int64
    /// The instance that published it.
    public var origin: String?

    public init(
        type: Kind,
        room: String,
        nick: String,
        text: String? = nil,
        ts: Int64 = ChatEvent.now(),
        origin: String? = nil
    ) {
        self.type = type
        self.room = room
        self.nick = nick
        self.text = text
        self.ts = ts
        self.origin = origin
    }

    /// Milliseconds since the Unix epoch, from the wall clock (events cross machines).
    public static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// The JSON form (what the broker carries and stores).
    public func json() -> [UInt8] {
        (try? [UInt8](JSONEncoder().encode(self))) ?? []
    }

    /// Parses the JSON form; nil for anything else (a foreign publisher on the channel).
    public static func parse(_ bytes: some Collection<UInt8>) -> ChatEvent? {
        try? JSONDecoder().decode(ChatEvent.self, from: Data(bytes))
    }

    /// How a line client sees it: `[room] nick: text`, `* nick joined room`.
    public var line: String {
        switch type {
        case .message: "[\(room)] \(nick): \(text ?? "")"
        case .join: "* \(nick) joined \(room)"
        case .leave: "* \(nick) left \(room)" + (text.map { " (\($0))" } ?? "")
        case .rename: "* \(nick) is now known as \(text ?? "?") in \(room)"
        }
    }
}

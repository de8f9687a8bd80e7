/// What the server says to one client only: answers to its commands, notices, errors.
///
/// The web page receives its JSON form (beside ``ChatEvent``s, whose `type` values differ); a line
/// client gets ``lines``.
public struct Reply: Encodable, Sendable, Equatable {
    public enum Kind: String, Encodable, Sendable {
        /// Connected; `nick` is the nickname given (a guest name until `/nick`).
        case welcome
        /// The nickname is now `nick`.
        case nick
        /// Joined `room`: its `history` (oldest first) and who is there.
        case joined
        /// Left `room`.
        case left
        /// Who is in `room`.
        case who
        /// The rooms there are, with how many are in each.
        case rooms
        /// A command was refused; `text` says why.
        case error
        /// Something the user should know (`text`), such as the broker's state.
        case notice
        /// The broker lost its connection: this instance serves its own users only.
        case degraded
        /// The broker is back; messages of `missed` may have been lost meanwhile.
        case recovered
        /// The server is closing the connection; `text` says why.
        case bye
    }

    public var type: Kind
    public var nick: String?
    public var room: String?
    public var text: String?
    public var history: [ChatEvent]?
    public var who: [String]?
    public var rooms: [RoomInfo]?
    public var missed: [String]?

    public init(
        _ type: Kind,
        nick: String? = nil,
        room: String? = nil,
        text: String? = nil,
        history: [ChatEvent]? = nil,
        who: [String]? = nil,
        rooms: [RoomInfo]? = nil,
        missed: [String]? = nil
    ) {
        self.type = type
        self.nick = nick
        self.room = room
        self.text = text
        self.history = history
        self.who = who
        self.rooms = rooms
        self.missed = missed
    }

    /// How a line client sees it: one or more lines, without their newlines.
    public var lines: [String] {
        switch type {
        case .welcome:
            return [
                "* Welcome to the swift-asyncio chat, \(nick ?? "guest").",
                "* Commands: /nick NAME, /join ROOM, /leave [ROOM], /who [ROOM], /rooms, /quit. Other lines are messages.",
            ]
        case .nick: return ["* You are now known as \(nick ?? "?")"]
        case .joined:
            var lines = ["* Joined \(room ?? "?") (\(history?.count ?? 0) earlier messages follow)"]
            lines += (history ?? []).map(\.line)
            lines.append("* In \(room ?? "?"): \((who ?? []).joined(separator: ", "))")
            return lines
        case .left: return ["* Left \(room ?? "?")"]
        case .who: return ["* In \(room ?? "?"): \((who ?? []).joined(separator: ", "))"]
        case .rooms:
            let list = (rooms ?? []).map { "\($0.name) (\($0.count))" }
            return [
                list.isEmpty ? "* No rooms yet: /join ROOM creates one" : "* Rooms: " + list.joined(separator: ", ")
            ]
        case .error: return ["ERR \(text ?? "")"]
        case .notice, .degraded: return ["* \(text ?? "")"]
        case .recovered:
            let rooms = (missed ?? []).joined(separator: ", ")
            return ["* \(text ?? "")" + (rooms.isEmpty ? "" : " (may have missed messages: \(rooms))")]
        case .bye: return ["* Bye: \(text ?? "")"]
        }
    }
}

/// A room and how many are in it.
public struct RoomInfo: Codable, Sendable, Equatable {
    public var name: String
    public var count: Int

    public init(name: String, count: Int) {
        self.name = name
        self.count = count
    }
}

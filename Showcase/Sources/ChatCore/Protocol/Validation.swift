/// The limits of one instance, and the checks of what clients send.
public struct ChatLimits: Sendable {
    /// The longest message, in bytes of UTF-8.
    public var maxMessageBytes = 2_000
    /// The most rooms one client may be in at once; one more and it is disconnected.
    public var maxRoomsPerClient = 50
    /// The most rooms with members on this instance; joining a new one beyond is refused.
    public var maxRooms = 10_000
    /// The most bytes queued for one client that does not read; beyond, it is disconnected.
    public var maxOutgoingBytes = 256 * 1024
    /// The most messages kept per room and sent on joining.
    public var historyLength = 100
    /// Connections accepted from one address in a burst, and per second after it.
    public var connectionBurst = 50.0
    public var connectionsPerSecond = 10.0

    public init() {}
}

/// Why a name, room or message was refused.
public enum ValidationError: Error, Equatable, CustomStringConvertible {
    case badNick(String)
    case badRoom(String)
    case emptyMessage
    case messageTooLong(bytes: Int, limit: Int)

    public var description: String {
        switch self {
        case .badNick(let nick):
            "invalid nickname \"\(Validation.printable(nick))\": 1 to 24 letters, digits, '_', '-' or '.'"
        case .badRoom(let room):
            "invalid room \"\(Validation.printable(room))\": 1 to 32 letters, digits, '_' or '-' (an optional leading #)"
        case .emptyMessage: "empty message"
        case .messageTooLong(let bytes, let limit): "message too long (\(bytes) bytes, the limit is \(limit)); not sent"
        }
    }
}

public enum Validation {
    /// A nickname: 1 to 24 ASCII letters, digits, `_`, `-`, `.`, starting with a letter or digit.
    public static func nick(_ nick: String) throws(ValidationError) -> String {
        let bytes = Array(nick.utf8)
        guard (1...24).contains(bytes.count), isAlphanumeric(bytes[0]),
            bytes.allSatisfy({
                isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
            })
        else { throw .badNick(nick) }
        return nick
    }

    /// Whether `nick` is a guest name (`guest-…`): given to new clients, never taken with `/nick`.
    public static func isGuest(_ nick: String) -> Bool {
        nick.utf8.count > 6 && nick.lowercased().hasPrefix("guest-")
    }

    /// A room name, lowercased, without its optional leading `#`: 1 to 32 ASCII letters, digits,
    /// `_`, `-`.
    public static func room(_ room: String) throws(ValidationError) -> String {
        let name = room.hasPrefix("#") ? String(room.dropFirst()) : room
        let bytes = Array(name.utf8)
        guard (1...32).contains(bytes.count),
            bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else { throw .badRoom(room) }
        return name.lowercased()
    }

    /// A message: control characters become spaces (a line client's terminal is not the sender's
    /// to drive), surrounding spaces go; refused when empty or over `limit` bytes.
    public static func message(_ text: String, limit: Int) throws(ValidationError) -> String {
        let count = text.utf8.count
        guard count <= limit else { throw .messageTooLong(bytes: count, limit: limit) }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let isControl = value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029
            scalars.append(isControl ? " " : scalar)
        }
        let clean = String(scalars).trimmed
        guard !clean.isEmpty else { throw .emptyMessage }
        return clean
    }

    /// `text` cut to 40 characters with control characters shown as `?`, for error messages.
    static func printable(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.prefix(40).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }
            )
        )
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    var trimmed: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !blank($0) }), let end = lastIndex(where: { !blank($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}

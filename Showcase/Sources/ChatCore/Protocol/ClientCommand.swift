import FoundationEssentials

/// What a client asks for, from a line (`/join lobby`) or a web page's JSON
/// (`{"type":"join","room":"lobby"}`).
public enum ClientCommand: Equatable, Sendable {
    case nick(String)
    case join(String)
    /// Leave a room (the current one for a line client when nil).
    case leave(String?)
    /// Say `text` in `room` (the current room of a line client when nil).
    case say(room: String?, text: String)
    case who(String?)
    case rooms
    case help
    case quit
    /// A command the server does not know; the text says which.
    case unknown(String)

    /// Parses one line of the line protocol (without its line ending).
    ///
    /// `/nick NAME`, `/join ROOM`, `/leave [ROOM]` (or `/part`), `/who [ROOM]`, `/rooms`, `/help`,
    /// `/quit`; any other line is a message, and `//text` says `/text`.
    public init(line: String) {
        guard line.hasPrefix("/"), !line.hasPrefix("//") else {
            self = .say(room: nil, text: line.hasPrefix("//") ? String(line.dropFirst()) : line)
            return
        }
        let parts = line.dropFirst().split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let name = parts.first.map { $0.lowercased() } ?? ""
        let argument = parts.count > 1 ? String(parts[1]).trimmed : nil
        let word = argument.flatMap { $0.isEmpty ? nil : $0 }
        switch name {
        case "nick": self = .nick(word ?? "")
        case "join": self = .join(word ?? "")
        case "leave", "part": self = .leave(word)
        case "who", "names": self = .who(word)
        case "rooms", "list": self = .rooms
        case "help": self = .help
        case "quit", "exit": self = .quit
        default: self = .unknown("/" + name)
        }
    }

    /// Parses a web page's JSON message; nil when it is not one.
    public init?(json bytes: some Collection<UInt8>) {
        guard let message = try? JSONDecoder().decode(WebMessage.self, from: Data(bytes)) else { return nil }
        switch message.type {
        case "nick": self = .nick(message.nick ?? "")
        case "join": self = .join(message.room ?? "")
        case "leave": self = .leave(message.room)
        case "message": self = .say(room: message.room, text: message.text ?? "")
        case "who": self = .who(message.room)
        case "rooms": self = .rooms
        case "quit": self = .quit
        default: self = .unknown(message.type)
        }
    }
}

/// A web page's message, as it arrives.
private struct WebMessage: Decodable {
    var type: String
    var nick: String?
    var room: String?
    var text: String?
}

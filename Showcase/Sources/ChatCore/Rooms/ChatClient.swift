import AsyncIOHTTP
import FoundationEssentials

/// How the hub reaches one client: a line connection or a web page's WebSocket.
///
/// ``send(_:)-(Outgoing)`` never waits: the connection queues the bytes and answers false when its
/// queue is over the limit, and the hub then disconnects it.
public protocol ClientConnection: AnyObject {
    /// Queues a room's event; false when the client's outgoing queue is over its limit.
    func send(_ event: Outgoing) -> Bool
    /// Queues an answer or a notice (never refused: the client asked, or must know).
    func send(_ reply: Reply)
    /// Says why (when `reason` is given), then closes; `shutdown` tells that the server is
    /// stopping (a page then reconnects elsewhere). Calling it twice does nothing.
    func close(reason: String?, shutdown: Bool)
}

/// One connected user, whatever it connects with: its name, its rooms, its connection.
///
/// Made by the hub (``ChatHub/register(address:kind:connection:)``), on the hub's loop.
public final class ChatClient {
    public enum Kind: String, Sendable {
        case line
        case web
    }

    public let id: Int
    public let address: String
    public let kind: Kind
    public internal(set) var nick: String
    /// The rooms joined, the current one (a line client's messages go there) last.
    public internal(set) var rooms: [String] = []
    /// Set by ``close(reason:)``: nothing more is sent.
    public private(set) var isClosing = false
    /// Why the server closed it, when it did.
    public private(set) var closeReason: String?
    let connection: any ClientConnection

    init(id: Int, address: String, kind: Kind, nick: String, connection: any ClientConnection) {
        self.id = id
        self.address = address
        self.kind = kind
        self.nick = nick
        self.connection = connection
    }

    /// The current room of a line client: the last joined.
    public var currentRoom: String? { rooms.last }

    func send(_ event: Outgoing) -> Bool { isClosing || connection.send(event) }

    func send(_ reply: Reply) {
        if !isClosing { connection.send(reply) }
    }

    /// Says why (when `reason` is given), then closes the connection; nothing is sent after.
    /// `shutdown`: because the server is stopping.
    public func close(reason: String?, shutdown: Bool = false) {
        guard !isClosing else { return }
        isClosing = true
        closeReason = reason
        connection.close(reason: reason, shutdown: shutdown)
    }
}

/// An event on its way to many clients, encoded once per form however many receive it.
public final class Outgoing {
    public let event: ChatEvent
    private var lineBytes: [UInt8]?
    private var jsonText: String?
    private var frame: WebSocketPreparedMessage?

    init(_ event: ChatEvent) {
        self.event = event
    }

    /// The line-protocol form, with its newline.
    var line: [UInt8] {
        if let lineBytes { return lineBytes }
        let bytes = Array((event.line + "\n").utf8)
        lineBytes = bytes
        return bytes
    }

    /// The JSON form (the web page's).
    var json: String {
        if let jsonText { return jsonText }
        let text = String(decoding: event.json(), as: UTF8.self)
        jsonText = text
        return text
    }

    /// The JSON form as a WebSocket frame, encoded once for every page.
    var webSocketMessage: WebSocketPreparedMessage {
        if let frame { return frame }
        let message = WebSocketPreparedMessage(text: json)
        frame = message
        return message
    }
}

extension Reply {
    /// The JSON form (the web page's).
    var json: String {
        (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

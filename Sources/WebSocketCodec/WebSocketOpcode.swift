/// The four bits that say what a WebSocket frame carries (RFC 6455 §5.2).
///
/// The values 3–7 and 11–15 are reserved; ``WebSocketParser`` rejects them with
/// ``WebSocketError/reservedOpcode(_:)``, so they have no case here.
public enum WebSocketOpcode: UInt8, Sendable, Hashable {
    /// The next fragment of a text or binary message.
    case continuation = 0x0
    /// The first (or only) frame of a UTF-8 text message.
    case text = 0x1
    /// The first (or only) frame of a binary message.
    case binary = 0x2
    /// The closing handshake: an optional status code and UTF-8 reason.
    case close = 0x8
    /// A ping, which the peer answers with a pong carrying the same payload.
    case ping = 0x9
    /// The answer to a ping, or an unsolicited heartbeat.
    case pong = 0xA

    /// Whether this is a control frame: at most 125 bytes of payload and never fragmented.
    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// The side of the connection a codec speaks for: the client masks what it sends, the server
/// must not (RFC 6455 §5.1), and each rejects the other's mistake as a protocol error.
public enum WebSocketRole: Sendable, Hashable {
    case client
    case server
}

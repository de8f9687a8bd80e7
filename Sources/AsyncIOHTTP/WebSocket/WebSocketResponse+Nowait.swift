import WebSocketCodec

/// A text message encoded once, to send to many WebSockets.
///
/// A server's frames are not masked, so a message broadcast to many clients has the same bytes on
/// every connection: preparing it encodes its frame once, and each
/// ``WebSocketResponse/sendNowait(_:)`` copies that frame (a connection that compresses
/// encodes the text its own way). Not in aiohttp; the model is gorilla/websocket's
/// `PreparedMessage`.
public struct WebSocketPreparedMessage: Sendable {
    /// The message.
    public let text: String
    /// Its frame as a server sends it without compression.
    let frame: [UInt8]

    /// Encodes `text` as an uncompressed server frame.
    public init(text: String) {
        self.text = text
        var encoder = WebSocketEncoder(role: .server)
        frame = encoder.text(text)
    }

    /// The size of its frame in bytes.
    public var frameSize: Int { frame.count }
}

extension WebSocketResponse {
    /// Sends a text message at once, never waiting for the client to read: what the kernel does
    /// not take waits in the connection's buffer.
    ///
    /// For a sender that must not wait on any one client, such as a broadcast to many: one slow
    /// reader would otherwise hold up the others behind ``send(text:)``. The buffer is then the
    /// caller's to bound: check ``bufferedAmount`` before sending and drop the client past a
    /// limit. Messages go out in the order of every `send` and `sendNowait` call.
    ///
    /// Not in aiohttp (its `send_str` may always wait); the model is the browser's
    /// `WebSocket.send()` with `bufferedAmount`.
    ///
    /// - Throws: ``WebSocketConnectionError/closed`` once the closing handshake began or the
    ///   connection is gone; `ResponseError.notPrepared` before ``prepare(_:)``.
    public func sendNowait(text: String) throws {
        try sendNowait(CollectionOfOne(WebSocketPreparedMessage(text: text)))
    }

    /// Sends text messages at once in one write (one system call for all), never waiting; see
    /// ``sendNowait(text:)``.
    ///
    /// A broadcaster that queues what each client gets during a loop iteration and sends it
    /// here once per iteration spends one system call per client for many messages.
    ///
    /// - Throws: as ``sendNowait(text:)``.
    public func sendNowait(_ messages: some Collection<WebSocketPreparedMessage>) throws {
        guard let channel else { throw ResponseError.notPrepared }
        try channel.sendNowait(messages)
    }

    /// The bytes sent and not yet taken by the kernel (0 before ``prepare(_:)`` and once the
    /// connection is gone). Mirrors the browser's `WebSocket.bufferedAmount`.
    public var bufferedAmount: Int { channel?.bufferedAmount ?? 0 }
}

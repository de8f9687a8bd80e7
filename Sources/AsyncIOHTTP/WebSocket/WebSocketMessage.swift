import AsyncIO
import WebSocketCodec

/// A message received on a WebSocket: what ``WebSocketResponse/receive(timeout:)`` and
/// ``ClientWebSocket/receive(timeout:)`` return.
///
/// Pings are answered and pongs consumed by the connection itself, so they never appear here.
/// Mirrors aiohttp's `WSMessage` with `WSMsgType` `TEXT`, `BINARY`, `CLOSE` and `CLOSED`.
/// Deviation: a protocol error is thrown (a `WebSocketError` whose close code was sent to the
/// peer) rather than returned as an `ERROR` message.
public enum WebSocketMessage: Sendable, Hashable {
    /// A text message.
    case text(String)
    /// A binary message.
    case binary([UInt8])
    /// The peer closed the connection with this code and reason; the close was answered.
    case close(WebSocketCloseCode?, reason: String)
    /// The connection is closed: after a `.close`, after our own `close`, or lost without a close
    /// frame (then ``WebSocketResponse/closeCode`` is 1006).
    case closed

    /// The text of a text message, else nil.
    public var text: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// The bytes of a binary message, else nil.
    public var bytes: [UInt8]? {
        if case .binary(let bytes) = self { return bytes }
        return nil
    }
}

/// What a ``WebSocketMessageIterator`` reads from: ``WebSocketResponse`` or ``ClientWebSocket``.
protocol WebSocketMessageSource: AnyObject {
    /// The connection's channel; nil before a response is prepared.
    var messageChannel: WebSocketChannel? { get }
}

/// The iterator of `for try await message in ws`: text and binary messages, until the connection
/// closes (the close and closed messages end the iteration). Errors are `receive`'s.
///
/// It holds its WebSocket, not a closure, and reads from the channel directly: a closure made in
/// `makeAsyncIterator` (a synchronous, nonisolated function) is `@concurrent`, and calling it left
/// the loop's executor and came back, two executor hops for every message (callgrind: about a
/// third of what a 64-byte echo cost). Each async call in between is also a frame that a
/// suspended connection keeps in its task's memory.
public struct WebSocketMessageIterator: AsyncIteratorProtocol {
    let source: any WebSocketMessageSource

    public mutating func next() async throws -> WebSocketMessage? {
        try await nextMessage()
    }

    /// The next message, on the caller's executor (the loop), whatever `actor` says.
    ///
    /// `for try await` calls this one; the standard library's default would call ``next()`` as
    /// code compiled without `NonisolatedNonsendingByDefault`, off the caller's executor. The
    /// iterator is loop-bound and not `Sendable`, as `StreamReader.LineIterator` is.
    public mutating func next(isolation actor: (any Actor)?) async throws -> WebSocketMessage? {
        try await nextMessage()
    }

    @inline(__always)
    private func nextMessage() async throws -> WebSocketMessage? {
        guard let channel = source.messageChannel else { throw ResponseError.notPrepared }
        switch try await channel.receive(timeout: nil) {
        case .close, .closed: return nil
        case let message: return message
        }
    }
}

/// Why a WebSocket operation failed other than by the peer breaking the protocol.
public enum WebSocketConnectionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A send after the closing handshake began or after the connection was lost. aiohttp raises
    /// `ConnectionResetError("Cannot write to closing transport")`.
    case closed
    /// No pong arrived within the deadline after a heartbeat ping; the connection was dropped
    /// (close code 1006). aiohttp reports `ServerTimeoutError`.
    case heartbeatTimeout
    /// The opening handshake failed (the client side; the server answers with an HTTP status).
    case handshakeFailed(WebSocketHandshakeError)

    public var description: String {
        switch self {
        case .closed: "Cannot write to closing transport"
        case .heartbeatTimeout: "No PONG received after PING within the heartbeat deadline"
        case .handshakeFailed(let error): "WebSocket handshake failed: \(error)"
        }
    }
}

/// How a WebSocket connection behaves, on the server (``WebSocketResponse``) and the client
/// (``ClientSession/wsConnect(_:options:headers:origin:timeout:)``).
///
/// Mirrors the keyword arguments of aiohttp's `WebSocketResponse(...)` and `ws_connect(...)`.
/// Deviation: `compression` is off by default (aiohttp's server enables it): permessage-deflate
/// costs about 100–300 KiB per connection.
public struct WebSocketOptions: Sendable {
    /// Frame and message size limits (4 MiB by default, aiohttp's `max_msg_size`).
    public var limits: WebSocketLimits
    /// Send a ping this often; nil for none. Mirrors `heartbeat`.
    public var heartbeat: Duration?
    /// Drop the connection (1006) when no pong follows a heartbeat ping within this time; by
    /// default half the heartbeat, as aiohttp.
    public var pongTimeout: Duration?
    /// How long ``WebSocketResponse/close(code:reason:)`` waits for the peer's close frame.
    /// Mirrors `timeout` (10 s).
    public var closeTimeout: Duration
    /// permessage-deflate, when the peer agrees; nil (the default) for none.
    public var compression: PerMessageDeflateOptions?
    /// Subprotocols in order of preference: the server picks the first the client offers, a
    /// client offers them all. Mirrors `protocols`.
    public var protocols: [String]
    /// Origins a server accepts (exact `Origin` values, e.g. `"https://example.com"`); nil accepts
    /// any. A refused origin gets `403 Forbidden`.
    public var allowedOrigins: [String]?
    /// Received messages buffered before reading from the socket pauses.
    public var maxQueuedMessages: Int

    public init(
        limits: WebSocketLimits = WebSocketLimits(),
        heartbeat: Duration? = nil,
        pongTimeout: Duration? = nil,
        closeTimeout: Duration = .seconds(10),
        compression: PerMessageDeflateOptions? = nil,
        protocols: [String] = [],
        allowedOrigins: [String]? = nil,
        maxQueuedMessages: Int = 16
    ) {
        self.limits = limits
        self.heartbeat = heartbeat
        self.pongTimeout = pongTimeout
        self.closeTimeout = closeTimeout
        self.compression = compression
        self.protocols = protocols
        self.allowedOrigins = allowedOrigins
        self.maxQueuedMessages = max(1, maxQueuedMessages)
    }
}

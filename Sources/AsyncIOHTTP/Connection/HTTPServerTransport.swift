import AsyncIO
import HTTPTypes

/// A connection as a response sees it: what the talk passes as `self.transport` to
/// `Response(transport, status, close:)`.
///
/// Writing through the connection, not the socket, keeps the HTTP rules: one response at a time,
/// the right framing, `Connection: close` when the connection will close, pipelined answers in
/// order. The socket transport is ``socket``.
public struct HTTPServerTransport {
    let connection: ServerHTTPProtocol

    /// The socket transport; nil once the connection is lost.
    public var socket: (any Transport)? { connection.socketTransport }

    /// The peer's and our addresses, and the descriptor. Mirrors `get_extra_info()`.
    public var extraInfo: TransportExtraInfo { connection.socketTransport?.extraInfo ?? TransportExtraInfo() }

    /// True once the connection is closing or lost.
    public var isClosing: Bool { connection.socketTransport?.isClosing ?? true }

    /// Closes the connection after what was written is flushed.
    public func close() {
        connection.flush()
        connection.socketTransport?.close()
    }
}

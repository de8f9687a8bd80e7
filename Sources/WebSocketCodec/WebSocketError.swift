/// Why a ``WebSocketParser`` failed the connection, or why the codec refused to encode a frame.
///
/// Every parser error is final: the parser is poisoned and throws the same error on every later
/// call. ``closeCode`` is the status to send in the close frame before closing the connection
/// (RFC 6455 §7.1.7, "_Fail the WebSocket Connection_").
public enum WebSocketError: Error, Hashable, Sendable {
    /// The opcode is one of the reserved values 3–7 or 11–15.
    case reservedOpcode(UInt8)
    /// RSV2 or RSV3 is set, or RSV1 is set without permessage-deflate, on a control frame or on a
    /// continuation frame.
    case reservedBits
    /// A control frame (close, ping, pong) has FIN clear.
    case fragmentedControlFrame
    /// A control frame declares more than 125 bytes of payload (`length` is the 7-bit length
    /// field: 126 or 127 mean a longer length follows).
    case controlFrameTooLong(length: UInt64)
    /// A continuation frame arrived with no fragmented message in progress.
    case unexpectedContinuation
    /// A new text or binary frame arrived while a fragmented message was still in progress.
    case expectedContinuation
    /// A client sent an unmasked frame to a server.
    case unmaskedFrame
    /// A server sent a masked frame to a client.
    case maskedFrame
    /// A 64-bit payload length has its most significant bit set.
    case invalidLength
    /// A close frame carries a one-byte payload, which cannot hold a status code.
    case invalidClosePayload
    /// A close frame carries a status code that may not appear on the wire.
    case invalidCloseCode(UInt16)
    /// A text message or a close reason is not valid UTF-8.
    case invalidUTF8
    /// A compressed message does not inflate (RFC 7692 §6.2).
    case invalidCompressedData
    /// A frame declares more payload than ``WebSocketLimits/maxFrameSize``.
    case frameTooLarge(length: UInt64, limit: Int)
    /// A message (after decompression) would be larger than ``WebSocketLimits/maxMessageSize``.
    case messageTooLarge(limit: Int)
    /// The encoder was asked for a control frame with more than 125 bytes of payload.
    case controlPayloadTooLong(length: Int)
    /// The encoder was asked for a close frame with a code that may not be sent.
    case unsendableCloseCode(UInt16)

    /// The close status that reports this error to the peer.
    public var closeCode: WebSocketCloseCode {
        switch self {
        case .invalidUTF8, .invalidCompressedData: .invalidPayloadData
        case .frameTooLarge, .messageTooLarge: .messageTooBig
        default: .protocolError
        }
    }
}

/// The sizes a ``WebSocketParser`` accepts, checked against each frame header before any of its
/// payload is buffered.
public struct WebSocketLimits: Sendable, Hashable {
    /// The largest payload one frame may declare.
    public var maxFrameSize: Int
    /// The largest message, summed over its fragments and measured after decompression.
    public var maxMessageSize: Int

    /// Creates limits; the defaults (4 MiB) match aiohttp's `max_msg_size`.
    public init(maxFrameSize: Int? = nil, maxMessageSize: Int = 4 << 20) {
        self.maxMessageSize = maxMessageSize
        self.maxFrameSize = maxFrameSize ?? maxMessageSize
    }
}

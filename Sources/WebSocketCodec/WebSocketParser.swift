// Theory of operation
//
// WebSocketParser is sans-I/O: `feed(_:)` appends bytes and `next()` returns the next event (a
// whole text or binary message, a ping, a pong or a close), nil when more bytes are needed, or
// throws a WebSocketError. It never reads a socket.
//
// 1. Headers are checked before payload. A frame header (2–14 bytes) is parsed only once all of
//    it is present, and every rule that the header alone can break is checked at once: reserved
//    opcodes and bits, masking for the role, control frames unfragmented and ≤ 125 bytes,
//    continuation order, the 64-bit length's top bit, and the frame and message size limits
//    (1009). Nothing is allocated for a payload that the limits would refuse, so a peer declaring
//    a 1 GiB frame costs 14 bytes of buffer.
//
// 2. Payload streams through. Payload bytes are unmasked and appended to the message (or to the
//    control frame's buffer) as they arrive, even when the frame is incomplete; the input buffer
//    therefore holds at most one read's worth of bytes, and an uncompressed text message is
//    validated as UTF-8 byte by byte as it grows, so invalid text fails with 1007 at the first bad
//    byte, not at the end of a long frame (Autobahn 6.4). `phase` (payload bytes already consumed)
//    keeps the masking key aligned across pieces. The common case skips all that: a whole
//    uncompressed message in one frame, all in the buffer, is unmasked in place and becomes its
//    event at once (`wholeMessage`).
//
// 3. Fragmented messages accumulate across frames; control frames may arrive between fragments
//    (Autobahn 5.x) and are returned at once, leaving the message in progress untouched.
//
// 4. Compressed messages (RSV1 on the first frame, permessage-deflate negotiated) accumulate
//    compressed, are inflated at the final fragment with the message limit as a hard cap on the
//    output, and only then validated as UTF-8.
//
// 5. Errors poison the parser. After a close frame the parser returns nil for ever: RFC 6455
//    §5.5.1 says nothing after a close is data. Any split of the input yields the same events.

/// What a ``WebSocketParser`` returns: a whole message or a control frame.
public enum WebSocketEvent: Hashable, Sendable {
    /// A complete text message, validated as UTF-8.
    case text(String)
    /// A complete binary message.
    case binary([UInt8])
    /// A ping; the endpoint should answer with a pong carrying the same payload.
    case ping([UInt8])
    /// A pong.
    case pong([UInt8])
    /// A close frame: its status code (nil when the frame had none) and reason.
    case close(WebSocketCloseCode?, reason: String)
}

/// An incremental, strict RFC 6455 frame parser that reassembles messages.
///
/// ```swift
/// var parser = WebSocketParser(role: .server)
/// parser.feed(bytesFromSocket)
/// while let event = try parser.next() { handle(event) }
/// ```
/// `role` is the side this parser runs on: a server's parser requires masked frames, a client's
/// requires unmasked ones. The parser owns a zlib stream when permessage-deflate was negotiated;
/// copies of such a parser share it, so use one parser per connection.
public struct WebSocketParser: Sendable {
    /// The side of the connection this parser reads for.
    public let role: WebSocketRole
    /// The sizes this parser accepts.
    public let limits: WebSocketLimits

    private let inflater: ZlibInflater?
    private var buffer: [UInt8] = []
    private var readIndex = 0

    /// The frame whose payload is being read.
    private var frame: FrameHeader?
    /// The data message in progress: its opcode, whether it is compressed, its bytes so far.
    private var messageOpcode: WebSocketOpcode?
    private var messageCompressed = false
    private var message: [UInt8] = []
    private var utf8 = UTF8Validator()
    private var control: [UInt8] = []

    private var failure: WebSocketError?
    private var closed = false

    private struct FrameHeader {
        var opcode: WebSocketOpcode
        var fin: Bool
        var maskKey: UInt32?
        var remaining: Int
        var phase = 0
    }

    /// Creates a parser.
    ///
    /// - Parameters:
    ///   - role: the side this parser reads for (`.server` reads a client's masked frames).
    ///   - limits: frame and message size limits.
    ///   - deflate: the negotiated permessage-deflate parameters, or nil when not negotiated
    ///     (RSV1 is then a protocol error).
    public init(
        role: WebSocketRole,
        limits: WebSocketLimits = WebSocketLimits(),
        deflate: PerMessageDeflateParameters? = nil
    ) {
        self.role = role
        self.limits = limits
        self.inflater = deflate.map { ZlibInflater(parameters: $0, role: role) }
    }

    /// Whether a close frame has been returned; later bytes are ignored.
    public var isClosed: Bool { closed }

    /// Appends bytes read from the connection.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Appends bytes read from the connection.
    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    private mutating func compact() {
        if readIndex == buffer.count {
            // Drained: an idle connection keeps no read-sized buffer, a busy one reuses a small one.
            if buffer.capacity > 4096 { buffer = [] } else { buffer.removeAll(keepingCapacity: true) }
            readIndex = 0
        } else if readIndex > 4096 && readIndex * 2 > buffer.count {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    /// Returns the next event, or nil when more bytes are needed.
    ///
    /// - Throws: ``WebSocketError`` when the peer broke the protocol; send a close frame with its
    ///   ``WebSocketError/closeCode`` and close the connection.
    public mutating func next() throws(WebSocketError) -> WebSocketEvent? {
        if let failure { throw failure }
        if closed { return nil }
        do {
            return try step()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func step() throws(WebSocketError) -> WebSocketEvent? {
        while true {
            if frame == nil {
                guard let header = try parseHeader() else { return nil }
                if header.fin, header.opcode == .text || header.opcode == .binary, !messageCompressed,
                    header.remaining <= buffer.count - readIndex
                {
                    return try wholeMessage(header)
                }
                frame = header
            }
            try consumePayload()
            guard let done = frame, done.remaining == 0 else { return nil }
            frame = nil
            if done.opcode.isControl { return try finishControl(done.opcode) }
            if done.fin { return try finishMessage() }
        }
    }

    // MARK: - Header

    private mutating func parseHeader() throws(WebSocketError) -> FrameHeader? {
        let available = buffer.count - readIndex
        guard available >= 2 else { return nil }
        let first = buffer[readIndex]
        let second = buffer[readIndex + 1]
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else {
            throw .reservedOpcode(first & 0x0F)
        }
        let fin = first & 0x80 != 0
        let rsv1 = first & 0x40 != 0
        if first & 0x30 != 0 { throw .reservedBits }
        if rsv1 && (inflater == nil || opcode.isControl || opcode == .continuation) { throw .reservedBits }
        let masked = second & 0x80 != 0
        let shortLength = second & 0x7F
        if opcode.isControl {
            guard fin else { throw .fragmentedControlFrame }
            guard shortLength <= 125 else { throw .controlFrameTooLong(length: UInt64(shortLength)) }
        } else if opcode == .continuation {
            guard messageOpcode != nil else { throw .unexpectedContinuation }
        } else {
            guard messageOpcode == nil else { throw .expectedContinuation }
        }
        switch role {
        case .server: guard masked else { throw .unmaskedFrame }
        case .client: guard !masked else { throw .maskedFrame }
        }
        let lengthBytes = shortLength == 127 ? 8 : shortLength == 126 ? 2 : 0
        let headerLength = 2 + lengthBytes + (masked ? 4 : 0)
        guard available >= headerLength else { return nil }
        var length = UInt64(shortLength)
        if lengthBytes > 0 {
            length = 0
            for offset in 0..<lengthBytes { length = length << 8 | UInt64(buffer[readIndex + 2 + offset]) }
            if length >> 63 != 0 { throw .invalidLength }
        }
        if !opcode.isControl {
            guard length <= UInt64(limits.maxFrameSize) else {
                throw .frameTooLarge(length: length, limit: limits.maxFrameSize)
            }
            guard UInt64(message.count) + length <= UInt64(limits.maxMessageSize) else {
                throw .messageTooLarge(limit: limits.maxMessageSize)
            }
        }
        var maskKey: UInt32?
        if masked {
            let at = readIndex + 2 + lengthBytes
            maskKey =
                UInt32(buffer[at]) | UInt32(buffer[at + 1]) << 8 | UInt32(buffer[at + 2]) << 16
                | UInt32(buffer[at + 3]) << 24
        }
        readIndex += headerLength
        if opcode == .text || opcode == .binary {
            messageOpcode = opcode
            messageCompressed = rsv1
            utf8 = UTF8Validator()
        } else if opcode.isControl {
            control.removeAll(keepingCapacity: true)
        }
        return FrameHeader(opcode: opcode, fin: fin, maskKey: maskKey, remaining: Int(length))
    }

    // MARK: - Payload

    /// Moves as much of the current frame's payload as has arrived into its destination.
    private mutating func consumePayload() throws(WebSocketError) {
        guard var current = frame else { return }
        let count = min(current.remaining, buffer.count - readIndex)
        guard count > 0 else { return }
        let source = buffer[readIndex..<readIndex + count]
        readIndex += count
        let isControl = current.opcode.isControl
        let start = isControl ? control.count : message.count
        if isControl { control.append(contentsOf: source) } else { message.append(contentsOf: source) }
        if let key = current.maskKey {
            let phase = current.phase
            if isControl {
                control.withUnsafeMutableBytes {
                    applyWebSocketMask(key, phase: phase, to: UnsafeMutableRawBufferPointer(rebasing: $0[start...]))
                }
            } else {
                message.withUnsafeMutableBytes {
                    applyWebSocketMask(key, phase: phase, to: UnsafeMutableRawBufferPointer(rebasing: $0[start...]))
                }
            }
        }
        current.phase += count
        current.remaining -= count
        frame = current
        if !isControl && messageOpcode == .text && !messageCompressed {
            let valid = message.withUnsafeBytes { utf8.validate(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            guard valid else { throw .invalidUTF8 }
        }
    }

    /// A whole uncompressed message in one frame, all of it in the buffer (the common case):
    /// unmasked in place and made into the event without the message buffer in between, so a
    /// small text message costs one allocation (its `String`) instead of three.
    private mutating func wholeMessage(_ header: FrameHeader) throws(WebSocketError) -> WebSocketEvent {
        let start = readIndex
        let end = readIndex + header.remaining
        readIndex = end
        messageOpcode = nil
        if let key = header.maskKey {
            buffer.withUnsafeMutableBytes {
                applyWebSocketMask(key, phase: 0, to: UnsafeMutableRawBufferPointer(rebasing: $0[start..<end]))
            }
        }
        if header.opcode == .binary { return .binary(Array(buffer[start..<end])) }
        let text: String? = buffer.withUnsafeBytes {
            let bytes = UnsafeRawBufferPointer(rebasing: $0[start..<end])
            var validator = UTF8Validator()
            guard validator.validate(bytes), validator.isComplete else { return nil }
            return String(decoding: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
        }
        guard let text else { throw .invalidUTF8 }
        return .text(text)
    }

    private mutating func finishControl(_ opcode: WebSocketOpcode) throws(WebSocketError) -> WebSocketEvent {
        switch opcode {
        case .ping: return .ping(control)
        case .pong: return .pong(control)
        default:
            closed = true
            if control.isEmpty { return .close(nil, reason: "") }
            guard control.count >= 2 else { throw .invalidClosePayload }
            let code = WebSocketCloseCode(rawValue: UInt16(control[0]) << 8 | UInt16(control[1]))
            guard code.isAllowedOnWire else { throw .invalidCloseCode(code.rawValue) }
            var validator = UTF8Validator()
            let reason = control[2...]
            guard validator.validate(reason), validator.isComplete else { throw .invalidUTF8 }
            return .close(code, reason: String(decoding: reason, as: UTF8.self))
        }
    }

    private mutating func finishMessage() throws(WebSocketError) -> WebSocketEvent {
        var bytes: [UInt8] = []
        swap(&bytes, &message)
        let opcode = messageOpcode
        messageOpcode = nil
        if messageCompressed, let inflater {
            bytes = try inflater.inflate(bytes, limit: limits.maxMessageSize)
            if opcode == .text {
                var validator = UTF8Validator()
                guard validator.validate(bytes) else { throw .invalidUTF8 }
                utf8 = validator
            }
        }
        guard opcode == .text else { return .binary(bytes) }
        guard utf8.isComplete else { throw .invalidUTF8 }
        return .text(String(decoding: bytes, as: UTF8.self))
    }
}

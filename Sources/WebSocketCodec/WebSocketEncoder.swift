/// Serializes WebSocket frames for one side of a connection (RFC 6455 §5.2).
///
/// A client's encoder masks every frame with a fresh key from a ``WebSocketMaskGenerator``; a
/// server's never masks. With permessage-deflate negotiated, text and binary messages are
/// compressed and sent with RSV1 set; control frames never are.
///
/// ```swift
/// var encoder = WebSocketEncoder(role: .server)
/// transport.write(encoder.text("hello"))
/// ```
public struct WebSocketEncoder: Sendable {
    /// The side of the connection this encoder writes for.
    public let role: WebSocketRole
    private var masks: WebSocketMaskGenerator
    private let deflater: ZlibDeflater?

    /// Creates an encoder.
    ///
    /// - Parameters:
    ///   - role: `.client` masks every frame, `.server` never does.
    ///   - deflate: negotiated permessage-deflate parameters, or nil to send uncompressed.
    ///   - compressionLevel: zlib's level (0–9, or -1 for its default) when compressing.
    ///   - masks: the source of client masking keys.
    public init(
        role: WebSocketRole,
        deflate: PerMessageDeflateParameters? = nil,
        compressionLevel: Int32 = -1,
        masks: WebSocketMaskGenerator = WebSocketMaskGenerator()
    ) {
        self.role = role
        self.masks = masks
        self.deflater = deflate.map { ZlibDeflater(parameters: $0, role: role, level: compressionLevel) }
    }

    /// Whether messages are compressed with permessage-deflate.
    public var compresses: Bool { deflater != nil }

    /// A text message in one frame.
    public mutating func text(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { message(.text, UnsafeRawBufferPointer($0)) }
    }

    /// A binary message in one frame.
    public mutating func binary(_ bytes: some Collection<UInt8>) -> [UInt8] {
        if let result = bytes.withContiguousStorageIfAvailable({ message(.binary, UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { message(.binary, $0) }
    }

    /// Writes a text message in one frame at the start of `buffer` and returns the frame's
    /// length: ``text(_:)`` for a caller that reuses one buffer for every frame it sends. The
    /// buffer grows when the frame does not fit; bytes past the returned length are left as they
    /// were.
    public mutating func text(_ text: String, into buffer: inout [UInt8]) -> Int {
        var text = text
        return text.withUTF8 { message(.text, UnsafeRawBufferPointer($0), into: &buffer) }
    }

    /// Writes a binary message in one frame at the start of `buffer` and returns its length:
    /// ``binary(_:)`` into a reused buffer, as ``text(_:into:)``.
    public mutating func binary(_ bytes: some Collection<UInt8>, into buffer: inout [UInt8]) -> Int {
        if let length = bytes.withContiguousStorageIfAvailable({
            message(.binary, UnsafeRawBufferPointer($0), into: &buffer)
        }) {
            return length
        }
        return Array(bytes).withUnsafeBytes { message(.binary, $0, into: &buffer) }
    }

    /// A ping carrying up to 125 bytes.
    public mutating func ping(_ payload: some Collection<UInt8> = []) throws(WebSocketError) -> [UInt8] {
        try controlFrame(.ping, Array(payload))
    }

    /// A pong carrying up to 125 bytes (the ping's payload, when answering one).
    public mutating func pong(_ payload: some Collection<UInt8> = []) throws(WebSocketError) -> [UInt8] {
        try controlFrame(.pong, Array(payload))
    }

    /// A close frame with a status code and a reason of at most 123 UTF-8 bytes, or an empty close
    /// frame when `code` is nil.
    public mutating func close(code: WebSocketCloseCode?, reason: String = "") throws(WebSocketError) -> [UInt8] {
        guard let code else { return try controlFrame(.close, []) }
        guard code.isAllowedOnWire else { throw .unsendableCloseCode(code.rawValue) }
        let payload = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)] + Array(reason.utf8)
        return try controlFrame(.close, payload)
    }

    /// One raw frame, for callers that fragment messages themselves. No compression is applied;
    /// set `rsv1` only on the first frame of a message compressed by the caller.
    public mutating func frame(
        _ opcode: WebSocketOpcode,
        payload: some Collection<UInt8>,
        fin: Bool = true,
        rsv1: Bool = false
    ) -> [UInt8] {
        let bytes = Array(payload)
        return bytes.withUnsafeBytes { encode(opcode, $0, fin: fin, rsv1: rsv1) }
    }

    private mutating func controlFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8]) throws(WebSocketError) -> [UInt8]
    {
        guard payload.count <= 125 else { throw .controlPayloadTooLong(length: payload.count) }
        return payload.withUnsafeBytes { encode(opcode, $0, fin: true, rsv1: false) }
    }

    private mutating func message(_ opcode: WebSocketOpcode, _ payload: UnsafeRawBufferPointer) -> [UInt8] {
        var frame: [UInt8] = []
        let length = message(opcode, payload, into: &frame)
        assert(length == frame.count)
        return frame
    }

    private mutating func message(
        _ opcode: WebSocketOpcode,
        _ payload: UnsafeRawBufferPointer,
        into buffer: inout [UInt8]
    ) -> Int {
        guard let deflater else { return encode(opcode, payload, fin: true, rsv1: false, into: &buffer) }
        let compressed = deflater.deflate(payload)
        return compressed.withUnsafeBytes { encode(opcode, $0, fin: true, rsv1: true, into: &buffer) }
    }

    private mutating func encode(
        _ opcode: WebSocketOpcode,
        _ payload: UnsafeRawBufferPointer,
        fin: Bool,
        rsv1: Bool
    ) -> [UInt8] {
        var frame: [UInt8] = []
        _ = encode(opcode, payload, fin: fin, rsv1: rsv1, into: &frame)
        return frame
    }

    /// Writes one frame at the start of `buffer`, growing it to the frame's size if it is
    /// smaller (an empty buffer ends up exactly the frame), and returns the frame's length.
    private mutating func encode(
        _ opcode: WebSocketOpcode,
        _ payload: UnsafeRawBufferPointer,
        fin: Bool,
        rsv1: Bool,
        into buffer: inout [UInt8]
    ) -> Int {
        let length = payload.count
        let lengthBytes = length > 0xFFFF ? 8 : length > 125 ? 2 : 0
        let maskKey: UInt32? = role == .client ? masks.nextKey() : nil
        let headerLength = 2 + lengthBytes + (maskKey == nil ? 0 : 4)
        let total = headerLength + length
        let write = { (out: UnsafeMutableBufferPointer<UInt8>) in
            out[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode.rawValue
            let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
            switch lengthBytes {
            case 0: out[1] = maskBit | UInt8(length)
            case 2:
                out[1] = maskBit | 126
                out[2] = UInt8(length >> 8)
                out[3] = UInt8(length & 0xFF)
            default:
                out[1] = maskBit | 127
                for index in 0..<8 { out[2 + index] = UInt8(truncatingIfNeeded: UInt64(length) >> (56 - 8 * index)) }
            }
            if let maskKey {
                for index in 0..<4 { out[2 + lengthBytes + index] = UInt8(truncatingIfNeeded: maskKey >> (8 * index)) }
            }
            let body = UnsafeMutableRawBufferPointer(
                UnsafeMutableBufferPointer(rebasing: out[headerLength..<headerLength + length])
            )
            if length > 0, let base = payload.baseAddress {
                body.copyMemory(from: UnsafeRawBufferPointer(start: base, count: length))
            }
            if let maskKey { applyWebSocketMask(maskKey, phase: 0, to: body) }
        }
        if buffer.count < total {
            // Every byte of the frame is written, so the new buffer needs no zeroing first.
            buffer = [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
                write(UnsafeMutableBufferPointer(rebasing: out[..<total]))
                initialized = total
            }
        } else {
            buffer.withUnsafeMutableBufferPointer { write(UnsafeMutableBufferPointer(rebasing: $0[..<total])) }
        }
        return total
    }
}

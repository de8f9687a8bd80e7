/// The XOR masking of RFC 6455 §5.3, 32 bytes at a time (four 8-byte words per step, which
/// the compiler turns into vector instructions), then eight, then one.
///
/// `key` holds the four masking-key bytes in wire order, loaded little-endian (byte 0 in the low
/// bits). `phase` is how many payload bytes were masked before this buffer (frames arrive in
/// pieces), so the key is rotated to start at the right byte.
@inlinable
func applyWebSocketMask(_ key: UInt32, phase: Int, to buffer: UnsafeMutableRawBufferPointer) {
    let shift = UInt32((phase & 3) * 8)
    let rotated = shift == 0 ? key : (key >> shift) | (key << (32 - shift))
    let wide = UInt64(rotated) | UInt64(rotated) << 32
    var index = 0
    let count = buffer.count
    while index + 32 <= count {
        for offset in stride(from: index, to: index + 32, by: 8) {
            let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            buffer.storeBytes(of: (word ^ wide).littleEndian, toByteOffset: offset, as: UInt64.self)
        }
        index += 32
    }
    while index + 8 <= count {
        let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: index, as: UInt64.self))
        buffer.storeBytes(of: (word ^ wide).littleEndian, toByteOffset: index, as: UInt64.self)
        index += 8
    }
    var rest = rotated
    while index < count {
        buffer[index] ^= UInt8(truncatingIfNeeded: rest)
        rest = (rest >> 8) | (rest << 24)
        index += 1
    }
}

/// A fast source of masking keys for a client: wyrand, seeded once from the system's generator.
///
/// RFC 6455 §10.3 asks that keys be unpredictable to scripts and intermediaries, not that each be
/// drawn from the kernel; one `getrandom` per frame would cost more than masking the frame.
/// The 64-bit state seeded from `SystemRandomNumberGenerator` cannot be guessed by the page.
public struct WebSocketMaskGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Seeds the generator from the system's random source.
    public init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    /// Seeds the generator with a fixed value, for reproducible tests.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0xA076_1D64_78BD_642F
        let product = state.multipliedFullWidth(by: state ^ 0xE703_7ED1_A0B4_28DB)
        return product.high ^ product.low
    }

    /// The next four-byte masking key.
    public mutating func nextKey() -> UInt32 { UInt32(truncatingIfNeeded: next()) }
}

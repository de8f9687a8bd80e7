/// An incremental UTF-8 validator: feed it bytes in any split and it fails on the first byte that
/// cannot start or continue a well-formed sequence (Unicode 15, Table 3-7).
///
/// A code point split across frames or reads is fine; ``isComplete`` says whether the bytes so far
/// end on a code point boundary. Overlong forms, surrogates (U+D800–U+DFFF) and values above
/// U+10FFFF fail at the first byte that proves them so, which is what lets a text message fail
/// with 1007 before the rest of it arrives (Autobahn case 6.4).
public struct UTF8Validator: Sendable, Hashable {
    /// Continuation bytes still expected in the current sequence.
    private var needed: UInt8 = 0
    /// The range the next continuation byte must fall in (narrower than 0x80...0xBF after E0,
    /// ED, F0 and F4).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    public init() {}

    /// Whether the bytes validated so far end between code points.
    public var isComplete: Bool { needed == 0 }

    /// Validates more bytes; returns false at the first invalid one (the validator is then spent).
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            // ASCII runs are the common case: skip 32 bytes, then eight, at a time while none
            // has its top bit.
            if needed == 0 {
                while index + 32 <= count {
                    let any =
                        bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                        | bytes.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)
                        | bytes.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self)
                        | bytes.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self)
                    guard any & 0x8080_8080_8080_8080 == 0 else { break }
                    index += 32
                }
                while index + 8 <= count,
                    bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
                {
                    index += 8
                }
                if index == count { break }
            }
            let byte = bytes[index]
            index += 1
            if needed == 0 {
                switch byte {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: needed = 1
                case 0xE0:
                    needed = 2
                    lower = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: needed = 2
                case 0xED:
                    needed = 2
                    upper = 0x9F
                case 0xF0:
                    needed = 3
                    lower = 0x90
                case 0xF1...0xF3: needed = 3
                case 0xF4:
                    needed = 3
                    upper = 0x8F
                default: return false
                }
            } else {
                guard byte >= lower && byte <= upper else { return false }
                lower = 0x80
                upper = 0xBF
                needed -= 1
            }
        }
        return true
    }

    /// Validates more bytes from any contiguous collection.
    public mutating func validate(_ bytes: some Collection<UInt8>) -> Bool {
        if let result = bytes.withContiguousStorageIfAvailable({ validate(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { validate($0) }
    }
}

// A 256-entry table that classifies bytes for the head parser, so that the hot loops do one
// load and one mask per byte instead of a chain of range comparisons.

/// Byte classes, as bits of an entry of ``byteClasses``.
enum ByteClass {
    /// `tchar` (RFC 9110 §5.6.2): may appear in a method, a field name, a coding or option token.
    static let token: UInt8 = 1 << 0
    /// `field-vchar / SP / HTAB` (RFC 9110 §5.5): may appear in a field value or a reason phrase.
    static let fieldValue: UInt8 = 1 << 1
    /// A byte we accept in a request-target: VCHAR except `#` (a fragment is never sent).
    static let target: UInt8 = 1 << 2
    /// A hexadecimal digit.
    static let hex: UInt8 = 1 << 3
}

// SAFETY: the table is allocated and filled once, before any reader can see the pointer (Swift
// runs a global's initializer exactly once, thread-safely), and is never written nor freed after.
nonisolated(unsafe) let byteClasses: UnsafePointer<UInt8> = {
    let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    // SAFETY: 256 elements were just allocated; every index below is 0..<256.
    table.initialize(repeating: 0, count: 256)
    let tokenSymbols = Array("!#$%&'*+-.^_`|~".utf8)
    for byte in 0..<256 {
        let b = UInt8(byte)
        var bits: UInt8 = 0
        let isAlpha = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
        let isDigit = b >= 0x30 && b <= 0x39
        if isAlpha || isDigit || tokenSymbols.contains(b) { bits |= ByteClass.token }
        if (b >= 0x20 && b != 0x7F) || b == 0x09 { bits |= ByteClass.fieldValue }
        if b > 0x20 && b < 0x7F && b != UInt8(ascii: "#") { bits |= ByteClass.target }
        if isDigit || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66) { bits |= ByteClass.hex }
        table[byte] = bits
    }
    return UnsafePointer(table)
}()

/// ASCII bytes the parsers compare against.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let comma: UInt8 = 0x2C
    static let semicolon: UInt8 = 0x3B
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
}

/// The value of a hexadecimal digit; only call it on bytes of class ``ByteClass/hex``.
@inline(__always)
func hexValue(_ b: UInt8) -> Int {
    if b <= 0x39 { return Int(b &- 0x30) }
    return Int((b | 0x20) &- 0x61 &+ 10)
}

/// Whether `count` bytes at `p` equal `literal`, ignoring ASCII case.
///
/// `literal` must be lowercase letters, digits and `-`; the bytes at `p` must be token bytes
/// (the callers have validated them). For those, `byte | 0x20` maps exactly the uppercase letters
/// onto lowercase and leaves `-` and digits alone, so one OR per byte is an exact comparison.
// SAFETY: callers pass a pointer to at least `count` initialised bytes (a range they bounds-checked);
// the literal is read only below its own length, which equals `count` after the guard.
@inline(__always)
func equalsLowercased(_ p: UnsafePointer<UInt8>, _ count: Int, _ literal: StaticString) -> Bool {
    guard count == literal.utf8CodeUnitCount else { return false }
    let l = literal.utf8Start
    for i in 0..<count where p[i] | 0x20 != l[i] { return false }
    return true
}

/// Whether `count` bytes at `p` equal `literal` exactly.
// SAFETY: as for equalsLowercased: `count` bytes are readable at `p`, the literal has `count` bytes.
@inline(__always)
func equalsExactly(_ p: UnsafePointer<UInt8>, _ count: Int, _ literal: StaticString) -> Bool {
    guard count == literal.utf8CodeUnitCount else { return false }
    let l = literal.utf8Start
    for i in 0..<count where p[i] != l[i] { return false }
    return true
}

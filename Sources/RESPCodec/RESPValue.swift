/// One RESP2 or RESP3 value, owned: it stays valid after the parser's input buffer moves on.
///
/// Each case maps to one RESP type byte, and the three encodings of "null" stay distinct
/// (``nullBulkString`` is RESP2's `$-1`, ``nullArray`` is RESP2's `*-1`, ``null`` is RESP3's `_`),
/// so that `encode(parse(x)) == x` holds for every canonical encoding. Use ``isNull`` when the
/// distinction does not matter.
///
/// Payloads are bytes (`[UInt8]`), never `String`: Redis values are binary-safe, and a client
/// decides when to pay for UTF-8 validation (see ``string``).
///
/// Attributes (`|`) are surfaced by wrapping the value they precede: `|1\r\n+key\r\n+v\r\n:5\r\n`
/// parses as `.attributed(attributes: [key: v], value: .integer(5))`, wherever it occurs — at the
/// top level or as an element of an aggregate, where it does not count toward the element count.
/// Use ``withoutAttributes`` to ignore them.
public enum RESPValue: Hashable, Sendable {
    /// `+OK\r\n`: a simple string (no CR or LF inside).
    case simpleString([UInt8])
    /// `-ERR message\r\n`: a simple error.
    case simpleError([UInt8])
    /// `:42\r\n`: a signed 64-bit integer.
    case integer(Int64)
    /// `$3\r\nfoo\r\n`: a binary-safe bulk string.
    case bulkString([UInt8])
    /// `$-1\r\n`: RESP2's null bulk string.
    case nullBulkString
    /// `*2\r\n…`: an array.
    case array([RESPValue])
    /// `*-1\r\n`: RESP2's null array.
    case nullArray
    /// `_\r\n`: RESP3's null.
    case null
    /// `,3.14\r\n`, `,inf\r\n`, `,-inf\r\n`, `,nan\r\n`: a RESP3 double.
    case double(Double)
    /// `#t\r\n` / `#f\r\n`: a RESP3 boolean.
    case boolean(Bool)
    /// `!21\r\nSYNTAX invalid syntax\r\n`: a RESP3 blob error.
    case blobError([UInt8])
    /// `=15\r\ntxt:Some string\r\n`: a RESP3 verbatim string with its 3-byte format.
    indirect case verbatimString(format: RESPVerbatimFormat, text: [UInt8])
    /// `(3492890328409238509324850943850943825024385\r\n`: a RESP3 big number, kept as its digits.
    indirect case bigNumber(String)
    /// `%2\r\n…`: a RESP3 map, pairs in wire order (duplicates kept).
    case map([RESPPair])
    /// `~2\r\n…`: a RESP3 set, elements in wire order (duplicates kept).
    case set([RESPValue])
    /// `>3\r\n…`: a RESP3 push frame (pub/sub messages, invalidations).
    case push([RESPValue])
    /// `|1\r\n…` followed by a value: RESP3 attributes and the value they describe.
    indirect case attributed(attributes: [RESPPair], value: RESPValue)
}

/// One key-value pair of a RESP3 map or attribute.
public struct RESPPair: Hashable, Sendable {
    /// The key.
    public var key: RESPValue
    /// The value.
    public var value: RESPValue

    /// Creates a pair.
    public init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}

/// The 3-byte format of a RESP3 verbatim string, such as `txt` or `mkd`.
public struct RESPVerbatimFormat: Hashable, Sendable, CustomStringConvertible {
    /// The three format bytes.
    public var bytes: (UInt8, UInt8, UInt8)

    /// Plain text, `txt`.
    public static let text = RESPVerbatimFormat(0x74, 0x78, 0x74)
    /// Markdown, `mkd`.
    public static let markdown = RESPVerbatimFormat(0x6D, 0x6B, 0x64)

    /// Creates a format from its three bytes.
    public init(_ first: UInt8, _ second: UInt8, _ third: UInt8) {
        bytes = (first, second, third)
    }

    /// The format as text, for example `txt`.
    public var description: String {
        String(decoding: [bytes.0, bytes.1, bytes.2], as: UTF8.self)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.bytes == rhs.bytes
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.0)
        hasher.combine(bytes.1)
        hasher.combine(bytes.2)
    }
}

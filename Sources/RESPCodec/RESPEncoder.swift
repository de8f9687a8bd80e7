/// Writes RESP2/RESP3 bytes straight into a caller's `[UInt8]` buffer.
///
/// Commands go out as arrays of bulk strings, written from the arguments themselves with no
/// intermediate ``RESPValue`` and no `String` formatting of lengths:
/// ```swift
/// var out: [UInt8] = []
/// RESPEncoder.encodeCommand("SET", key, value, into: &out)   // any mix of argument types
/// RESPEncoder.encodeCommand(["MGET", "a", "b"], into: &out)   // a collection of one type
/// ```
/// ``encode(_:into:)`` writes any ``RESPValue`` in its canonical encoding, the one
/// ``RESPParser`` round-trips: `parse(encode(v)) == v`.
public enum RESPEncoder {
    /// Appends a command, an array of bulk strings, built from a collection of arguments.
    @inlinable
    public static func encodeCommand<Arguments: Collection>(
        _ arguments: Arguments,
        into buffer: inout [UInt8]
    ) where Arguments.Element: RESPCommandArgument {
        appendHeader(UInt8(ascii: "*"), Int64(arguments.count), to: &buffer)
        for argument in arguments {
            appendBulk(argument, to: &buffer)
        }
    }

    /// Appends a command, an array of bulk strings, built from arguments of any conforming types.
    ///
    /// Inlinable, so that a caller's concrete argument types are specialized in: walking a
    /// parameter pack of unknown types at run time costs more than the encoding itself.
    @inlinable
    public static func encodeCommand<each Argument: RESPCommandArgument>(
        _ argument: repeat each Argument,
        into buffer: inout [UInt8]
    ) {
        var count: Int64 = 0
        for _ in repeat each argument {
            count += 1
        }
        appendHeader(UInt8(ascii: "*"), count, to: &buffer)
        for value in repeat each argument {
            appendBulk(value, to: &buffer)
        }
    }

    /// Appends the canonical encoding of `value`.
    ///
    /// Recursion follows the value's nesting, which the caller built (values from ``RESPParser``
    /// are at most `maxDepth` deep).
    public static func encode(_ value: RESPValue, into buffer: inout [UInt8]) {
        switch value {
        case .simpleString(let bytes):
            appendLine(UInt8(ascii: "+"), bytes, to: &buffer)
        case .simpleError(let bytes):
            appendLine(UInt8(ascii: "-"), bytes, to: &buffer)
        case .integer(let integer):
            buffer.append(UInt8(ascii: ":"))
            appendDecimal(integer, to: &buffer)
            appendCRLF(to: &buffer)
        case .bulkString(let bytes):
            appendBulk(bytes, to: &buffer)
        case .nullBulkString:
            buffer.append(contentsOf: "$-1\r\n".utf8)
        case .array(let elements):
            appendAggregate(UInt8(ascii: "*"), elements, to: &buffer)
        case .nullArray:
            buffer.append(contentsOf: "*-1\r\n".utf8)
        case .null:
            buffer.append(contentsOf: "_\r\n".utf8)
        case .double(let double):
            appendLine(UInt8(ascii: ","), Array(doubleText(double).utf8), to: &buffer)
        case .boolean(let boolean):
            buffer.append(contentsOf: boolean ? "#t\r\n".utf8 : "#f\r\n".utf8)
        case .blobError(let bytes):
            appendHeader(UInt8(ascii: "!"), Int64(bytes.count), to: &buffer)
            buffer.append(contentsOf: bytes)
            appendCRLF(to: &buffer)
        case .verbatimString(let format, let text):
            appendHeader(UInt8(ascii: "="), Int64(text.count + 4), to: &buffer)
            buffer.append(contentsOf: [format.bytes.0, format.bytes.1, format.bytes.2, UInt8(ascii: ":")])
            buffer.append(contentsOf: text)
            appendCRLF(to: &buffer)
        case .bigNumber(let digits):
            appendLine(UInt8(ascii: "("), Array(digits.utf8), to: &buffer)
        case .map(let pairs):
            appendPairs(UInt8(ascii: "%"), pairs, to: &buffer)
        case .set(let elements):
            appendAggregate(UInt8(ascii: "~"), elements, to: &buffer)
        case .push(let elements):
            appendAggregate(UInt8(ascii: ">"), elements, to: &buffer)
        case .attributed(let attributes, let inner):
            appendPairs(UInt8(ascii: "|"), attributes, to: &buffer)
            encode(inner, into: &buffer)
        }
    }

    /// Returns `value` encoded as a new byte array.
    public static func encode(_ value: RESPValue) -> [UInt8] {
        var buffer: [UInt8] = []
        encode(value, into: &buffer)
        return buffer
    }

    // MARK: - Pieces

    /// The text of a double as RESP3 writes it: `inf`, `-inf`, `nan`, or Swift's shortest
    /// round-tripping decimal (`1.5`, `1e+100`), which the parser's grammar accepts.
    static func doubleText(_ double: Double) -> String {
        if double.isNaN {
            return "nan"
        }
        if double.isInfinite {
            return double < 0 ? "-inf" : "inf"
        }
        return double.description
    }

    /// Appends the `*count` line that starts a command of `count` arguments.
    @inlinable
    public static func appendCommandHeader(count: Int, to buffer: inout [UInt8]) {
        appendHeader(UInt8(ascii: "*"), Int64(count), to: &buffer)
    }

    /// Appends one command argument as a bulk string: `$n`, the payload, CRLF.
    @inlinable
    public static func appendArgument(_ argument: some RESPCommandArgument, to buffer: inout [UInt8]) {
        appendBulk(argument, to: &buffer)
    }

    @inlinable
    static func appendBulk(_ argument: some RESPCommandArgument, to buffer: inout [UInt8]) {
        appendHeader(UInt8(ascii: "$"), Int64(argument.respPayloadCount), to: &buffer)
        argument.appendRESPPayload(to: &buffer)
        appendCRLF(to: &buffer)
    }

    static func appendAggregate(_ type: UInt8, _ elements: [RESPValue], to buffer: inout [UInt8]) {
        appendHeader(type, Int64(elements.count), to: &buffer)
        for element in elements {
            encode(element, into: &buffer)
        }
    }

    static func appendPairs(_ type: UInt8, _ pairs: [RESPPair], to buffer: inout [UInt8]) {
        appendHeader(type, Int64(pairs.count), to: &buffer)
        for pair in pairs {
            encode(pair.key, into: &buffer)
            encode(pair.value, into: &buffer)
        }
    }

    static func appendLine(_ type: UInt8, _ bytes: [UInt8], to buffer: inout [UInt8]) {
        buffer.append(type)
        buffer.append(contentsOf: bytes)
        appendCRLF(to: &buffer)
    }

    @inlinable @inline(__always)
    static func appendHeader(_ type: UInt8, _ count: Int64, to buffer: inout [UInt8]) {
        buffer.append(type)
        appendDecimal(count, to: &buffer)
        appendCRLF(to: &buffer)
    }

    @inlinable @inline(__always)
    static func appendCRLF(to buffer: inout [UInt8]) {
        buffer.append(13)
        buffer.append(10)
    }

    /// The number of bytes of `value`'s decimal text, sign included.
    @inlinable
    static func decimalCount(_ value: Int64) -> Int {
        var magnitude = value.magnitude
        var count = value < 0 ? 2 : 1
        while magnitude >= 10 {
            magnitude /= 10
            count += 1
        }
        return count
    }

    /// Appends `value` as decimal ASCII, without creating a `String`.
    @inlinable
    static func appendDecimal(_ value: Int64, to buffer: inout [UInt8]) {
        if value < 0 {
            buffer.append(UInt8(ascii: "-"))
        }
        var magnitude = value.magnitude
        if magnitude < 10 {
            buffer.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        // Write the digits least significant first at the end, then reverse them in place.
        let start = buffer.count
        while magnitude > 0 {
            buffer.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        }
        buffer[start...].reverse()
    }
}

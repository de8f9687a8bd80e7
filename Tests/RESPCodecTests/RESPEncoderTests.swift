import RESPCodec
import Testing

/// The encoder: commands as arrays of bulk strings, and every value kind round-tripping.
@Suite("RESP encoder")
struct RESPEncoderTests {
    @Test("a command from an array of strings")
    func commandFromStrings() {
        var buffer: [UInt8] = []
        RESPEncoder.encodeCommand(["SET", "key", "value"], into: &buffer)
        #expect(buffer == Array("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n".utf8))
    }

    @Test("a command from mixed argument types, appended after existing bytes")
    func commandFromMixedArguments() {
        var buffer = Array("+prefix\r\n".utf8)
        let key: Substring = "user:1"[...]
        let value: [UInt8] = [0, 13, 10, 0xFF]
        RESPEncoder.encodeCommand("SET", key, value, "EX", 3600, into: &buffer)
        let expected =
            Array("+prefix\r\n*5\r\n$3\r\nSET\r\n$6\r\nuser:1\r\n$4\r\n".utf8) + value
            + Array("\r\n$2\r\nEX\r\n$4\r\n3600\r\n".utf8)
        #expect(buffer == expected)
    }

    @Test("string arguments are measured in UTF-8 bytes, and empty arguments are allowed")
    func utf8AndEmptyArguments() {
        var buffer: [UInt8] = []
        RESPEncoder.encodeCommand(["ECHO", "héllo", ""], into: &buffer)
        #expect(buffer == Array("*3\r\n$4\r\nECHO\r\n$6\r\nhéllo\r\n$0\r\n\r\n".utf8))
    }

    @Test(
        "integer arguments are written as decimal text, extremes included",
        arguments: [0, 7, -1, 10, 99, -100, Int.max, Int.min]
    )
    func integerArguments(_ integer: Int) {
        var buffer: [UInt8] = []
        RESPEncoder.encodeCommand(CollectionOfOne(integer), into: &buffer)
        let text = String(integer)
        #expect(buffer == Array("*1\r\n$\(text.utf8.count)\r\n\(text)\r\n".utf8))
    }

    @Test("a command parses back as an array of bulk strings")
    func commandParsesBack() {
        var buffer: [UInt8] = []
        RESPEncoder.encodeCommand("HSET", "h", "f", 1, into: &buffer)
        #expect(parseWhole(buffer).values == [.array([bulk("HSET"), bulk("h"), bulk("f"), bulk("1")])])
    }

    static let everyKind: [RESPValue] = [
        simple("OK"), simple(""), .simpleError(Array("ERR x".utf8)), .integer(0), .integer(.min), .integer(.max),
        bulk("foo"), .bulkString([0, 13, 10, 255]), .bulkString([]), .nullBulkString, .array([]), .nullArray, .null,
        .double(0), .double(-0.0), .double(3.141592653589793), .double(1e-300), .double(.leastNonzeroMagnitude),
        .double(.infinity),
        .double(-.infinity), .double(.nan), .double(1.7976931348623157e308), .boolean(true), .boolean(false),
        .blobError(Array("SYNTAX bad\r\nline".utf8)), .verbatimString(format: .markdown, text: Array("# hi".utf8)),
        .verbatimString(format: RESPVerbatimFormat(1, 2, 3), text: [13, 10]),
        .bigNumber("-123456789012345678901234567890"),
        .map([pair(bulk("k"), .array([.integer(1), .null])), pair(.integer(2), .set([]))]), .map([]),
        .set([bulk("a"), .double(2.5)]), .push([bulk("invalidate"), .array([bulk("key")])]),
        .attributed(
            attributes: [pair(simple("ttl"), .integer(5))],
            value: .array([.attributed(attributes: [], value: .null)])
        ),
        .array([.array([.array([.map([pair(.boolean(true), .push([]))])])])]),
    ]

    @Test("every value kind round-trips: parse(encode(v)) == v", arguments: everyKind)
    func parseEncodeRoundTrip(_ value: RESPValue) {
        let bytes = RESPEncoder.encode(value)
        let outcome = parseWhole(bytes)
        #expect(outcome == ParseOutcome(values: [value]))
        #expect(parseByteByByte(bytes) == ParseOutcome(values: [value]))
        if case .double(let double) = value, double.isNaN {
            #expect(outcome.values.first.flatMap { if case .double(let d) = $0 { d.isNaN } else { nil } } == true)
        } else {
            #expect(outcome.values == [value])
        }
    }

    @Test("the canonical null, boolean and double spellings")
    func canonicalSpellings() {
        #expect(RESPEncoder.encode(.nullBulkString) == Array("$-1\r\n".utf8))
        #expect(RESPEncoder.encode(.nullArray) == Array("*-1\r\n".utf8))
        #expect(RESPEncoder.encode(.null) == Array("_\r\n".utf8))
        #expect(RESPEncoder.encode(.boolean(true)) == Array("#t\r\n".utf8))
        #expect(RESPEncoder.encode(.double(-.infinity)) == Array(",-inf\r\n".utf8))
        #expect(RESPEncoder.encode(.double(-.nan)) == Array(",nan\r\n".utf8))
        #expect(RESPEncoder.encode(.double(1e100)) == Array(",1e+100\r\n".utf8))
    }

    @Test("accessors read the payload of string-like values and the elements of sequences")
    func accessors() {
        #expect(bulk("héllo").string == "héllo")
        #expect(RESPValue.simpleError(Array("ERR".utf8)).isError)
        #expect(RESPValue.nullArray.isNull && RESPValue.null.isNull && RESPValue.nullBulkString.isNull)
        #expect(RESPValue.integer(1).bytes == nil)
        #expect(RESPValue.push([.null]).elements == [.null])
        #expect(RESPValue.attributed(attributes: [], value: .integer(3)).withoutAttributes == .integer(3))
        #expect(RESPVerbatimFormat.text.description == "txt")
    }
}

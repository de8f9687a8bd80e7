import RESPCodec

/// One parser vector: input bytes, the values they hold, and the error that ends them, if any.
struct RESPVector: Sendable, CustomStringConvertible {
    let name: String
    let bytes: [UInt8]
    let values: [RESPValue]
    let error: RESPError?
    /// Whether `bytes` is the encoder's canonical form of `values`, so `encode(parse(x)) == x`.
    let canonical: Bool

    var description: String { name }

    static func valid(_ name: String, _ text: String, _ values: RESPValue..., canonical: Bool = true) -> Self {
        RESPVector(name: name, bytes: Array(text.utf8), values: values, error: nil, canonical: canonical)
    }

    static func valid(_ name: String, bytes: [UInt8], _ values: RESPValue...) -> Self {
        RESPVector(name: name, bytes: bytes, values: values, error: nil, canonical: true)
    }

    static func invalid(_ name: String, _ text: String, _ error: RESPError, after values: RESPValue...) -> Self {
        RESPVector(name: name, bytes: Array(text.utf8), values: values, error: error, canonical: false)
    }
}

func bulk(_ text: String) -> RESPValue { RESPValue(bulkString: text) }
func simple(_ text: String) -> RESPValue { RESPValue(simpleString: text) }
func pair(_ key: RESPValue, _ value: RESPValue) -> RESPPair { RESPPair(key: key, value: value) }

let defaultLimits = RESPLimits()

/// Well-formed replies: every RESP2 and RESP3 type, edge values, and the nesting cases.
let validVectors: [RESPVector] = [
    .valid("simple string", "+OK\r\n", simple("OK")),
    .valid("empty simple string", "+\r\n", simple("")),
    .valid("simple error", "-ERR unknown command 'foo'\r\n", .simpleError(Array("ERR unknown command 'foo'".utf8))),
    .valid("integer zero", ":0\r\n", .integer(0)),
    .valid("negative integer", ":-1\r\n", .integer(-1)),
    .valid("Int64.max", ":9223372036854775807\r\n", .integer(.max)),
    .valid("Int64.min", ":-9223372036854775808\r\n", .integer(.min)),
    .valid("integer with plus sign", ":+5\r\n", .integer(5), canonical: false),
    .valid("integer with leading zeros", ":0000000000000000000000007\r\n", .integer(7), canonical: false),
    .valid("bulk string", "$3\r\nfoo\r\n", bulk("foo")),
    .valid("empty bulk string", "$0\r\n\r\n", bulk("")),
    .valid(
        "binary bulk string",
        bytes: Array("$5\r\n".utf8) + [13, 10, 0, 0xFF, 10] + [13, 10],
        .bulkString([13, 10, 0, 0xFF, 10])
    ),
    .valid("null bulk string", "$-1\r\n", .nullBulkString),
    .valid("empty array", "*0\r\n", .array([])),
    .valid("null array", "*-1\r\n", .nullArray),
    .valid("array of bulk and integer", "*2\r\n$3\r\nfoo\r\n:1\r\n", .array([bulk("foo"), .integer(1)])),
    .valid("nested arrays", "*2\r\n*1\r\n+a\r\n*0\r\n", .array([.array([simple("a")]), .array([])])),
    .valid("array holding nulls", "*3\r\n$-1\r\n*-1\r\n_\r\n", .array([.nullBulkString, .nullArray, .null])),
    .valid("null", "_\r\n", .null),
    .valid("double", ",1.5\r\n", .double(1.5)),
    .valid("negative double", ",-0.25\r\n", .double(-0.25)),
    .valid("double with exponent", ",1e+100\r\n", .double(1e100)),
    .valid("double with capital exponent", ",-1.5E-3\r\n", .double(-0.0015), canonical: false),
    .valid("integral double", ",10\r\n", .double(10), canonical: false),
    .valid("infinity", ",inf\r\n", .double(.infinity)),
    .valid("negative infinity", ",-inf\r\n", .double(-.infinity)),
    .valid("plus infinity", ",+inf\r\n", .double(.infinity), canonical: false),
    .valid("nan", ",nan\r\n", .double(.nan)),
    .valid("true", "#t\r\n", .boolean(true)),
    .valid("false", "#f\r\n", .boolean(false)),
    .valid("blob error", "!21\r\nSYNTAX invalid syntax\r\n", .blobError(Array("SYNTAX invalid syntax".utf8))),
    .valid(
        "verbatim text",
        "=15\r\ntxt:Some string\r\n",
        .verbatimString(format: .text, text: Array("Some string".utf8))
    ),
    .valid("empty verbatim markdown", "=4\r\nmkd:\r\n", .verbatimString(format: .markdown, text: [])),
    .valid(
        "big number",
        "(3492890328409238509324850943850943825024385\r\n",
        .bigNumber("3492890328409238509324850943850943825024385")
    ),
    .valid("negative big number", "(-1\r\n", .bigNumber("-1")),
    .valid(
        "map",
        "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
        .map([pair(simple("first"), .integer(1)), pair(simple("second"), .integer(2))])
    ),
    .valid("empty map", "%0\r\n", .map([])),
    .valid("set with duplicates kept", "~3\r\n+a\r\n+b\r\n+a\r\n", .set([simple("a"), simple("b"), simple("a")])),
    .valid(
        "push message",
        ">3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$5\r\nhello\r\n",
        .push([bulk("message"), bulk("chan"), bulk("hello")])
    ),
    .valid(
        "attribute before a reply",
        "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
        .attributed(
            attributes: [
                pair(
                    simple("key-popularity"),
                    .map([pair(bulk("a"), .double(0.1923)), pair(bulk("b"), .double(0.0012))])
                )
            ],
            value: .array([.integer(2_039_123), .integer(9_543_892)])
        )
    ),
    .valid(
        "attribute inside an array does not count as an element",
        "*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\nx\r\n:5\r\n",
        .array([.attributed(attributes: [pair(simple("ttl"), .integer(3600))], value: bulk("x")), .integer(5)])
    ),
    .valid("empty attribute", "|0\r\n+x\r\n", .attributed(attributes: [], value: simple("x"))),
    .valid(
        "depth exactly 32",
        String(repeating: "*1\r\n", count: 31) + "*0\r\n",
        (0..<31).reduce(RESPValue.array([])) { inner, _ in .array([inner]) }
    ),
    .valid("two replies back to back", "+OK\r\n:1\r\n", simple("OK"), .integer(1)),
]

/// Malformed or hostile input, each with the exact error it must produce.
let invalidVectors: [RESPVector] = [
    .invalid("unknown type byte", "?foo\r\n", .unknownType(UInt8(ascii: "?"))),
    .invalid("inline command is not a reply", "PING\r\n", .unknownType(UInt8(ascii: "P"))),
    .invalid("huge declared bulk length", "$9999999999\r\n", .bulkTooLarge(length: 9_999_999_999, limit: 536_870_912)),
    .invalid("bulk one over the limit", "$536870913\r\n", .bulkTooLarge(length: 536_870_913, limit: 536_870_912)),
    .invalid("huge array count", "*2147483648\r\n", .aggregateTooLarge(count: 2_147_483_648, limit: 1 << 24)),
    .invalid("huge map count", "%16777217\r\n", .aggregateTooLarge(count: 16_777_217, limit: 1 << 24)),
    .invalid("bulk length -2", "$-2\r\n", .negativeLength(-2)),
    .invalid("array count -5", "*-5\r\n", .negativeLength(-5)),
    .invalid("map count -1", "%-1\r\n", .negativeLength(-1)),
    .invalid("set count -1", "~-1\r\n", .negativeLength(-1)),
    .invalid("push count -1", ">-1\r\n", .negativeLength(-1)),
    .invalid("blob error length -1", "!-1\r\n", .negativeLength(-1)),
    .invalid("verbatim length -1", "=-1\r\n", .negativeLength(-1)),
    .invalid("empty integer", ":\r\n", .invalidInteger),
    .invalid("sign-only integer", ":-\r\n", .invalidInteger),
    .invalid("plus-only integer", ":+\r\n", .invalidInteger),
    .invalid("integer with a letter", ":12a\r\n", .invalidInteger),
    .invalid("integer with a space", ": 1\r\n", .invalidInteger),
    .invalid("empty bulk length", "$\r\n", .invalidInteger),
    .invalid("integer one over Int64.max", ":9223372036854775808\r\n", .integerOverflow),
    .invalid("integer one under Int64.min", ":-9223372036854775809\r\n", .integerOverflow),
    .invalid("integer of 23 digits", ":99999999999999999999999\r\n", .integerOverflow),
    .invalid("bulk length overflow", "$99999999999999999999\r\n", .integerOverflow),
    .invalid("bulk missing its CRLF", "$3\r\nfooXY", .missingCRLFAfterPayload),
    .invalid("bulk with CR but no LF", "$3\r\nfoo\rX", .missingCRLFAfterPayload),
    .invalid("bulk payload longer than declared", "$2\r\nfoo\r\n", .missingCRLFAfterPayload),
    .invalid("blob error missing CRLF", "!3\r\nerrXX", .missingCRLFAfterPayload),
    .invalid("boolean x", "#x\r\n", .invalidBoolean),
    .invalid("empty boolean", "#\r\n", .invalidBoolean),
    .invalid("boolean tt", "#tt\r\n", .invalidBoolean),
    .invalid("double without fraction digits", ",1.\r\n", .invalidDouble),
    .invalid("double word", ",abc\r\n", .invalidDouble),
    .invalid("hexadecimal double", ",0x10\r\n", .invalidDouble),
    .invalid("double spelled infinity", ",infinity\r\n", .invalidDouble),
    .invalid("empty double", ",\r\n", .invalidDouble),
    .invalid("double with empty exponent", ",1e\r\n", .invalidDouble),
    .invalid("double without integral digits", ",.5\r\n", .invalidDouble),
    .invalid("signed nan", ",-nan\r\n", .invalidDouble),
    .invalid("big number with a letter", "(12a\r\n", .invalidBigNumber),
    .invalid("empty big number", "(\r\n", .invalidBigNumber),
    .invalid("sign-only big number", "(-\r\n", .invalidBigNumber),
    .invalid("null with payload", "_x\r\n", .invalidNull),
    .invalid("verbatim shorter than its format", "=3\r\ntxt\r\n", .invalidVerbatimString),
    .invalid("verbatim without colon", "=5\r\ntxt-x\r\n", .invalidVerbatimString),
    .invalid("CR without LF in a simple string", "+OK\rX\r\n", .invalidLineEnding),
    .invalid("bare LF in a simple string", "+O\nK\r\n", .invalidLineEnding),
    .invalid("LF-only line ending", "+OK\n", .invalidLineEnding),
    .invalid("CR without LF after an integer", ":1\rX", .invalidLineEnding),
    .invalid("LF-only after an integer", ":1\n", .invalidLineEnding),
    .invalid(
        "depth 33",
        String(repeating: "*1\r\n", count: 33) + ":1\r\n",
        .depthExceeded(limit: 32)
    ),
    .invalid("bad element inside an array", "*2\r\n:1\r\n?\r\n", .unknownType(UInt8(ascii: "?"))),
    .invalid("error after a good reply", "+OK\r\n$-3\r\n", .negativeLength(-3), after: simple("OK")),
    .invalid(
        "attribute chain deeper than 32",
        String(repeating: "|0\r\n", count: 33) + "+x\r\n",
        .depthExceeded(limit: 32)
    ),
]

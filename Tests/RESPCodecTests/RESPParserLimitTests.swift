import RESPCodec
import Testing

/// The attack classes of issue #4: hostile lengths, nesting and endless lines fail early and exactly.
@Suite("RESP parser limits")
struct RESPParserLimitTests {
    @Test("depth 10 000 fails with depthExceeded, whole and byte by byte, without a stack overflow")
    func depthTenThousand() {
        let bytes = Array(String(repeating: "*1\r\n", count: 10_000).utf8)
        let expected = ParseOutcome(error: .depthExceeded(limit: 32))
        #expect(parseWhole(bytes) == expected)
        #expect(parseByteByByte(bytes) == expected)
    }

    @Test("a configured depth limit is honoured exactly")
    func configuredDepth() {
        let limits = RESPLimits(maxDepth: 2)
        #expect(
            parseWhole(Array("*1\r\n*1\r\n:1\r\n".utf8), limits: limits).values == [.array([.array([.integer(1)])])]
        )
        #expect(parseWhole(Array("*1\r\n*1\r\n*0\r\n".utf8), limits: limits).error == .depthExceeded(limit: 2))
    }

    @Test("a huge declared bulk length fails on its header alone, before any payload is awaited")
    func hugeBulkFailsOnHeader() {
        var parser = RESPParser()
        parser.feed(Array("$9999999999\r\n".utf8))
        #expect(throws: RESPError.bulkTooLarge(length: 9_999_999_999, limit: 536_870_912)) { try parser.next() }
    }

    @Test("a huge declared array count fails on its header alone")
    func hugeCountFailsOnHeader() {
        var parser = RESPParser()
        parser.feed(Array("*2147483648\r\n".utf8))
        #expect(throws: RESPError.aggregateTooLarge(count: 2_147_483_648, limit: 1 << 24)) { try parser.next() }
    }

    @Test("configured bulk and count limits are honoured exactly")
    func configuredBulkAndCount() {
        let limits = RESPLimits(maxBulkLength: 3, maxAggregateCount: 2)
        #expect(parseWhole(Array("$3\r\nabc\r\n".utf8), limits: limits).values == [bulk("abc")])
        #expect(parseWhole(Array("$4\r\nabcd\r\n".utf8), limits: limits).error == .bulkTooLarge(length: 4, limit: 3))
        #expect(parseWhole(Array("!4\r\nabcd\r\n".utf8), limits: limits).error == .bulkTooLarge(length: 4, limit: 3))
        #expect(parseWhole(Array("*3\r\n".utf8), limits: limits).error == .aggregateTooLarge(count: 3, limit: 2))
        #expect(parseWhole(Array("%3\r\n".utf8), limits: limits).error == .aggregateTooLarge(count: 3, limit: 2))
    }

    @Test(
        "an endless line fails once it passes the line limit, and not before",
        arguments: ["+", "-", ",", "(", "#", "_"]
    )
    func endlessLine(type: String) {
        let limit = 1024
        let limits = RESPLimits(maxLineLength: limit)
        let atLimit = Array(type.utf8) + [UInt8](repeating: UInt8(ascii: "1"), count: limit)
        // Exactly at the limit the line may still end: more data is needed, no error yet.
        #expect(parse(atLimit, inPiecesOf: 100, limits: limits) == ParseOutcome(leftover: limit + 1))
        #expect(parse(atLimit + [1], inPiecesOf: 100, limits: limits).error == .lineTooLong(limit: limit))
    }

    @Test("an endless line of zeros after an integer or a length type fails", arguments: [":", "$", "*", "%", "!"])
    func endlessZeros(type: String) {
        let bytes = Array(type.utf8) + [UInt8](repeating: UInt8(ascii: "0"), count: 70_000)
        #expect(parse(bytes, inPiecesOf: 4096).error == .lineTooLong(limit: 65_536))
        // Byte by byte, each feed resumes the digits where the last one stopped: rescanning them
        // from the line's start took about 1.5 s for 60 000 zeros in a release build.
        #expect(parseByteByByte(bytes).error == .lineTooLong(limit: 65_536))
    }

    @Test("zero-padded integers and lengths parse the same whole, in pieces and byte by byte")
    func zeroPaddedNumbers() {
        let zeros = String(repeating: "0", count: 5_000)
        let cases: [(String, RESPValue)] = [
            (":\(zeros)42\r\n", .integer(42)),
            (":-\(zeros)7\r\n", .integer(-7)),
            (":+\(zeros)9223372036854775807\r\n", .integer(Int64.max)),
            ("$\(zeros)3\r\nabc\r\n", .bulkString(Array("abc".utf8))),
            ("*\(zeros)1\r\n:\(zeros)5\r\n", .array([.integer(5)])),
        ]
        for (text, value) in cases {
            let bytes = Array(text.utf8)
            for outcome in [parseWhole(bytes), parse(bytes, inPiecesOf: 7), parseByteByByte(bytes)] {
                #expect(outcome.values == [value] && outcome.error == nil)
            }
        }
    }

    /// Found by the fuzzer: leading zeros past the line limit, then more significant digits than an
    /// Int64 holds. Fed whole, the scan used to reach the overflow first; fed in pieces, the line
    /// limit. The error must depend only on the bytes.
    @Test("a too-long count that also overflows fails the same way however it is fed")
    func longOverflowingCountFailsTheSameWayAnyhow() {
        let bytes =
            Array("%".utf8) + [UInt8](repeating: UInt8(ascii: "0"), count: 300) + Array("4".utf8)
            + [UInt8](repeating: UInt8(ascii: "0"), count: 160) + Array("-".utf8)
        let small = RESPLimits(maxLineLength: 256)
        for outcome in [parseWhole(bytes, limits: small), parse(bytes, inPiecesOf: 7, limits: small)] {
            #expect(outcome.error == .lineTooLong(limit: 256))
        }
        for outcome in [parseWhole(bytes), parse(bytes, inPiecesOf: 7), parseByteByByte(bytes)] {
            #expect(outcome.error == .integerOverflow)
        }
    }

    @Test("the default line limit is 64 KiB: a 64 KiB simple string parses, one byte more fails")
    func defaultLineLimit() {
        let payload = [UInt8](repeating: UInt8(ascii: "a"), count: 65_536)
        #expect(parseWhole([UInt8(ascii: "+")] + payload + [13, 10]).values == [.simpleString(payload)])
        #expect(
            parseWhole([UInt8(ascii: "+")] + payload + [UInt8(ascii: "a"), 13, 10]).error == .lineTooLong(limit: 65_536)
        )
    }

    @Test("an endless line fed one byte at a time is searched once, not once per byte")
    func endlessLineByteByByteIsLinear() {
        // 64 KiB fed byte by byte: quadratic rescanning would take ~2 billion steps; linear is instant.
        let bytes = [UInt8(ascii: "+")] + [UInt8](repeating: UInt8(ascii: "a"), count: 65_537)
        #expect(parseByteByByte(bytes).error == .lineTooLong(limit: 65_536))
    }

    @Test("after an error the parser is poisoned: later calls throw the same error")
    func poisoned() throws {
        var parser = RESPParser()
        parser.feed(Array("$-2\r\n".utf8))
        #expect(throws: RESPError.negativeLength(-2)) { try parser.next() }
        parser.feed(Array("+OK\r\n".utf8))
        #expect(throws: RESPError.negativeLength(-2)) { try parser.next() }
    }

    @Test("a partial aggregate keeps its finished elements: they are consumed, not re-parsed")
    func partialAggregateResumes() throws {
        var parser = RESPParser()
        parser.feed(Array("*3\r\n$3\r\nfoo\r\n:4".utf8))
        #expect(try parser.next() == nil)
        // Header and first element are consumed; only the incomplete `:4` is still buffered.
        #expect(parser.bufferedByteCount == 2)
        parser.feed(Array("2\r\n_\r\n".utf8))
        #expect(try parser.next() == .array([bulk("foo"), .integer(42), .null]))
        #expect(parser.bufferedByteCount == 0)
        #expect(try parser.next() == nil)
    }

    @Test("a 1 MiB bulk string fed in 16 KiB slices arrives whole and owned")
    func largeBulkInSlices() {
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let bytes = Array("$1048576\r\n".utf8) + payload + [13, 10]
        #expect(parse(bytes, inPiecesOf: 16_384).values == [.bulkString(payload)])
    }

    @Test("a declared count larger than what arrives just waits; memory follows the bytes, not the claim")
    func largeClaimWaits() {
        let bytes = Array("*16777216\r\n:1\r\n:2\r\n".utf8)
        #expect(parseWhole(bytes) == ParseOutcome(leftover: 0))
    }
}

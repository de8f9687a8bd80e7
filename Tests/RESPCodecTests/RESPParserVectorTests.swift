import RESPCodec
import Testing

/// The vector tables, each run whole, byte by byte, split at every point, and all concatenated.
@Suite("RESP parser vectors")
struct RESPParserVectorTests {
    @Test("valid vector parsed whole", arguments: validVectors)
    func validWhole(_ vector: RESPVector) {
        #expect(parseWhole(vector.bytes) == expectedOutcome(vector))
    }

    @Test("valid vector fed byte by byte", arguments: validVectors)
    func validByteByByte(_ vector: RESPVector) {
        #expect(parseByteByByte(vector.bytes) == expectedOutcome(vector))
    }

    @Test("valid vector split in two at every point", arguments: validVectors)
    func validEverySplit(_ vector: RESPVector) {
        for split in 0...vector.bytes.count {
            let outcome = parse(chunks: [vector.bytes[..<split], vector.bytes[split...]])
            #expect(outcome == expectedOutcome(vector), "split at \(split)")
        }
    }

    @Test("invalid vector parsed whole", arguments: invalidVectors)
    func invalidWhole(_ vector: RESPVector) {
        #expect(parseWhole(vector.bytes) == expectedOutcome(vector))
    }

    @Test("invalid vector fed byte by byte", arguments: invalidVectors)
    func invalidByteByByte(_ vector: RESPVector) {
        #expect(parseByteByByte(vector.bytes) == expectedOutcome(vector))
    }

    @Test("invalid vector split in two at every point", arguments: invalidVectors)
    func invalidEverySplit(_ vector: RESPVector) {
        for split in 0...vector.bytes.count {
            let outcome = parse(chunks: [vector.bytes[..<split], vector.bytes[split...]])
            #expect(outcome == expectedOutcome(vector), "split at \(split)")
        }
    }

    @Test("all valid vectors concatenated, in pieces of several sizes", arguments: [1, 2, 3, 7, 16, 1000, 1 << 20])
    func concatenated(pieceSize: Int) {
        let bytes = validVectors.flatMap(\.bytes)
        let expected = ParseOutcome(values: validVectors.flatMap(\.values))
        #expect(parse(bytes, inPiecesOf: pieceSize) == expected)
    }

    @Test("each invalid vector after all valid ones still yields the valid values, then its error")
    func invalidAfterValid() {
        let prefix = validVectors.flatMap(\.bytes)
        let prefixValues = validVectors.flatMap(\.values)
        for vector in invalidVectors {
            let expected = ParseOutcome(values: prefixValues + vector.values, error: vector.error)
            #expect(parse(prefix + vector.bytes, inPiecesOf: 5) == expected, "\(vector.name)")
        }
    }

    @Test("canonical vectors round-trip: encode(parse(x)) == x", arguments: validVectors.filter(\.canonical))
    func encodeParseRoundTrip(_ vector: RESPVector) {
        let outcome = parseWhole(vector.bytes)
        #expect(outcome.values.flatMap { RESPEncoder.encode($0) } == vector.bytes)
    }
}

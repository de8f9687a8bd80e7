import Testing
import WebSocketCodec

@Suite("WebSocket parser vectors")
struct WebSocketParserVectorTests {
    @Test("whole", arguments: webSocketVectors)
    func whole(_ vector: WebSocketVector) {
        let outcome = parse([vector.bytes], role: vector.role, limits: vector.limits)
        #expect(outcome == ParseOutcome(events: vector.events, error: vector.error))
    }

    @Test("byte by byte", arguments: webSocketVectors.filter { $0.bytes.count < 70_000 })
    func byteByByteFeeding(_ vector: WebSocketVector) {
        let outcome = parse(byteByByte(vector.bytes), role: vector.role, limits: vector.limits)
        #expect(outcome == ParseOutcome(events: vector.events, error: vector.error))
    }

    @Test("split at every point of a short vector", arguments: webSocketVectors.filter { $0.bytes.count < 300 })
    func everySplit(_ vector: WebSocketVector) {
        for split in 0...vector.bytes.count {
            let chunks = [Array(vector.bytes[..<split]), Array(vector.bytes[split...])]
            let outcome = parse(chunks, role: vector.role, limits: vector.limits)
            #expect(outcome == ParseOutcome(events: vector.events, error: vector.error), "split at \(split)")
        }
    }

    @Test("concatenated: every clean server vector in one stream, whole and in 7-byte pieces")
    func concatenated() {
        let clean = webSocketVectors.filter {
            $0.error == nil && $0.role == .server && $0.limits == WebSocketLimits(maxMessageSize: 1 << 20)
                && !$0.events.contains { if case .close = $0 { true } else { false } }
        }
        let stream = clean.flatMap(\.bytes)
        let expected = ParseOutcome(events: clean.flatMap(\.events))
        #expect(parse([stream], limits: WebSocketLimits(maxMessageSize: 1 << 20)) == expected)
        let pieces = stride(from: 0, to: stream.count, by: 7).map { Array(stream[$0..<min($0 + 7, stream.count)]) }
        #expect(parse(pieces, limits: WebSocketLimits(maxMessageSize: 1 << 20)) == expected)
    }

    @Test("an error poisons the parser: the same error again, and nothing after it")
    func poisoned() throws {
        var parser = WebSocketParser(role: .server)
        parser.feed(rawFrame(3, []) + rawFrame(1, text("after")))
        #expect(throws: WebSocketError.reservedOpcode(3)) { try parser.next() }
        #expect(throws: WebSocketError.reservedOpcode(3)) { try parser.next() }
    }

    @Test("invalid UTF-8 fails at the first bad byte, before the rest of the frame arrives (6.4)")
    func utf8FailsFast() {
        let payload = Array("κόσμε".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(repeating: 0x61, count: 10_000)
        let frame = rawFrame(1, payload)
        let header = 2 + 2 + 4
        let upToBadByte = Array(frame[..<(header + 11 + 2)])
        let outcome = parse([upToBadByte])
        #expect(outcome.error == .invalidUTF8)
        #expect(WebSocketError.invalidUTF8.closeCode == .invalidPayloadData)
    }

    @Test("a 1 GiB declared length fails from its 14 header bytes, with 1009")
    func hugeLengthFailsOnHeader() {
        let header = Array(rawFrame(2, [], declaredLength: 1 << 30))
        #expect(header.count == 14)
        let outcome = parse([header])
        #expect(outcome.error == .frameTooLarge(length: 1 << 30, limit: 4 << 20))
        #expect(outcome.error?.closeCode == .messageTooBig)
    }

    @Test("close codes map to 1002, 1007 and 1009")
    func closeCodes() {
        #expect(WebSocketError.reservedBits.closeCode == .protocolError)
        #expect(WebSocketError.messageTooLarge(limit: 1).closeCode == .messageTooBig)
        #expect(WebSocketError.invalidCompressedData.closeCode == .invalidPayloadData)
    }
}

@Suite("UTF-8 validator")
struct UTF8ValidatorTests {
    @Test("agrees with the standard library on random and edge bytes, in any split")
    func agreesWithStandardLibrary() {
        var generator = WebSocketMaskGenerator(seed: 42)
        let alphabet: [UInt8] = [
            0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xA0, 0xED, 0x9F, 0xEF, 0xF0, 0x90, 0xF4, 0x8F, 0xF5, 0xFF,
        ]
        for _ in 0..<20_000 {
            let count = Int(generator.next() % 9)
            let bytes = (0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            var whole = UTF8Validator()
            #expect((whole.validate(bytes) && whole.isComplete) == expected, "\(bytes)")
            var pieces = UTF8Validator()
            var valid = true
            for byte in bytes where valid { valid = pieces.validate([byte]) }
            #expect((valid && pieces.isComplete) == expected, "\(bytes) byte by byte")
        }
    }
}

import Testing
import WebSocketCodec

@Suite("WebSocket encoder")
struct WebSocketEncoderTests {
    @Test("a server's frames are unmasked and match the RFC's examples")
    func serverFrames() throws {
        var encoder = WebSocketEncoder(role: .server)
        #expect(encoder.text("Hello") == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(try encoder.ping(text("Hello")) == [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(encoder.binary(Array(repeating: 0, count: 256)).prefix(4) == [0x82, 0x7E, 0x01, 0x00])
        #expect(encoder.binary(Array(repeating: 0, count: 65536)).prefix(10) == [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
        #expect(try encoder.close(code: .normalClosure, reason: "bye") == [0x88, 0x05, 0x03, 0xE8] + text("bye"))
        #expect(try encoder.close(code: nil) == [0x88, 0x00])
    }

    @Test("frames written into a reused buffer are the frames, and the bytes past them are left alone")
    func intoReusedBuffer() {
        for role in [WebSocketRole.server, .client] {
            var plain = WebSocketEncoder(role: role, masks: WebSocketMaskGenerator(seed: 7))
            var reusing = WebSocketEncoder(role: role, masks: WebSocketMaskGenerator(seed: 7))
            var buffer: [UInt8] = []
            for length in [64, 3, 300, 70_000, 5] {
                let text = String(repeating: "é", count: length / 2) + String(repeating: "a", count: length % 2)
                let expected = plain.text(text)
                let before = buffer
                let written = reusing.text(text, into: &buffer)
                #expect(Array(buffer[..<written]) == expected)
                if before.count >= written { #expect(buffer[written...] == before[written...]) }
                let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
                let binary = plain.binary(bytes)
                let binaryWritten = reusing.binary(bytes, into: &buffer)
                #expect(Array(buffer[..<binaryWritten]) == binary)
            }
        }
    }

    @Test("control payloads over 125 bytes and unsendable codes are refused")
    func refusals() {
        var encoder = WebSocketEncoder(role: .server)
        #expect(throws: WebSocketError.controlPayloadTooLong(length: 126)) {
            try encoder.ping(Array(repeating: 0, count: 126))
        }
        #expect(throws: WebSocketError.controlPayloadTooLong(length: 126)) {
            try encoder.close(code: .normalClosure, reason: String(repeating: "x", count: 124))
        }
        #expect(throws: WebSocketError.unsendableCloseCode(1005)) { try encoder.close(code: .noStatusReceived) }
    }

    @Test(
        "a client masks every frame with a fresh key; a server's parser reads them",
        arguments: [0, 1, 7, 8, 9, 125, 126, 65535, 65536, 200_001]
    )
    func clientRoundTrip(_ length: Int) throws {
        var encoder = WebSocketEncoder(role: .client, masks: WebSocketMaskGenerator(seed: UInt64(length)))
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let first = encoder.binary(payload)
        let second = encoder.binary(payload)
        #expect(first[1] & 0x80 != 0)
        if length > 0 { #expect(first != second) }
        let outcome = parse(
            [first, second, try encoder.ping([1]), encoder.text("tail")],
            limits: WebSocketLimits(maxMessageSize: 1 << 20)
        )
        #expect(outcome == ParseOutcome(events: [.binary(payload), .binary(payload), .ping([1]), .text("tail")]))
    }

    @Test("a server's frames parse on the client side, split byte by byte")
    func serverToClient() throws {
        var encoder = WebSocketEncoder(role: .server)
        let bytes =
            encoder.text("héllo wörld") + encoder.frame(.text, payload: text("a"), fin: false)
            + encoder.frame(.continuation, payload: text("b"))
            + (try encoder.close(code: .goingAway, reason: "bye"))
        let outcome = parse(byteByByte(bytes), role: .client)
        #expect(
            outcome == ParseOutcome(events: [.text("héllo wörld"), .text("ab"), .close(.goingAway, reason: "bye")])
        )
    }
}

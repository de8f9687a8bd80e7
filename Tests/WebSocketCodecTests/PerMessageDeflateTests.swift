import Testing
import WebSocketCodec

/// Category 12/13 of the Autobahn testsuite: messages through permessage-deflate.
@Suite("permessage-deflate")
struct PerMessageDeflateTests {
    static let configurations: [PerMessageDeflateParameters] = {
        var result: [PerMessageDeflateParameters] = []
        for bits in [9, 12, 15] {
            for noTakeover in [false, true] {
                var parameters = PerMessageDeflateParameters()
                parameters.serverMaxWindowBits = bits
                parameters.clientMaxWindowBits = bits
                parameters.serverNoContextTakeover = noTakeover
                parameters.clientNoContextTakeover = noTakeover
                result.append(parameters)
            }
        }
        return result
    }()

    @Test("messages round-trip both ways, sharing or resetting context", arguments: configurations)
    func roundTrip(_ parameters: PerMessageDeflateParameters) throws {
        var client = WebSocketEncoder(role: .client, deflate: parameters)
        var server = WebSocketEncoder(role: .server, deflate: parameters)
        let messages = ["", "Hello", String(repeating: "compress me ", count: 5000), "Hello", "κόσμε €"]
        var toServer: [UInt8] = []
        var toClient: [UInt8] = []
        for message in messages {
            toServer += client.text(message)
            toClient += server.text(message)
        }
        let binary = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }
        toServer += client.binary(binary)
        toServer += try client.ping(text("not compressed"))
        let expected = messages.map { WebSocketEvent.text($0) }
        #expect(toServer[0] & 0x40 != 0, "RSV1 marks a compressed message")
        #expect(
            parse([toServer], role: .server, deflate: parameters)
                == ParseOutcome(events: expected + [.binary(binary), .ping(text("not compressed"))])
        )
        #expect(parse(byteByByte(toClient), role: .client, deflate: parameters) == ParseOutcome(events: expected))
    }

    @Test("a small message that inflates past the limit fails with 1009")
    func decompressionBomb() {
        let parameters = PerMessageDeflateParameters()
        var client = WebSocketEncoder(role: .client, deflate: parameters)
        let bomb = client.binary(Array(repeating: 0, count: 2 << 20))
        #expect(bomb.count < 4096)
        let outcome = parse(
            [bomb],
            role: .server,
            limits: WebSocketLimits(maxMessageSize: 1 << 20),
            deflate: parameters
        )
        #expect(outcome.error == .messageTooLarge(limit: 1 << 20))
    }

    @Test("garbage with RSV1 fails with 1007; RSV1 without negotiation is a protocol error")
    func badCompressedData() {
        let garbage = rawFrame(2, [0xFF, 0xFF, 0xFF, 0xFF, 0x00], rsv: 4)
        #expect(parse([garbage], deflate: PerMessageDeflateParameters()).error == .invalidCompressedData)
        #expect(parse([garbage]).error == .reservedBits)
        let continuationWithRSV1 = rawFrame(1, [], fin: false, rsv: 4) + rawFrame(0, [], rsv: 4)
        #expect(parse([continuationWithRSV1], deflate: PerMessageDeflateParameters()).error == .reservedBits)
    }

    @Test("compressed text that is not UTF-8 fails with 1007")
    func compressedInvalidText() {
        var parameters = PerMessageDeflateParameters()
        parameters.clientNoContextTakeover = true
        var client = WebSocketEncoder(role: .client, deflate: parameters)
        var frame = client.binary([0x41, 0xFF, 0x42])
        frame[0] = (frame[0] & 0xF0) | 0x1  // the same compressed payload, now claimed to be text
        #expect(parse([frame], deflate: parameters).error == .invalidUTF8)
    }

    // MARK: - Negotiation

    @Test("a server accepts the browser's offer and answers with its own limits")
    func serverNegotiation() {
        let options = PerMessageDeflateOptions(
            serverMaxWindowBits: 12,
            clientMaxWindowBits: 10,
            serverNoContextTakeover: true
        )
        let agreed = options.negotiate(offers: ["permessage-deflate; client_max_window_bits"])
        #expect(agreed?.serverMaxWindowBits == 12)
        #expect(agreed?.clientMaxWindowBits == 10)
        #expect(agreed?.serverNoContextTakeover == true)
        #expect(
            agreed?.responseHeaderValue
                == "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10"
        )
    }

    @Test(
        "a server declines bad offers and falls through to the next",
        arguments: [
            ("permessage-deflate; server_max_window_bits=8", nil),
            ("permessage-deflate; server_max_window_bits=16", nil),
            ("permessage-deflate; server_max_window_bits", nil),
            ("permessage-deflate; unknown=1", nil),
            ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", nil),
            ("x-webkit-deflate-frame", nil),
            ("permessage-deflate; foo, permessage-deflate; server_max_window_bits=\"10\"", 10),
            ("permessage-deflate", 15),
        ] as [(String, Int?)]
    )
    func serverDeclines(_ offer: String, _ expectedBits: Int?) {
        let agreed = PerMessageDeflateOptions().negotiate(offers: [offer])
        #expect(agreed?.serverMaxWindowBits == expectedBits)
        if agreed != nil {
            #expect(agreed?.clientMaxWindowBits == 15, "the client did not offer client_max_window_bits")
        }
    }

    @Test("a client validates the server's answer")
    func clientNegotiation() throws {
        let options = PerMessageDeflateOptions(clientNoContextTakeover: true)
        #expect(options.offerHeaderValue == "permessage-deflate; client_no_context_takeover; client_max_window_bits")
        let agreed = try options.validateResponse([
            "permessage-deflate; server_max_window_bits=11; client_max_window_bits=9"
        ])
        #expect(agreed?.serverMaxWindowBits == 11)
        #expect(agreed?.clientMaxWindowBits == 9)
        #expect(agreed?.clientNoContextTakeover == true)
        #expect(try options.validateResponse([]) == nil)
        #expect(throws: WebSocketHandshakeError.self) { try options.validateResponse(["permessage-deflate; foo"]) }
        #expect(throws: WebSocketHandshakeError.self) { try options.validateResponse(["x-other"]) }
        #expect(throws: WebSocketHandshakeError.self) {
            try PerMessageDeflateOptions(serverMaxWindowBits: 10).validateResponse([
                "permessage-deflate; server_max_window_bits=12"
            ])
        }
    }
}

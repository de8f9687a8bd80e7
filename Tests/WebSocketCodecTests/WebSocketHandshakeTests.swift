import HTTPTypes
import Testing
import WebSocketCodec

@Suite("WebSocket opening handshake")
struct WebSocketHandshakeTests {
    static let sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

    static let goodRequest: HTTPFields = [
        .upgrade: "websocket", .connection: "keep-alive, Upgrade",
        .secWebSocketKey: sampleKey, .secWebSocketVersion: "13", .origin: "http://example.com",
        .secWebSocketProtocol: "chat, superchat", .secWebSocketExtensions: "permessage-deflate",
    ]

    @Test("Sec-WebSocket-Accept: RFC 6455 §1.3's example and other known pairs")
    func acceptValues() {
        #expect(WebSocketHandshake.acceptValue(forKey: Self.sampleKey) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        // From Python: base64.b64encode(hashlib.sha1((k + GUID).encode()).digest())
        #expect(WebSocketHandshake.acceptValue(forKey: "x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=")
        #expect(WebSocketHandshake.acceptValue(forKey: "") == "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w=")
    }

    @Test("a valid upgrade request is accepted, with its subprotocols and offers")
    func validRequest() throws {
        let request = try WebSocketHandshake.validateUpgradeRequest(method: .get, headerFields: Self.goodRequest)
        #expect(request.key == Self.sampleKey)
        #expect(request.subprotocols == ["chat", "superchat"])
        #expect(request.extensionOffers == ["permessage-deflate"])
        #expect(request.origin == "http://example.com")
        let subprotocol = WebSocketHandshake.selectSubprotocol(
            offered: request.subprotocols,
            supported: ["superchat", "chat"]
        )
        #expect(subprotocol == "superchat")
        let fields = WebSocketHandshake.responseFields(for: request, subprotocol: subprotocol)
        #expect(fields[.secWebSocketAccept] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(fields[.upgrade] == "websocket")
        #expect(fields[.secWebSocketProtocol] == "superchat")
        #expect(fields[.secWebSocketExtensions] == nil)
    }

    @Test(
        "bad upgrade requests are refused with 400 or 426",
        arguments: [
            (.upgrade, nil, WebSocketHandshakeError.missingUpgrade, 426),
            (.upgrade, "h2c", .missingUpgrade, 426),
            (.connection, "keep-alive", .missingConnectionUpgrade, 400),
            (.secWebSocketVersion, "8", .unsupportedVersion, 426),
            (.secWebSocketVersion, nil, .unsupportedVersion, 426),
            (.secWebSocketKey, nil, .invalidKey, 400),
            (.secWebSocketKey, "dGhlIHNhbXBsZSBub25jZQ", .invalidKey, 400),
            (.secWebSocketKey, "c2hvcnQ=", .invalidKey, 400),
        ] as [(HTTPField.Name, String?, WebSocketHandshakeError, Int)]
    )
    func badRequests(_ name: HTTPField.Name, _ value: String?, _ error: WebSocketHandshakeError, _ status: Int) {
        var fields = Self.goodRequest
        fields[name] = value
        #expect(throws: error) { try WebSocketHandshake.validateUpgradeRequest(method: .get, headerFields: fields) }
        #expect(error.status.code == status)
    }

    @Test("a POST is not an upgrade; tokens are case-insensitive")
    func methodAndCase() throws {
        #expect(throws: WebSocketHandshakeError.methodNotGet) {
            try WebSocketHandshake.validateUpgradeRequest(method: .post, headerFields: Self.goodRequest)
        }
        var fields = Self.goodRequest
        fields[.upgrade] = "WebSocket"
        fields[.connection] = "UPGRADE"
        _ = try WebSocketHandshake.validateUpgradeRequest(method: .get, headerFields: fields)
    }

    @Test("the client's side: build a request, validate the answer")
    func clientSide() throws {
        var generator = WebSocketMaskGenerator(seed: 7)
        let key = WebSocketHandshake.makeKey(using: &generator)
        let requestFields = WebSocketHandshake.requestFields(
            key: key,
            subprotocols: ["chat"],
            deflate: PerMessageDeflateOptions()
        )
        var withHost = requestFields
        withHost[HTTPField.Name("Host")!] = "localhost"
        let request = try WebSocketHandshake.validateUpgradeRequest(method: .get, headerFields: withHost)
        let agreed = PerMessageDeflateOptions().negotiate(offers: request.extensionOffers)
        let response = WebSocketHandshake.responseFields(for: request, subprotocol: "chat", deflate: agreed)
        let result = try WebSocketHandshake.validateResponse(
            status: 101,
            headerFields: response,
            key: key,
            subprotocols: ["chat"],
            deflate: PerMessageDeflateOptions()
        )
        #expect(result.subprotocol == "chat")
        #expect(result.deflate == agreed)

        #expect(throws: WebSocketHandshakeError.unexpectedStatus(200)) {
            try WebSocketHandshake.validateResponse(
                status: 200,
                headerFields: response,
                key: key,
                subprotocols: ["chat"]
            )
        }
        #expect(throws: WebSocketHandshakeError.invalidAccept) {
            try WebSocketHandshake.validateResponse(
                status: 101,
                headerFields: response,
                key: Self.sampleKey,
                subprotocols: ["chat"]
            )
        }
        #expect(throws: WebSocketHandshakeError.unexpectedSubprotocol("chat")) {
            try WebSocketHandshake.validateResponse(
                status: 101,
                headerFields: response,
                key: key,
                deflate: PerMessageDeflateOptions()
            )
        }
        #expect(throws: WebSocketHandshakeError.self) {
            try WebSocketHandshake.validateResponse(
                status: 101,
                headerFields: response,
                key: key,
                subprotocols: ["chat"]
            )
        }
    }
}

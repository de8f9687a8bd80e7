import HTTPTypes

/// Why an opening handshake failed, on either side.
public enum WebSocketHandshakeError: Error, Hashable, Sendable {
    /// The upgrade request's method is not GET.
    case methodNotGet
    /// The request's `Upgrade` header has no `websocket` token.
    case missingUpgrade
    /// The request's `Connection` header has no `upgrade` token.
    case missingConnectionUpgrade
    /// `Sec-WebSocket-Version` is missing or is not 13; the server answers 426 and lists 13.
    case unsupportedVersion
    /// `Sec-WebSocket-Key` is missing, repeated, or not 16 bytes in base64.
    case invalidKey
    /// The request's `Origin` is not one the server allows.
    case originNotAllowed(String?)
    /// The server answered with a status other than 101.
    case unexpectedStatus(Int)
    /// The server's response lacks `Upgrade: websocket` or `Connection: upgrade`.
    case notUpgraded
    /// The server's `Sec-WebSocket-Accept` does not match the key sent.
    case invalidAccept
    /// The server chose a subprotocol the client did not offer.
    case unexpectedSubprotocol(String)
    /// The server answered with extensions the client did not offer or cannot parse.
    case invalidExtensions(String)

    /// The HTTP status a server answers a failed upgrade request with: 426 when the client must
    /// speak WebSocket (version 13) to this resource, 403 for a refused origin, 400 otherwise.
    public var status: HTTPResponse.Status {
        switch self {
        case .missingUpgrade, .unsupportedVersion: .upgradeRequired
        case .originNotAllowed: .forbidden
        default: .badRequest
        }
    }
}

/// A validated WebSocket upgrade request: what the server needs to answer it.
public struct WebSocketUpgradeRequest: Sendable, Hashable {
    /// The client's `Sec-WebSocket-Key`.
    public var key: String
    /// The subprotocols the client offered, in its order of preference.
    public var subprotocols: [String]
    /// The raw `Sec-WebSocket-Extensions` values, for ``PerMessageDeflateOptions/negotiate(offers:)``.
    public var extensionOffers: [String]
    /// The `Origin` header, which browsers always send.
    public var origin: String?
}

/// The opening handshake of RFC 6455 §4 as pure functions over swift-http-types values.
public enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + the RFC's GUID)).
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(SHA1.hash(Array((key + guid).utf8)))
    }

    // MARK: - Server side

    /// Checks that a request is a valid WebSocket upgrade (RFC 6455 §4.2.1).
    ///
    /// The HTTP version (1.1 or later) is the HTTP layer's to check. A server answers a thrown
    /// error with its ``WebSocketHandshakeError/status``, and for 426 with
    /// ``upgradeRequiredFields``.
    public static func validateUpgradeRequest(
        method: HTTPRequest.Method,
        headerFields fields: HTTPFields
    ) throws(WebSocketHandshakeError) -> WebSocketUpgradeRequest {
        guard method == .get else { throw .methodNotGet }
        guard tokens(fields[values: .upgrade]).contains("websocket") else { throw .missingUpgrade }
        guard tokens(fields[values: .connection]).contains("upgrade") else { throw .missingConnectionUpgrade }
        guard fields[values: .secWebSocketVersion].map(trimmed) == ["13"] else { throw .unsupportedVersion }
        let keys = fields[values: .secWebSocketKey]
        guard keys.count == 1, let key = keys.first.map(trimmed), Base64.decode(key)?.count == 16 else {
            throw .invalidKey
        }
        return WebSocketUpgradeRequest(
            key: key,
            subprotocols: fields[values: .secWebSocketProtocol].flatMap { list($0) },
            extensionOffers: fields[values: .secWebSocketExtensions],
            origin: fields[.origin]
        )
    }

    /// The fields of a 426 answer: the version this server speaks and the protocol to upgrade to.
    public static var upgradeRequiredFields: HTTPFields {
        [.secWebSocketVersion: "13", .upgrade: "websocket", .connection: "Upgrade"]
    }

    /// The server's first choice among the client's offered subprotocols, or nil (then the
    /// response names none and the client decides whether to go on).
    public static func selectSubprotocol(offered: [String], supported: [String]) -> String? {
        supported.first { offered.contains($0) }
    }

    /// The header fields of the `101 Switching Protocols` response.
    public static func responseFields(
        for request: WebSocketUpgradeRequest,
        subprotocol: String? = nil,
        deflate: PerMessageDeflateParameters? = nil
    ) -> HTTPFields {
        var fields: HTTPFields = [
            .upgrade: "websocket", .connection: "Upgrade", .secWebSocketAccept: acceptValue(forKey: request.key),
        ]
        if let subprotocol { fields[.secWebSocketProtocol] = subprotocol }
        if let deflate { fields[.secWebSocketExtensions] = deflate.responseHeaderValue }
        return fields
    }

    // MARK: - Client side

    /// A fresh `Sec-WebSocket-Key`: 16 random bytes in base64.
    public static func makeKey<Generator: RandomNumberGenerator>(using generator: inout Generator) -> String {
        Base64.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The WebSocket fields of a client's upgrade request (the caller adds `Host`).
    public static func requestFields(
        key: String,
        subprotocols: [String] = [],
        deflate: PerMessageDeflateOptions? = nil,
        origin: String? = nil
    ) -> HTTPFields {
        var fields: HTTPFields = [
            .upgrade: "websocket", .connection: "Upgrade", .secWebSocketKey: key, .secWebSocketVersion: "13",
        ]
        if !subprotocols.isEmpty { fields[.secWebSocketProtocol] = subprotocols.joined(separator: ", ") }
        if let deflate { fields[.secWebSocketExtensions] = deflate.offerHeaderValue }
        if let origin { fields[.origin] = origin }
        return fields
    }

    /// Validates the server's answer to an upgrade request (RFC 6455 §4.1, the client's checks).
    ///
    /// - Returns: the subprotocol the server chose and the permessage-deflate parameters agreed.
    public static func validateResponse(
        status: Int,
        headerFields fields: HTTPFields,
        key: String,
        subprotocols: [String] = [],
        deflate: PerMessageDeflateOptions? = nil
    ) throws(WebSocketHandshakeError) -> (subprotocol: String?, deflate: PerMessageDeflateParameters?) {
        guard status == 101 else { throw .unexpectedStatus(status) }
        guard tokens(fields[values: .upgrade]).contains("websocket"),
            tokens(fields[values: .connection]).contains("upgrade")
        else { throw .notUpgraded }
        guard fields[values: .secWebSocketAccept].map(trimmed) == [acceptValue(forKey: key)] else {
            throw .invalidAccept
        }
        var subprotocol: String?
        let chosen = fields[values: .secWebSocketProtocol].flatMap { list($0) }
        if let first = chosen.first {
            guard chosen.count == 1, subprotocols.contains(first) else {
                throw .unexpectedSubprotocol(chosen.joined(separator: ", "))
            }
            subprotocol = first
        }
        let extensions = fields[values: .secWebSocketExtensions]
        guard let deflate else {
            guard extensions.isEmpty else { throw .invalidExtensions(extensions.joined(separator: ", ")) }
            return (subprotocol, nil)
        }
        return (subprotocol, try deflate.validateResponse(extensions))
    }

    // MARK: - Header lists

    /// The comma-separated elements of header values, trimmed, empty ones dropped.
    static func list(_ value: String) -> [String] {
        value.split(separator: ",").map { trimmed(String($0)) }.filter { !$0.isEmpty }
    }

    /// Lower-cased list elements, for case-insensitive tokens such as `Upgrade` and `Connection`.
    static func tokens(_ values: [String]) -> [String] {
        values.flatMap { list($0) }.map { $0.lowercased() }
    }

    static func trimmed(_ value: String) -> String {
        var text = Substring(value)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}

/// What this endpoint is willing to agree to for permessage-deflate (RFC 7692).
///
/// Compression is off unless you pass options: it costs about 100–300 KiB per connection (zlib's
/// deflate state is ~256 KiB at window bits 15 and memory level 8, its inflate state ~39 KiB), which
/// for a server with many idle connections is far more than the connection itself. Smaller windows
/// and no context takeover cut that cost at some loss of ratio.
///
/// Window bits are 9...15: zlib since 1.2.9 refuses a raw deflate window of 8, so this codec never
/// agrees to 8 (a server declines an offer that demands `server_max_window_bits=8`).
public struct PerMessageDeflateOptions: Sendable, Hashable {
    /// The largest window the server compresses with (and, as a client, the one asked for).
    public var serverMaxWindowBits: Int
    /// The largest window the client compresses with.
    public var clientMaxWindowBits: Int
    /// Whether the server resets its compressor after each message.
    public var serverNoContextTakeover: Bool
    /// Whether the client resets its compressor after each message.
    public var clientNoContextTakeover: Bool

    public init(
        serverMaxWindowBits: Int = 15,
        clientMaxWindowBits: Int = 15,
        serverNoContextTakeover: Bool = false,
        clientNoContextTakeover: Bool = false
    ) {
        self.serverMaxWindowBits = min(max(serverMaxWindowBits, 9), 15)
        self.clientMaxWindowBits = min(max(clientMaxWindowBits, 9), 15)
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
    }

    // MARK: - Server side

    /// Picks the first acceptable permessage-deflate offer from a request's
    /// `Sec-WebSocket-Extensions` values, or nil when there is none (then no extension is used).
    ///
    /// An offer with an unknown or repeated parameter, or a window value outside 8...15, is
    /// declined (RFC 7692 §5.1), and the next offer is tried.
    public func negotiate(offers headerValues: [String]) -> PerMessageDeflateParameters? {
        for offer in WebSocketExtensionList.parse(headerValues) where offer.name == "permessage-deflate" {
            if let agreed = accept(offer.parameters) { return agreed }
        }
        return nil
    }

    private func accept(_ parameters: [(String, String?)]) -> PerMessageDeflateParameters? {
        var agreed = PerMessageDeflateParameters()
        agreed.serverNoContextTakeover = serverNoContextTakeover
        agreed.clientNoContextTakeover = clientNoContextTakeover
        agreed.serverMaxWindowBits = serverMaxWindowBits
        // Without client_max_window_bits in the offer the client may use 15; we must inflate so.
        agreed.clientMaxWindowBits = 15
        var seen: Set<String> = []
        for (name, value) in parameters {
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                guard value == nil else { return nil }
                agreed.serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard value == nil else { return nil }
            case "server_max_window_bits":
                guard let bits = value.flatMap(Self.windowBits) else { return nil }
                guard bits >= 9 else { return nil }
                agreed.serverMaxWindowBits = min(bits, serverMaxWindowBits)
            case "client_max_window_bits":
                if let value {
                    guard let bits = Self.windowBits(value) else { return nil }
                    agreed.clientMaxWindowBits = min(max(bits, 9), clientMaxWindowBits)
                } else {
                    agreed.clientMaxWindowBits = clientMaxWindowBits
                }
            default:
                return nil
            }
        }
        return agreed
    }

    static func windowBits(_ text: String) -> Int? {
        guard let bits = Int(text), (8...15).contains(bits), text.utf8.count <= 2 else { return nil }
        return bits
    }

    // MARK: - Client side

    /// The `Sec-WebSocket-Extensions` value a client sends to offer these options.
    public var offerHeaderValue: String {
        var value = "permessage-deflate"
        if serverNoContextTakeover { value += "; server_no_context_takeover" }
        if clientNoContextTakeover { value += "; client_no_context_takeover" }
        if serverMaxWindowBits < 15 { value += "; server_max_window_bits=\(serverMaxWindowBits)" }
        value +=
            clientMaxWindowBits < 15 ? "; client_max_window_bits=\(clientMaxWindowBits)" : "; client_max_window_bits"
        return value
    }

    /// Validates a server's `Sec-WebSocket-Extensions` answer to ``offerHeaderValue``.
    ///
    /// - Returns: the agreed parameters, or nil when the server declined compression.
    /// - Throws: ``WebSocketHandshakeError/invalidExtensions(_:)`` when the server answered with
    ///   an extension or parameter that was not offered (RFC 6455 §9.1: the client must fail).
    public func validateResponse(
        _ headerValues: [String]
    ) throws(WebSocketHandshakeError) -> PerMessageDeflateParameters? {
        let joined = headerValues.joined(separator: ", ")
        let extensions = WebSocketExtensionList.parse(headerValues)
        guard let only = extensions.first else { return nil }
        guard extensions.count == 1, only.name == "permessage-deflate" else { throw .invalidExtensions(joined) }
        // What the server did not state it may do: compress with a 15-bit window and keep its
        // context. Our own compressor may always use less than it was allowed.
        var agreed = PerMessageDeflateParameters()
        agreed.clientNoContextTakeover = clientNoContextTakeover
        agreed.clientMaxWindowBits = clientMaxWindowBits
        var seen: Set<String> = []
        for (name, value) in only.parameters {
            guard seen.insert(name).inserted else { throw .invalidExtensions(joined) }
            switch name {
            case "server_no_context_takeover" where value == nil: agreed.serverNoContextTakeover = true
            case "client_no_context_takeover" where value == nil: agreed.clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let bits = value.flatMap(Self.windowBits), bits >= 9, bits <= serverMaxWindowBits else {
                    throw .invalidExtensions(joined)
                }
                agreed.serverMaxWindowBits = bits
            case "client_max_window_bits":
                guard let bits = value.flatMap(Self.windowBits), bits >= 9, bits <= clientMaxWindowBits else {
                    throw .invalidExtensions(joined)
                }
                agreed.clientMaxWindowBits = bits
            default: throw .invalidExtensions(joined)
            }
        }
        return agreed
    }
}

/// The permessage-deflate parameters both sides agreed to during the opening handshake.
public struct PerMessageDeflateParameters: Sendable, Hashable {
    public var serverMaxWindowBits = 15
    public var clientMaxWindowBits = 15
    public var serverNoContextTakeover = false
    public var clientNoContextTakeover = false

    public init() {}

    /// The `Sec-WebSocket-Extensions` value a server answers with.
    public var responseHeaderValue: String {
        var value = "permessage-deflate"
        if serverNoContextTakeover { value += "; server_no_context_takeover" }
        if clientNoContextTakeover { value += "; client_no_context_takeover" }
        if serverMaxWindowBits < 15 { value += "; server_max_window_bits=\(serverMaxWindowBits)" }
        if clientMaxWindowBits < 15 { value += "; client_max_window_bits=\(clientMaxWindowBits)" }
        return value
    }
}

/// Parses `Sec-WebSocket-Extensions` values: `name; param[=value], name2` (RFC 6455 §9.1), with
/// quoted values unquoted. Malformed elements are kept with whatever parsed, and rejected by
/// whoever reads them.
enum WebSocketExtensionList {
    struct Element {
        var name: String
        var parameters: [(String, String?)]
    }

    static func parse(_ headerValues: [String]) -> [Element] {
        var elements: [Element] = []
        for headerValue in headerValues {
            for item in headerValue.split(separator: ",") {
                let parts = item.split(separator: ";", omittingEmptySubsequences: false).map(trim)
                guard let name = parts.first, !name.isEmpty else { continue }
                var parameters: [(String, String?)] = []
                for part in parts.dropFirst() {
                    if let equals = part.firstIndex(of: "=") {
                        var value = trim(part[part.index(after: equals)...])
                        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                            value = String(value.dropFirst().dropLast())
                        }
                        parameters.append((trim(part[..<equals]).lowercased(), value))
                    } else {
                        parameters.append((part.lowercased(), nil))
                    }
                }
                elements.append(Element(name: name.lowercased(), parameters: parameters))
            }
        }
        return elements
    }

    private static func trim(_ text: some StringProtocol) -> String { WebSocketHandshake.trimmed(String(text)) }
}

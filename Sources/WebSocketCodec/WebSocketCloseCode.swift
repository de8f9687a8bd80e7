/// A WebSocket close status code (RFC 6455 §7.4).
///
/// Any `UInt16` can be represented, but only ``isAllowedOnWire`` codes may be sent or received in
/// a close frame: 1000–1003, 1007–1014 and the ranges 3000–3999 (registered with IANA) and
/// 4000–4999 (private use). 1005, 1006 and 1015 are reserved for reporting, never for the wire.
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the purpose of the connection is fulfilled.
    public static let normalClosure = Self(rawValue: 1000)
    /// 1001: the endpoint is going away (a server shutting down, a page navigated away).
    public static let goingAway = Self(rawValue: 1001)
    /// 1002: the peer broke the protocol.
    public static let protocolError = Self(rawValue: 1002)
    /// 1003: a message of a type the endpoint cannot accept (say binary to a text-only endpoint).
    public static let unsupportedData = Self(rawValue: 1003)
    /// 1005: reported locally when a close frame carried no status code; never sent.
    public static let noStatusReceived = Self(rawValue: 1005)
    /// 1006: reported locally when the connection ended without a close frame; never sent.
    public static let abnormalClosure = Self(rawValue: 1006)
    /// 1007: a message's data was inconsistent with its type (invalid UTF-8 in a text message).
    public static let invalidPayloadData = Self(rawValue: 1007)
    /// 1008: a message violated the endpoint's policy.
    public static let policyViolation = Self(rawValue: 1008)
    /// 1009: a message was too big to process.
    public static let messageTooBig = Self(rawValue: 1009)
    /// 1010: the client expected an extension the server did not negotiate.
    public static let mandatoryExtension = Self(rawValue: 1010)
    /// 1011: the server met an unexpected condition.
    public static let internalError = Self(rawValue: 1011)
    /// 1012: the service is restarting.
    public static let serviceRestart = Self(rawValue: 1012)
    /// 1013: try again later.
    public static let tryAgainLater = Self(rawValue: 1013)

    /// Whether the code may appear in a close frame.
    public var isAllowedOnWire: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    public var description: String { String(rawValue) }
}

// MARK: - Convenience initializers and accessors

extension RESPValue {
    /// Creates a bulk string holding the UTF-8 bytes of `string`.
    public init(bulkString string: some StringProtocol) {
        self = .bulkString(Array(string.utf8))
    }

    /// Creates a simple string holding the UTF-8 bytes of `string`, which must not contain CR or LF.
    public init(simpleString string: some StringProtocol) {
        self = .simpleString(Array(string.utf8))
    }

    /// Whether this is any of the three nulls: `$-1`, `*-1` or `_`.
    public var isNull: Bool {
        switch self {
        case .null, .nullBulkString, .nullArray: true
        default: false
        }
    }

    /// Whether this is a simple error or a blob error.
    public var isError: Bool {
        switch self {
        case .simpleError, .blobError: true
        default: false
        }
    }

    /// The payload bytes of a string-like value (simple, bulk, verbatim text, errors), else nil.
    public var bytes: [UInt8]? {
        switch self {
        case .simpleString(let bytes), .simpleError(let bytes), .bulkString(let bytes), .blobError(let bytes):
            bytes
        case .verbatimString(_, let text):
            text
        default:
            nil
        }
    }

    /// The payload of a string-like value decoded as UTF-8 (invalid bytes repaired), else nil.
    public var string: String? {
        bytes.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The elements of an array, set or push frame, else nil.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let elements), .set(let elements), .push(let elements): elements
        default: nil
        }
    }

    /// This value with any attributes stripped, at this level only.
    public var withoutAttributes: RESPValue {
        var value = self
        while case .attributed(_, let inner) = value {
            value = inner
        }
        return value
    }
}

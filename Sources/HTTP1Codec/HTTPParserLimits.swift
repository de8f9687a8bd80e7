/// Hard limits that bound the memory and work one HTTP/1.1 message may cost.
///
/// The defaults follow DESIGN.md §4 and what nginx and h11 use. Every limit is checked as soon
/// as it is crossed (not when the line or body completes), so a peer can never make the parser
/// buffer more than ``maxHeadLength`` bytes nor announce a body it will not accept.
public struct HTTPParserLimits: Hashable, Sendable {
    /// The longest request line (or status line) accepted, CRLF excluded; longer is 414.
    public var maxRequestLineLength: Int
    /// The longest single field line accepted, CRLF excluded; longer is 431. Also bounds a chunk
    /// line (size plus extensions), where a longer one is ``HTTPParseError/invalidChunkExtension``.
    public var maxFieldLineLength: Int
    /// The most field lines in a head (or trailer section) accepted; more is 431.
    public var maxFieldCount: Int
    /// The most bytes of a whole head (or trailer section) accepted, final CRLF included; more is 431.
    public var maxHeadLength: Int
    /// The most body bytes accepted per message, de-chunked; more is 413.
    public var maxBodyLength: Int

    /// Creates limits; every argument defaults to the safe value documented on its property.
    public init(
        maxRequestLineLength: Int = 8192,
        maxFieldLineLength: Int = 8192,
        maxFieldCount: Int = 100,
        maxHeadLength: Int = 65536,
        maxBodyLength: Int = 1 << 20
    ) {
        // Heads store 32-bit offsets; a larger head limit would be no limit at all anyway.
        precondition(
            maxHeadLength < Int(UInt32.max) && maxRequestLineLength < Int(UInt32.max),
            "head limits must be below 4 GiB"
        )
        self.maxRequestLineLength = maxRequestLineLength
        self.maxFieldLineLength = maxFieldLineLength
        self.maxFieldCount = maxFieldCount
        self.maxHeadLength = maxHeadLength
        self.maxBodyLength = maxBodyLength
    }

    /// The defaults: 8 KiB request line, 8 KiB per field line, 100 fields, 64 KiB of head, 1 MiB body.
    public static let `default` = HTTPParserLimits()
}

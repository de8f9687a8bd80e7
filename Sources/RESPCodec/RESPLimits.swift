/// The hard limits a ``RESPParser`` enforces before it allocates anything.
///
/// Every length and count in RESP is declared by the peer, so each one is checked against these
/// limits as soon as its header line is read, before a byte of payload is buffered for it or an
/// element array is reserved. The defaults and why they were chosen are recorded in
/// `docs/decisions/0003-resp-limits.md`.
public struct RESPLimits: Hashable, Sendable {
    /// The longest bulk string, blob error or verbatim string payload accepted, in bytes.
    ///
    /// Defaults to 512 MiB, Redis' own `proto-max-bulk-len`: no reply a real server sends is longer.
    public var maxBulkLength: Int

    /// The most elements one array, set or push, or the most pairs one map or attribute, may declare.
    ///
    /// Defaults to 16 777 216 (1 << 24), enough for `LRANGE key 0 -1` on a 16-million-element list.
    /// This limit is a sanity check, not what bounds memory: the parser reserves at most
    /// ``reservationCap`` slots up front and otherwise grows only as elements actually arrive.
    public var maxAggregateCount: Int

    /// The deepest nesting of aggregates (arrays, sets, pushes, maps, attributes) accepted.
    ///
    /// A top-level array is depth 1. Defaults to 32; Redis' deepest replies (`XINFO STREAM FULL`,
    /// `COMMAND DOCS`) nest fewer than 8 levels.
    public var maxDepth: Int

    /// The longest line without CRLF accepted, in bytes, not counting the type byte and CRLF.
    ///
    /// Applies to simple strings, simple errors, integers, doubles, big numbers and every length
    /// header. Defaults to 64 KiB, so an endless line fails instead of being buffered forever.
    public var maxLineLength: Int

    /// The most element slots reserved up front for one aggregate, whatever count it declares.
    public static let reservationCap = 1024

    /// Creates limits; every parameter defaults to the value documented on its property.
    public init(
        maxBulkLength: Int = 512 * 1024 * 1024,
        maxAggregateCount: Int = 1 << 24,
        maxDepth: Int = 32,
        maxLineLength: Int = 64 * 1024
    ) {
        self.maxBulkLength = maxBulkLength
        self.maxAggregateCount = maxAggregateCount
        self.maxDepth = maxDepth
        self.maxLineLength = maxLineLength
    }
}

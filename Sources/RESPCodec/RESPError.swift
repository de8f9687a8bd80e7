/// Why a ``RESPParser`` rejected its input.
///
/// Every case is final: once ``RESPParser/next()`` throws, the parser is poisoned and throws the same
/// error again on every later call, because the byte stream can no longer be framed. A client
/// should close the connection.
public enum RESPError: Error, Hashable, Sendable {
    /// The first byte of a value is not one of the RESP2/RESP3 type bytes.
    case unknownType(UInt8)
    /// An integer or length line is empty, is a sign alone, or holds a byte that is not a digit.
    case invalidInteger
    /// An integer or length does not fit in 64 bits.
    case integerOverflow
    /// A declared length or count is negative and is not the RESP2 null `-1` of `$` or `*`.
    case negativeLength(Int64)
    /// A bulk string, blob error or verbatim string declares more bytes than the limit allows.
    case bulkTooLarge(length: Int64, limit: Int)
    /// An aggregate declares more elements (or a map more pairs) than the limit allows.
    case aggregateTooLarge(count: Int64, limit: Int)
    /// Aggregates are nested deeper than the limit allows.
    case depthExceeded(limit: Int)
    /// A line has grown past the limit without a CRLF.
    case lineTooLong(limit: Int)
    /// A line holds a bare LF, or a CR that is not followed by LF.
    case invalidLineEnding
    /// The bytes after a bulk payload of the declared length are not CRLF.
    case missingCRLFAfterPayload
    /// A boolean line is not exactly `t` or `f`.
    case invalidBoolean
    /// A double line is not `inf`, `-inf`, `nan` or a decimal number with an optional exponent.
    case invalidDouble
    /// A big number line is not an optional sign followed by decimal digits.
    case invalidBigNumber
    /// A null line (`_`) carries bytes before its CRLF.
    case invalidNull
    /// A verbatim string payload is shorter than 4 bytes or has no `:` after its 3-byte format.
    case invalidVerbatimString
}

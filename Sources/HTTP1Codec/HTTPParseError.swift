/// Why the HTTP/1.1 parser refused a message, and which status a server must answer.
///
/// Every error is final for the connection: after a parse error the byte stream has no
/// trustworthy message boundary any more, so the server answers ``status`` (when it can)
/// and closes. The cases are deliberately fine-grained so that tests can expect the exact
/// reason (request smuggling vectors differ only in which rule they break).
public enum HTTPParseError: Error, Hashable, Sendable {
    // MARK: - Limits

    /// The request line is longer than ``HTTPParserLimits/maxRequestLineLength`` (414).
    case requestLineTooLong
    /// One field line is longer than ``HTTPParserLimits/maxFieldLineLength`` (431).
    case fieldLineTooLong
    /// The head has more than ``HTTPParserLimits/maxFieldCount`` field lines (431).
    case tooManyFields
    /// The head is longer than ``HTTPParserLimits/maxHeadLength`` (431).
    case headTooLarge
    /// The body is, or is declared to be, longer than ``HTTPParserLimits/maxBodyLength`` (413).
    case bodyTooLarge

    // MARK: - Start line

    /// The method is empty or not a token (400).
    case invalidMethod
    /// The request-target has a forbidden byte or does not fit the method's form (400).
    case invalidRequestTarget
    /// The request line or status line is not `A SP B SP C` with single spaces (400).
    case invalidStartLine
    /// The version is not `HTTP/DIGIT.DIGIT` (400).
    case invalidVersion
    /// The version is well formed but not HTTP/1.0 or HTTP/1.1 (505).
    case unsupportedVersion
    /// The status code is not three digits, or the reason phrase has a control byte.
    case invalidStatus

    // MARK: - Line endings and field syntax

    /// A CR that is not followed by LF (400).
    case bareCR
    /// An LF that is not preceded by CR (400). See the theory of operation in RequestParser.swift.
    case bareLF
    /// A field line that starts with whitespace: obsolete line folding (400).
    case obsoleteLineFolding
    /// Whitespace between a field name and its colon (400).
    case whitespaceBeforeColon
    /// A field name that is empty or has a non-token byte, or a line without a colon (400).
    case invalidFieldName
    /// A field value with NUL, DEL or another control byte other than HTAB (400).
    case invalidFieldValue

    // MARK: - Semantics and framing

    /// An HTTP/1.1 request without a Host field (400).
    case missingHost
    /// More than one Host field (400).
    case duplicateHost
    /// A Host value that cannot be an authority (400).
    case invalidHost
    /// Both Content-Length and Transfer-Encoding (400): the classic CL.TE / TE.CL smuggling shape.
    case contentLengthWithTransferEncoding
    /// More than one Content-Length field, even with equal values (400).
    case duplicateContentLength
    /// A Content-Length that is not `1*DIGIT` or does not fit in an `Int` (400).
    case invalidContentLength
    /// A request whose Transfer-Encoding does not end in `chunked`, applies it twice, or is
    /// empty (400).
    case invalidTransferEncoding
    /// A Transfer-Encoding that ends in `chunked` but has other codings before it (501).
    case unsupportedTransferCoding
    /// Transfer-Encoding in an HTTP/1.0 message, whose framing is then faulty (400).
    case transferEncodingInHTTP10

    // MARK: - Chunked body

    /// A chunk size that is empty, signed, `0x`-prefixed or has a non-hex byte (400).
    case invalidChunkSize
    /// A chunk size that does not fit in an `Int` (400).
    case chunkSizeOverflow
    /// A chunk extension with a control byte, or a chunk line over the field line limit (400).
    case invalidChunkExtension
    /// Chunk data not followed by CRLF (400).
    case invalidChunkTerminator

    // MARK: - End of stream

    /// The peer closed the connection in the middle of a message (400).
    case unexpectedEOF

    /// The status code a server must answer with before closing the connection.
    ///
    /// For errors found by ``ResponseParser`` there is no one to answer; the value is then the
    /// one a gateway would use towards its own client only in spirit, and clients just close.
    public var status: Int {
        switch self {
        case .requestLineTooLong: 414
        case .fieldLineTooLong, .tooManyFields, .headTooLarge: 431
        case .bodyTooLarge: 413
        case .unsupportedVersion: 505
        case .unsupportedTransferCoding: 501
        default: 400
        }
    }
}

// Theory of operation
//
// RequestParser is sans-I/O: the caller feeds bytes (`feed`) and pulls events (`next`):
// `.head`, then zero or more `.body`, then `.end`, for each request in order. `next` returns nil
// when it needs more bytes, and throws an HTTPParseError whose `status` the server answers before
// closing; after an error the parser is stuck in it (the stream has no trustworthy boundary left).
//
// Copies (docs/decisions/0006-low-level-surface.md). A feed is a borrowed `Span`, what
// `dataReceived` lends: it is copied once, into an array sized to it (a caller that owns an array
// may feed the array itself, which is kept, not copied). A head that is whole in one feed is parsed
// in place and handed out as a reference to that array plus 32-bit offsets; body bytes are always
// ArraySlices of it. Only a head (or trailer section) split across feeds is copied again, into the
// carry buffer of InputBuffer, which never holds more than `maxHeadLength` bytes.
//
// Splits. Parsing a head is one left-to-right pass over bytes that may end early. Every rule is
// checked at the byte that breaks it, so a prefix either fails with the same error as the whole
// head or reports "incomplete". A split head is re-parsed only when a CRLF CRLF arrives, when the
// carry doubled since the last try, at a limit, or at EOF: amortised linear time for a peer that
// sends one byte at a time, and the same events for every split of the input.
//
// Strictness (RFC 9112, no lenient mode; docs/decisions/0002-http1-strictness.md):
// - Line endings are CRLF only. RFC 9112 §2.2 lets a recipient accept a bare LF, and h11 and
//   nginx do, but a bare LF is what makes a front end and a back end disagree about where a line
//   ends (a bare LF in a chunk extension is one known smuggling shape), so a bare LF anywhere in a head
//   or chunk line is `.bareLF` and a CR not followed by LF is `.bareCR`. Empty lines before a
//   request line are skipped (§2.2 "SHOULD ignore at least one empty line").
// - Exactly one SP between the parts of the request line; a method is a token; a target is
//   VCHARs without `#`, in the form its method requires (authority-form for CONNECT only and
//   always, `*` for OPTIONS only, else origin-form or absolute-form).
// - HTTP/1.0 and HTTP/1.1 only; other well-formed versions are 505.
// - No obs-fold, no whitespace before a colon, no control byte but HTAB in a value.
// - Framing (§6.3): Transfer-Encoding with Content-Length is refused, not resolved; so is any
//   second Content-Length even when equal, and Transfer-Encoding in HTTP/1.0. A Transfer-Encoding
//   must end in a single `chunked` (400), and codings before it are 501 (we decode none).
// - HTTP/1.1 needs exactly one Host; HTTP/1.0 may have none but never two.
// Limits are checked before any byte past them is looked at, so the error for an over-long head
// does not depend on the split either; the body limit is checked against the declared length.

/// An incremental, strict HTTP/1.1 request parser for the server side of a connection.
///
/// Feed it bytes as they arrive and pull events until it returns nil:
/// ```swift
/// var parser = RequestParser()
/// // in a protocol's dataReceived(_ data: Span<UInt8>, loop:)
/// parser.feed(data)
/// while let event = try parser.next() {
///     switch event {
///     case .head(let head): startHandler(head.makeHTTPRequest(), framing: head.framing)
///     case .body(let bytes): handlerBody(bytes)
///     case .end(let trailers): finishHandler(trailers)
///     }
/// }
/// ```
/// Call ``finish()`` when the peer closes its side, then drain ``next()`` once more.
public struct RequestParser: Sendable {
    /// What the parser found next in the input.
    public enum Event: Sendable {
        /// A request head; body events (if any) and one `.end` follow.
        case head(RequestHead)
        /// A piece of the body, de-chunked, as a slice of the fed bytes.
        case body(ArraySlice<UInt8>)
        /// The end of the request: for a chunked body its trailer fields (possibly none), else nil.
        case end(HTTPFieldLines?)
    }

    enum State {
        case head
        /// A head without a body was returned; `.end` comes next (no body decoder needed).
        case endPending
        case body(BodyDecoder)
        case failed(HTTPParseError)
    }

    /// The limits this parser enforces.
    public let limits: HTTPParserLimits
    var input = InputBuffer()
    var state = State.head

    /// Creates a parser for one connection.
    public init(limits: HTTPParserLimits = .default) {
        self.limits = limits
    }

    /// Adds bytes read from the connection, copying them once (the span is only borrowed).
    ///
    /// This is how a protocol's `dataReceived(_:loop:)` feeds the bytes the transport lends it.
    /// Heads and body slices handed out later share the parser's copy; none of them points into
    /// `bytes`.
    public mutating func feed(_ bytes: Span<UInt8>) {
        input.feed(bytes)
    }

    /// Adds bytes the caller already owns as an array: the array is kept, not copied, when every
    /// byte fed before was consumed (``next()`` returned nil); see the `Span` overload.
    public mutating func feed(_ bytes: [UInt8]) {
        input.feed(bytes)
    }

    /// Tells the parser that the peer closed its side: a request cut short becomes an error.
    public mutating func finish() {
        input.eof = true
    }

    /// Whether bytes are buffered that do not yet form an event.
    public var hasPendingBytes: Bool { !input.isEmpty || !input.carry.isEmpty }

    /// Removes and returns every byte fed but not consumed, for a server that switches protocols
    /// after an ``RequestHead/isUpgrade`` or CONNECT request ended.
    public mutating func takeUnconsumedBytes() -> [UInt8] {
        input.takeAll()
    }

    /// Returns the next event, or nil when more bytes are needed (or the stream ended cleanly).
    ///
    /// - Throws: ``HTTPParseError``; the same error again on every later call.
    public mutating func next() throws(HTTPParseError) -> Event? {
        do throws(HTTPParseError) {
            switch state {
            case .failed(let error):
                throw error
            case .head:
                guard let head = try nextHead() else {
                    if input.eof && !input.onlyEmptyLinesLeft { throw .unexpectedEOF }
                    return nil
                }
                switch head.framing {
                case .none, .contentLength(0): state = .endPending
                default: state = .body(BodyDecoder(framing: head.framing))
                }
                return .head(head)
            case .endPending:
                state = .head
                return .end(nil)
            case .body(var decoder):
                guard let step = try decoder.next(&input, limits: limits) else {
                    state = .body(decoder)
                    return nil
                }
                switch step {
                case .data(let bytes):
                    state = .body(decoder)
                    return .body(bytes)
                case .end(let trailers, let count):
                    state = .head
                    return .end(trailers.map { HTTPFieldLines(storage: $0.storage, start: $0.offset, count: count) })
                }
            }
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func nextHead() throws(HTTPParseError) -> RequestHead? {
        var parsed = ParsedRequestHead()
        let limits = self.limits
        let section = try input.nextSection(initialMatch: headStartMatch, limit: limits.maxHeadLength) {
            base,
            available throws(HTTPParseError) in
            try parsed.parse(base, count: available, limits: limits)
        }
        guard let section else { return nil }
        return RequestHead(section: section, parsed: parsed)
    }
}

// The client side: the same machinery as RequestParser (see its theory of operation), with a
// status line instead of a request line and the response framing rules of RFC 9112 §6.3,
// which depend on the request: the caller passes the method of the request being answered.

/// An incremental, strict HTTP/1.1 response parser for the client side of a connection.
///
/// ```swift
/// var parser = ResponseParser()
/// parser.feed(data)  // the Span<UInt8> that dataReceived(_:loop:) lends
/// while let event = try parser.next(requestMethod: .get) { ... }
/// ```
/// After a `101 Switching Protocols`, or a 2xx to CONNECT, the parser stops at the end of that
/// head (``next(requestMethod:)`` returns nil) and ``takeUnconsumedBytes()`` returns the tunnel's
/// first bytes.
public struct ResponseParser: Sendable {
    /// The request methods that change how a response is framed.
    public enum RequestMethod: Hashable, Sendable {
        /// A response to HEAD has no body, whatever its fields say.
        case head
        /// A 2xx response to CONNECT starts a tunnel.
        case connect
        /// Any other method.
        case other
    }

    /// What the parser found next in the input.
    public enum Event: Sendable {
        /// A response head (a 1xx head is followed by its `.end`, then by another head).
        case head(ResponseHead)
        /// A piece of the body, de-chunked, as a slice of the fed bytes.
        case body(ArraySlice<UInt8>)
        /// The end of the response: for a chunked body its trailer fields (possibly none), else nil.
        case end(HTTPFieldLines?)
    }

    enum State {
        case head
        case body(BodyDecoder, switching: Bool)
        case switched
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

    /// Adds bytes read from the connection, copying them once (the span is only borrowed); see
    /// `RequestParser.feed(_: Span<UInt8>)`.
    public mutating func feed(_ bytes: Span<UInt8>) {
        input.feed(bytes)
    }

    /// Adds bytes the caller already owns as an array (kept, not copied, when the previous ones
    /// were consumed).
    public mutating func feed(_ bytes: [UInt8]) {
        input.feed(bytes)
    }

    /// Tells the parser that the server closed the connection, which ends a close-delimited body.
    public mutating func finish() {
        input.eof = true
    }

    /// Removes and returns every byte fed but not consumed (after a protocol switch).
    public mutating func takeUnconsumedBytes() -> [UInt8] {
        input.takeAll()
    }

    /// Returns the next event, or nil when more bytes are needed (or the stream ended cleanly).
    ///
    /// - Parameter requestMethod: What kind of request the response being parsed answers; it
    ///   matters only when a head is parsed.
    /// - Throws: ``HTTPParseError``; the same error again on every later call.
    public mutating func next(requestMethod: RequestMethod) throws(HTTPParseError) -> Event? {
        do throws(HTTPParseError) {
            switch state {
            case .failed(let error):
                throw error
            case .switched:
                return nil
            case .head:
                var parsed = ParsedResponseHead()
                let limits = self.limits
                let section = try input.nextSection(initialMatch: inLineMatch, limit: limits.maxHeadLength) {
                    base,
                    available throws(HTTPParseError) in
                    try parsed.parse(base, count: available, limits: limits, requestMethod: requestMethod)
                }
                guard let section else {
                    if input.eof && (!input.isEmpty || !input.carry.isEmpty) { throw .unexpectedEOF }
                    return nil
                }
                let head = ResponseHead(section: section, parsed: parsed)
                let switching = head.statusCode == 101 || (requestMethod == .connect && head.statusCode / 100 == 2)
                state = .body(BodyDecoder(framing: head.framing), switching: switching)
                return .head(head)
            case .body(var decoder, let switching):
                guard let step = try decoder.next(&input, limits: limits) else {
                    state = .body(decoder, switching: switching)
                    return nil
                }
                switch step {
                case .data(let bytes):
                    state = .body(decoder, switching: switching)
                    return .body(bytes)
                case .end(let trailers, let count):
                    state = switching ? .switched : .head
                    return .end(trailers.map { HTTPFieldLines(storage: $0.storage, start: $0.offset, count: count) })
                }
            }
        } catch {
            state = .failed(error)
            throw error
        }
    }
}

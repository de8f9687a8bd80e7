// How a message body is delimited (RFC 9112 §6.3), and the state machine that cuts body bytes
// out of the input without copying them.

/// How the body of a message is delimited on the wire.
public enum BodyFraming: Hashable, Sendable {
    /// No body at all (a request without Content-Length or Transfer-Encoding, a response to HEAD,
    /// a 1xx, 204 or 304 response).
    case none
    /// Exactly this many bytes follow the head.
    case contentLength(Int)
    /// The chunked transfer coding, possibly with trailer fields.
    case chunked
    /// The body is everything up to the end of the connection (responses only).
    case untilClose
}

/// What the body decoder produced from the input.
enum BodyStep {
    /// Body bytes, a slice of what the caller fed.
    case data(ArraySlice<UInt8>)
    /// The body ended; for a chunked body, the trailer section (possibly just CRLF).
    case end(Section?, trailerCount: Int)
}

/// Cuts a body out of an ``InputBuffer`` according to its ``BodyFraming``.
///
/// States: `length(n)` hands out up to n bytes; `chunked` runs `size -> data -> CR -> LF -> size
/// ... -> size 0 -> trailers -> end`; `untilClose` hands out everything until EOF. The chunk-size
/// line is parsed byte by byte as it arrives, so it never needs the carry buffer.
struct BodyDecoder {
    enum State {
        case length(Int)
        case untilClose
        /// In the chunk-size line: `phase` 0 digits, 1 whitespace after them, 2 extension, 3 CR seen.
        case chunkLine(size: Int, digits: Int, phase: UInt8, lineLength: Int)
        case chunkData(Int)
        case chunkCR
        case chunkLF
        case trailers
        case done
    }

    var state: State
    /// De-chunked body bytes so far, for the body limit.
    var total = 0

    init(framing: BodyFraming) {
        switch framing {
        case .none: state = .done
        case .contentLength(let n): state = n == 0 ? .done : .length(n)
        case .chunked: state = .chunkLine(size: 0, digits: 0, phase: 0, lineLength: 0)
        case .untilClose: state = .untilClose
        }
    }

    /// Produces the next piece of the body, or nil when the input has no more of it yet.
    mutating func next(_ input: inout InputBuffer, limits: HTTPParserLimits) throws(HTTPParseError) -> BodyStep? {
        while true {
            switch state {
            case .done:
                return .end(nil, trailerCount: 0)
            case .length(let remaining):
                guard !input.isEmpty else {
                    if input.eof { throw .unexpectedEOF }
                    return nil
                }
                let piece = input.take(upTo: remaining)
                state = remaining == piece.count ? .done : .length(remaining - piece.count)
                return .data(piece)
            case .untilClose:
                guard !input.isEmpty else {
                    if input.eof {
                        state = .done
                        continue
                    }
                    return nil
                }
                let piece = input.take(upTo: Int.max)
                total += piece.count
                if total > limits.maxBodyLength { throw .bodyTooLarge }
                return .data(piece)
            case .chunkData(let remaining):
                guard !input.isEmpty else {
                    if input.eof { throw .unexpectedEOF }
                    return nil
                }
                let piece = input.take(upTo: remaining)
                state = remaining == piece.count ? .chunkCR : .chunkData(remaining - piece.count)
                return .data(piece)
            case .chunkCR, .chunkLF, .chunkLine:
                guard try consumeChunkFraming(&input, limits: limits) else {
                    if input.eof { throw .unexpectedEOF }
                    return nil
                }
            case .trailers:
                var count = 0
                let section = try input.nextSection(initialMatch: afterCRLFMatch, limit: limits.maxHeadLength) {
                    base,
                    available throws(HTTPParseError) in
                    var ignored = KnownFields()
                    guard
                        let (end, fieldCount) = try parseFieldLines(
                            base,
                            start: 0,
                            end: available,
                            sectionStart: 0,
                            limits: limits,
                            known: &ignored
                        )
                    else { return nil }
                    count = fieldCount
                    return end
                }
                guard let section else {
                    if input.eof { throw .unexpectedEOF }
                    return nil
                }
                state = .done
                return .end(section, trailerCount: count)
            }
        }
    }

    /// Consumes chunk framing bytes (size line, CRLF after data); returns false when the input
    /// ran out before the framing did, true when the state moved on to data or trailers.
    private mutating func consumeChunkFraming(
        _ input: inout InputBuffer,
        limits: HTTPParserLimits
    )
        throws(HTTPParseError) -> Bool
    {
        let classes = byteClasses
        while true {
            switch state {
            case .chunkCR, .chunkLF, .chunkLine: break
            default: return true
            }
            guard let b = input.popFirst() else { return false }
            switch state {
            case .chunkCR:
                guard b == ASCII.cr else { throw .invalidChunkTerminator }
                state = .chunkLF
            case .chunkLF:
                guard b == ASCII.lf else { throw .invalidChunkTerminator }
                state = .chunkLine(size: 0, digits: 0, phase: 0, lineLength: 0)
            case .chunkLine(var size, var digits, var phase, var lineLength):
                lineLength += 1
                if lineLength > limits.maxFieldLineLength + 2 { throw .invalidChunkExtension }
                switch phase {
                case 0 where classes[Int(b)] & ByteClass.hex != 0:
                    // chunk-size = 1*HEXDIG; leading zeros are fine, overflow is not.
                    if size > Int.max >> 4 { throw .chunkSizeOverflow }
                    size = size << 4 | hexValue(b)
                    digits += 1
                    if size > limits.maxBodyLength - total { throw .bodyTooLarge }
                case 0, 1:
                    guard digits > 0 else { throw .invalidChunkSize }
                    switch b {
                    case ASCII.space, ASCII.tab: phase = 1
                    case ASCII.semicolon: phase = 2
                    case ASCII.cr where phase == 0: phase = 3
                    case ASCII.lf where phase == 0: throw .bareLF
                    default: throw .invalidChunkSize
                    }
                case 2:
                    // chunk-ext: any visible byte, SP or HTAB; CR ends it; a bare LF here is the
                    // smuggling vector where a lenient parser ends the line and a strict one does not.
                    if b == ASCII.cr {
                        phase = 3
                    } else if b == ASCII.lf {
                        throw .bareLF
                    } else if classes[Int(b)] & ByteClass.fieldValue == 0 {
                        throw .invalidChunkExtension
                    }
                default:
                    guard b == ASCII.lf else { throw .bareCR }
                    total += size
                    state = size == 0 ? .trailers : .chunkData(size)
                    return true
                }
                state = .chunkLine(size: size, digits: digits, phase: phase, lineLength: lineLength)
            default:
                return true
            }
        }
    }
}

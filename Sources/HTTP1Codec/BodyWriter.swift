import HTTPTypes

/// Writes a message body in the framing its head announced, and checks that it is kept.
///
/// With `.contentLength(n)` it passes bytes through and refuses more or fewer than `n`; with
/// `.chunked` it frames each write as a chunk and ends with the last chunk and trailers; with
/// `.none` it refuses any byte; with `.untilClose` it passes bytes through (the caller closes).
public struct BodyWriter: Sendable {
    /// The framing being written.
    public let framing: BodyFraming
    /// Body bytes written so far.
    public private(set) var written = 0

    /// Creates a writer for a body framed as `framing`.
    public init(framing: BodyFraming) {
        self.framing = framing
    }

    /// Appends body bytes to `out` in the body's framing.
    ///
    /// - Throws: ``HTTPSerializeError/bodyLengthMismatch`` when the bytes exceed a declared length
    ///   or the message has no body.
    public mutating func write(_ bytes: some Collection<UInt8>, into out: inout [UInt8]) throws(HTTPSerializeError) {
        switch framing {
        case .none:
            guard bytes.isEmpty else { throw .bodyLengthMismatch }
        case .contentLength(let length):
            guard written + bytes.count <= length else { throw .bodyLengthMismatch }
            out.append(contentsOf: bytes)
        case .chunked:
            HTTP1Serializer.writeChunk(bytes, into: &out)
        case .untilClose:
            out.append(contentsOf: bytes)
        }
        written += bytes.count
    }

    /// Ends the body: the last chunk and trailers for chunked, a length check otherwise.
    ///
    /// - Throws: ``HTTPSerializeError/bodyLengthMismatch`` when fewer bytes than a declared
    ///   Content-Length were written, or when trailers are given for a body that is not chunked;
    ///   a field error for an invalid trailer.
    public mutating func finish(trailers: HTTPFields = [:], into out: inout [UInt8]) throws(HTTPSerializeError) {
        switch framing {
        case .chunked:
            try HTTP1Serializer.writeLastChunk(trailers: trailers, into: &out)
        case .contentLength(let length):
            guard written == length, trailers.isEmpty else { throw .bodyLengthMismatch }
        case .none, .untilClose:
            guard trailers.isEmpty else { throw .bodyLengthMismatch }
        }
    }
}

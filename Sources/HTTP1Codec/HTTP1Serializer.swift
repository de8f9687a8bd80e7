import HTTPTypes

/// Writes HTTP/1.1 heads and chunked-body framing into an output buffer.
///
/// Every function appends to `out` and never allocates beyond the buffer's growth. Everything
/// a handler supplied is validated byte by byte before it is written; on a refusal `out` is left
/// as it was, so a server can still write a 500 instead.
public enum HTTP1Serializer {
    // MARK: - Heads

    /// Writes a response head: status line, fields, empty line.
    ///
    /// - Parameters:
    ///   - response: The status and fields; swift-http-types already legalised them, and they are
    ///     validated again here.
    ///   - version: The version for the status line.
    ///   - out: The buffer to append to.
    /// - Throws: ``HTTPSerializeError`` when a byte would split the response.
    public static func writeResponseHead(
        _ response: HTTPResponse,
        version: HTTPVersion = .http1_1,
        into out: inout [UInt8]
    ) throws(HTTPSerializeError) {
        try writeResponseHead(
            statusCode: response.status.code,
            reasonPhrase: response.status.reasonPhrase,
            fields: response.headerFields.lazy.map { ($0.name.rawName, $0.value) },
            version: version,
            into: &out
        )
    }

    /// Writes a response head from raw strings, refusing CR, LF, NUL and other control bytes.
    public static func writeResponseHead(
        statusCode: Int,
        reasonPhrase: String,
        fields: some Sequence<(String, String)>,
        version: HTTPVersion = .http1_1,
        into out: inout [UInt8]
    ) throws(HTTPSerializeError) {
        guard (100...999).contains(statusCode) else { throw .invalidStatusCode }
        let mark = out.count
        do throws(HTTPSerializeError) {
            out.append(contentsOf: version == .http1_1 ? "HTTP/1.1 ".utf8 : "HTTP/1.0 ".utf8)
            out.append(UInt8(statusCode / 100) + ASCII.zero)
            out.append(UInt8(statusCode / 10 % 10) + ASCII.zero)
            out.append(UInt8(statusCode % 10) + ASCII.zero)
            out.append(ASCII.space)
            for b in reasonPhrase.utf8 {
                guard byteClasses[Int(b)] & ByteClass.fieldValue != 0 else { throw .invalidReasonPhrase }
                out.append(b)
            }
            try writeFields(fields, into: &out)
        } catch {
            out.removeSubrange(mark...)
            throw error
        }
    }

    /// Writes a request head: request line, Host (from the authority), fields, empty line.
    ///
    /// The target is `request.path` (or the authority for CONNECT); Host comes first, from
    /// `request.authority`, as RFC 9112 §3.2 asks.
    public static func writeRequestHead(_ request: HTTPRequest, into out: inout [UInt8]) throws(HTTPSerializeError) {
        let target = request.method == .connect ? (request.authority ?? "") : (request.path ?? "/")
        var fields: [(String, String)] = []
        fields.reserveCapacity(request.headerFields.count + 1)
        if let authority = request.authority { fields.append(("Host", authority)) }
        for field in request.headerFields { fields.append((field.name.rawName, field.value)) }
        try writeRequestHead(method: request.method.rawValue, target: target, fields: fields, into: &out)
    }

    /// Writes a request head from raw strings, refusing anything that could split it.
    public static func writeRequestHead(
        method: String,
        target: String,
        fields: some Sequence<(String, String)>,
        into out: inout [UInt8]
    ) throws(HTTPSerializeError) {
        let mark = out.count
        do throws(HTTPSerializeError) {
            guard !method.isEmpty else { throw .invalidMethod }
            for b in method.utf8 {
                guard byteClasses[Int(b)] & ByteClass.token != 0 else { throw .invalidMethod }
                out.append(b)
            }
            out.append(ASCII.space)
            guard !target.isEmpty else { throw .invalidTarget }
            for b in target.utf8 {
                guard b > 0x20 && b < 0x7F else { throw .invalidTarget }
                out.append(b)
            }
            out.append(contentsOf: " HTTP/1.1".utf8)
            try writeFields(fields, into: &out)
        } catch {
            out.removeSubrange(mark...)
            throw error
        }
    }

    // MARK: - Chunked bodies

    /// Writes one chunk (size line, data, CRLF); an empty `bytes` writes nothing, since a
    /// zero-size chunk would end the body.
    public static func writeChunk(_ bytes: some Collection<UInt8>, into out: inout [UInt8]) {
        let count = bytes.count
        guard count > 0 else { return }
        writeHex(count, into: &out)
        out.append(ASCII.cr)
        out.append(ASCII.lf)
        out.append(contentsOf: bytes)
        out.append(ASCII.cr)
        out.append(ASCII.lf)
    }

    /// Writes the last chunk, the trailer fields and the final empty line.
    public static func writeLastChunk(
        trailers: some Sequence<(String, String)> = [(String, String)](),
        into out: inout [UInt8]
    ) throws(HTTPSerializeError) {
        let mark = out.count
        do throws(HTTPSerializeError) {
            // "0", then writeFields ends that line with CRLF and writes the trailer section.
            out.append(ASCII.zero)
            try writeFields(trailers, into: &out)
        } catch {
            out.removeSubrange(mark...)
            throw error
        }
    }

    /// Writes the last chunk with swift-http-types trailer fields.
    public static func writeLastChunk(trailers: HTTPFields, into out: inout [UInt8]) throws(HTTPSerializeError) {
        try writeLastChunk(trailers: trailers.lazy.map { ($0.name.rawName, $0.value) }, into: &out)
    }

    // MARK: - Helpers

    /// Ends the start line, writes `name: value` lines and the empty line, validating every byte.
    static func writeFields(
        _ fields: some Sequence<(String, String)>,
        into out: inout [UInt8]
    )
        throws(HTTPSerializeError)
    {
        out.append(ASCII.cr)
        out.append(ASCII.lf)
        for (name, value) in fields {
            guard !name.isEmpty else { throw .invalidFieldName }
            for b in name.utf8 {
                guard byteClasses[Int(b)] & ByteClass.token != 0 else { throw .invalidFieldName }
                out.append(b)
            }
            out.append(ASCII.colon)
            out.append(ASCII.space)
            for b in value.utf8 {
                guard byteClasses[Int(b)] & ByteClass.fieldValue != 0 else { throw .invalidFieldValue }
                out.append(b)
            }
            out.append(ASCII.cr)
            out.append(ASCII.lf)
        }
        out.append(ASCII.cr)
        out.append(ASCII.lf)
    }

    static func writeHex(_ value: Int, into out: inout [UInt8]) {
        let digits = Array("0123456789abcdef".utf8)
        var shift = (Int.bitWidth - value.leadingZeroBitCount + 3) / 4 * 4 - 4
        while shift >= 0 {
            out.append(digits[(value >> shift) & 0xF])
            shift -= 4
        }
    }
}

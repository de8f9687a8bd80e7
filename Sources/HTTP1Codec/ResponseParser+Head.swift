// The response head grammar: status line, then field lines (FieldSection.swift), then the
// framing decision of RFC 9112 §6.3, which depends on the request being answered.

/// The facts the response-head parser extracts, as offsets into the head's bytes.
struct ParsedResponseHead {
    var version = HTTPVersion.http1_1
    var statusCode = 0
    var reasonEnd = 0
    var fieldsStart = 0
    var fieldCount = 0
    var known = KnownFields()
    var framing = BodyFraming.none
    var keepAlive = true

    /// Parses a head at `p`; returns its length when complete, nil when more bytes are needed.
    // SAFETY: `p` points at `end` readable bytes for the duration of the call (InputBuffer); the
    // fixed 13 bytes are read only after `end >= 13`, the rest under `i < end` / `i + 1 < end`.
    mutating func parse(
        _ p: UnsafePointer<UInt8>,
        count end: Int,
        limits: HTTPParserLimits,
        requestMethod: ResponseParser.RequestMethod
    ) throws(HTTPParseError) -> Int? {
        let classes = byteClasses
        // status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ] CRLF; the second SP is
        // required (RFC 9112 §4), even with an empty reason.
        // A prefix that cannot start "HTTP/" fails now, as the whole line would.
        let prefix: StaticString = "HTTP/"
        for j in 0..<min(end, 5) where p[j] != prefix.utf8Start[j] { throw .invalidVersion }
        guard end >= 13 else {
            if end > limits.maxRequestLineLength { throw .requestLineTooLong }
            return nil
        }
        version = try parseVersion(p)
        guard p[8] == ASCII.space, p[12] == ASCII.space else { throw .invalidStartLine }
        let d0 = p[9] &- ASCII.zero
        let d1 = p[10] &- ASCII.zero
        let d2 = p[11] &- ASCII.zero
        guard d0 < 10, d1 < 10, d2 < 10, d0 >= 1 else { throw .invalidStatus }
        statusCode = Int(d0) * 100 + Int(d1) * 10 + Int(d2)
        var i = 13
        while i < end && classes[Int(p[i])] & ByteClass.fieldValue != 0 { i += 1 }
        // The limit a left-to-right scan crossed first wins, whatever the split (see checkLine).
        let lineCrossing = limits.maxRequestLineLength + 1
        let headCrossing = limits.maxHeadLength + 1
        if i >= min(lineCrossing, headCrossing) {
            throw lineCrossing <= headCrossing ? .requestLineTooLong : .headTooLarge
        }
        guard i < end else { return nil }
        guard p[i] == ASCII.cr else { throw p[i] == ASCII.lf ? .bareLF : .invalidStatus }
        if i + 1 >= min(lineCrossing, headCrossing) {
            throw lineCrossing <= headCrossing ? .requestLineTooLong : .headTooLarge
        }
        guard i + 1 < end else { return nil }
        guard p[i + 1] == ASCII.lf else { throw .bareCR }
        reasonEnd = i
        i += 2
        fieldsStart = i
        guard
            let (headEnd, count) = try parseFieldLines(
                p,
                start: i,
                end: end,
                sectionStart: 0,
                limits: limits,
                known: &known
            )
        else { return nil }
        fieldCount = count
        try decideFraming(limits, requestMethod)
        return headEnd
    }

    /// Decides framing (RFC 9112 §6.3) and keep-alive for a response to `requestMethod`.
    private mutating func decideFraming(
        _ limits: HTTPParserLimits,
        _ requestMethod: ResponseParser.RequestMethod
    )
        throws(HTTPParseError)
    {
        keepAlive =
            version == .http1_1
            ? !known.connectionClose
            : known.connectionKeepAlive && !known.connectionClose
        // 1. No body after HEAD, 1xx, 204, 304 (and 2xx to CONNECT, where a tunnel starts),
        //    whatever the fields say. Framing fields are still checked for duplicates above.
        if requestMethod == .head || statusCode < 200 || statusCode == 204 || statusCode == 304
            || (requestMethod == .connect && statusCode < 300)
        {
            framing = .none
            return
        }
        if known.transferEncodingSeen {
            // RFC 9112 §6.3 rule 3 lets TE override CL but calls the pair a smuggling sign; refuse it.
            if known.contentLengthSeen { throw .contentLengthWithTransferEncoding }
            if version == .http1_0 { throw .transferEncodingInHTTP10 }
            if known.transferEncodingChunkedLast {
                guard known.transferEncodingChunkedCount == 1, !known.transferEncodingEmptyElement else {
                    throw .invalidTransferEncoding
                }
                if known.transferEncodingOtherCoding { throw .unsupportedTransferCoding }
                framing = .chunked
            } else {
                // Rule 4: a response whose coding does not end in chunked is read until close.
                framing = .untilClose
                keepAlive = false
            }
        } else if known.contentLengthSeen {
            if known.contentLength > limits.maxBodyLength { throw .bodyTooLarge }
            framing = .contentLength(known.contentLength)
        } else {
            framing = .untilClose
            keepAlive = false
        }
    }
}

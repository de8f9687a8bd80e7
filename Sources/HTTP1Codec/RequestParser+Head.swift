// The request head grammar: request line, then field lines (FieldSection.swift), then the
// framing decision. One pass, offsets only, no allocation.

/// The facts the request-head parser extracts, as 32-bit offsets into the head's bytes.
///
/// ``RequestHead`` stores this struct as it is (one move, no conversion), which is why it is
/// small and `@usableFromInline`: the head's accessors are inlined into the caller.
@usableFromInline
struct ParsedRequestHead: Sendable {
    @usableFromInline var methodStart: UInt32 = 0
    @usableFromInline var methodEnd: UInt32 = 0
    @usableFromInline var targetEnd: UInt32 = 0
    @usableFromInline var fieldsStart: UInt32 = 0
    @usableFromInline var fieldCount: UInt32 = 0
    @usableFromInline var version = HTTPVersion.http1_1
    @usableFromInline var keepAlive = true
    @usableFromInline var framing = BodyFraming.none
    @usableFromInline var known = KnownFields()

    /// Parses a head at `p`; returns its length when complete, nil when more bytes are needed.
    // SAFETY: `p` points at `end` readable bytes for the duration of the call (InputBuffer);
    // every read is guarded by `i < end`, `i + 1 < end` or `i + 10 <= end` just before it.
    @inline(__always)
    mutating func parse(
        _ p: UnsafePointer<UInt8>,
        count end: Int,
        limits: HTTPParserLimits
    )
        throws(HTTPParseError) -> Int?
    {
        let classes = byteClasses
        var i = 0
        // Skip empty lines before the request line (RFC 9112 §2.2); they count towards the head.
        while i < end && p[i] == ASCII.cr {
            if i + 1 > limits.maxHeadLength { throw .headTooLarge }
            guard i + 1 < end else { return nil }
            guard p[i + 1] == ASCII.lf else { throw .bareCR }
            i += 2
            if i > limits.maxHeadLength { throw .headTooLarge }
        }
        let lineStart = i

        // method SP
        let methodStart = i
        while i < end && classes[Int(p[i])] & ByteClass.token != 0 { i += 1 }
        try checkRequestLine(i, lineStart, limits)
        guard i < end else { return nil }
        guard p[i] == ASCII.space, i > methodStart else {
            if p[i] == ASCII.lf { throw .bareLF }
            throw .invalidMethod
        }
        let methodEnd = i
        i += 1

        // request-target SP
        let targetStart = i
        while i < end && classes[Int(p[i])] & ByteClass.target != 0 { i += 1 }
        try checkRequestLine(i, lineStart, limits)
        guard i < end else { return nil }
        guard p[i] == ASCII.space, i > targetStart else {
            if p[i] == ASCII.lf { throw .bareLF }
            throw i == targetStart || p[i] == ASCII.cr ? .invalidStartLine : .invalidRequestTarget
        }
        let targetEnd = i
        i += 1

        // HTTP-version CRLF: ten bytes, all within the limits before any is looked at.
        try checkRequestLine(min(i + 9, end), lineStart, limits)
        guard i + 10 <= end else { return nil }
        version = try parseVersion(p + i)
        i += 8
        guard p[i] == ASCII.cr else { throw p[i] == ASCII.lf ? .bareLF : .invalidVersion }
        guard p[i + 1] == ASCII.lf else { throw .bareCR }
        i += 2
        try checkTarget(
            method: p + methodStart,
            methodCount: methodEnd - methodStart,
            target: p + targetStart,
            count: targetEnd - targetStart
        )
        // The limits keep every offset below 2^32 (HTTPParserLimits caps the head length).
        self.methodStart = UInt32(truncatingIfNeeded: methodStart)
        self.methodEnd = UInt32(truncatingIfNeeded: methodEnd)
        self.targetEnd = UInt32(truncatingIfNeeded: targetEnd)

        // field lines, empty line
        fieldsStart = UInt32(truncatingIfNeeded: i)
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
        fieldCount = UInt32(truncatingIfNeeded: count)
        try decideFraming(limits)
        return headEnd
    }

    @inline(__always)
    private func checkRequestLine(_ i: Int, _ lineStart: Int, _ limits: HTTPParserLimits) throws(HTTPParseError) {
        // The limit a left-to-right scan crossed first wins, whatever the split (see checkLine).
        let lineCrossing = lineStart + limits.maxRequestLineLength + 1
        let headCrossing = limits.maxHeadLength + 1
        guard i >= min(lineCrossing, headCrossing) else { return }
        throw lineCrossing <= headCrossing ? .requestLineTooLong : .headTooLarge
    }

    /// Checks that the target has the form its method requires (RFC 9112 §3.2).
    // SAFETY: `method` and `target` point into the request line just scanned, with `methodCount`
    // and `count` (>= 1) readable bytes; the loops index below those counts.
    private func checkTarget(
        method: UnsafePointer<UInt8>,
        methodCount: Int,
        target: UnsafePointer<UInt8>,
        count: Int
    ) throws(HTTPParseError) {
        let isConnect = equalsExactly(method, methodCount, "CONNECT")
        // origin-form, the common case: any method but CONNECT.
        if target[0] == ASCII.slash && !isConnect { return }
        if isConnect {
            // authority-form: host ":" port, nothing else.
            var colon = -1
            for i in 0..<count {
                switch target[i] {
                case ASCII.slash, UInt8(ascii: "?"), UInt8(ascii: "@"): throw .invalidRequestTarget
                case ASCII.colon: colon = i
                default: continue
                }
            }
            guard colon > 0, colon < count - 1 else { throw .invalidRequestTarget }
            for i in (colon + 1)..<count where target[i] &- ASCII.zero >= 10 { throw .invalidRequestTarget }
            return
        }
        if count == 1 && target[0] == UInt8(ascii: "*") {
            guard equalsExactly(method, methodCount, "OPTIONS") else { throw .invalidRequestTarget }
            return
        }
        // absolute-form: scheme ":" ..., scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        var i = 0
        while i < count {
            let b = target[i]
            let isAlpha = (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A
            if b == ASCII.colon && i > 0 { return }
            let isSchemeByte =
                isAlpha
                || (i > 0
                    && (b &- ASCII.zero < 10 || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
                        || b == UInt8(ascii: ".")))
            guard isSchemeByte else { throw .invalidRequestTarget }
            i += 1
        }
        throw .invalidRequestTarget
    }

    /// Decides framing and keep-alive from the known fields (RFC 9112 §6.3, §9.3).
    private mutating func decideFraming(_ limits: HTTPParserLimits) throws(HTTPParseError) {
        if version == .http1_1 && !known.hostSeen { throw .missingHost }
        if known.transferEncodingSeen {
            if version == .http1_0 { throw .transferEncodingInHTTP10 }
            if known.contentLengthSeen { throw .contentLengthWithTransferEncoding }
            guard
                known.transferEncodingChunkedLast, known.transferEncodingChunkedCount == 1,
                !known.transferEncodingEmptyElement
            else { throw .invalidTransferEncoding }
            if known.transferEncodingOtherCoding { throw .unsupportedTransferCoding }
            framing = .chunked
        } else if known.contentLengthSeen {
            if known.contentLength > limits.maxBodyLength { throw .bodyTooLarge }
            framing = .contentLength(known.contentLength)
        } else {
            framing = .none
        }
        keepAlive =
            version == .http1_1
            ? !known.connectionClose
            : known.connectionKeepAlive && !known.connectionClose
    }
}

/// Parses `HTTP/DIGIT.DIGIT` at `p` (8 bytes are available).
// SAFETY: callers check that at least 8 (request) or 13 (status line) bytes are readable at `p`.
@inline(__always)
func parseVersion(_ p: UnsafePointer<UInt8>) throws(HTTPParseError) -> HTTPVersion {
    guard equalsExactly(p, 5, "HTTP/"), p[5] &- ASCII.zero < 10, p[6] == UInt8(ascii: "."), p[7] &- ASCII.zero < 10
    else { throw .invalidVersion }
    guard p[5] == UInt8(ascii: "1") else { throw .unsupportedVersion }
    switch p[7] {
    case UInt8(ascii: "1"): return .http1_1
    case UInt8(ascii: "0"): return .http1_0
    default: throw .unsupportedVersion
    }
}

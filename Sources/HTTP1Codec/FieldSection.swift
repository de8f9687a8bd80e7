// Parsing of a field section (the field lines of a head, or the trailer section of a chunked
// body), and the facts about it that framing and connection management need.

/// What the head parser learned from the fields that decide framing and connection handling.
///
/// Filled in while the field lines are validated, so that no second pass over the head is
/// needed; every other field stays as raw bytes in the head.
///
/// Kept small (offsets are 32-bit, counts saturate) because it is built for every head.
@usableFromInline
struct KnownFields: Sendable {
    var contentLength = 0
    @usableFromInline var hostStart: UInt32 = 0
    @usableFromInline var hostEnd: UInt32 = 0
    @usableFromInline var hostSeen = false
    var contentLengthSeen = false
    var transferEncodingSeen = false
    var transferEncodingChunkedCount: UInt8 = 0
    var transferEncodingChunkedLast = false
    var transferEncodingOtherCoding = false
    var transferEncodingEmptyElement = false
    var connectionClose = false
    var connectionKeepAlive = false
    var connectionUpgrade = false
    var expectContinue = false
    var upgradeSeen = false
}

/// Parses field lines of a complete or partial section.
///
/// - Parameters:
///   - p: The bytes.
///   - start: Where the first field line (or the final empty line) starts.
///   - end: One past the last available byte.
///   - sectionStart: Where the section started, for the ``HTTPParserLimits/maxHeadLength`` check.
///   - limits: The limits to enforce.
///   - known: Receives the framing facts.
/// - Returns: The index one past the CRLF of the empty line and the number of field lines, or nil
///   when the bytes end before the section does.
/// - Throws: The first rule the bytes break, scanning from left to right. Every check is done
///   where the byte that breaks it is first seen, so a prefix of the input either fails with the
///   same error as the whole input or returns nil: this is what makes any split give the same
///   result.
// SAFETY: `p` points at `end` readable bytes (InputBuffer passes the fed array's or the carry's
// buffer for the duration of the call); every read `p[i]` below is guarded by `i < end` or
// `i + 1 < end`, and `byteClasses` has 256 entries for any UInt8 index.
@inline(__always)
func parseFieldLines(
    _ p: UnsafePointer<UInt8>,
    start: Int,
    end: Int,
    sectionStart: Int,
    limits: HTTPParserLimits,
    known: inout KnownFields
) throws(HTTPParseError) -> (end: Int, count: Int)? {
    let classes = byteClasses
    var i = start
    var count = 0
    while true {
        // At the start of a line: the empty line ends the section.
        guard i < end else { return try incomplete(i, lineStart: i, sectionStart, limits) }
        let first = p[i]
        if first == ASCII.cr {
            // Never look ahead past a limit: the unsplit input must fail where the split one does.
            try checkLine(i + 1, i, sectionStart, limits)
            guard i + 1 < end else { return nil }
            guard p[i + 1] == ASCII.lf else { throw .bareCR }
            i += 2
            if i - sectionStart > limits.maxHeadLength { throw .headTooLarge }
            return (i, count)
        }
        if first == ASCII.lf { throw .bareLF }
        if first == ASCII.space || first == ASCII.tab { throw .obsoleteLineFolding }
        if count == limits.maxFieldCount { throw .tooManyFields }
        let lineStart = i

        // field-name: one or more token bytes, then the colon with no whitespace before it.
        while i < end && classes[Int(p[i])] & ByteClass.token != 0 { i += 1 }
        guard i < end else { return try incomplete(i, lineStart: lineStart, sectionStart, limits) }
        try checkLine(i, lineStart, sectionStart, limits)
        let nameEnd = i
        guard p[i] == ASCII.colon else {
            if p[i] == ASCII.space || p[i] == ASCII.tab { throw .whitespaceBeforeColon }
            throw .invalidFieldName
        }
        guard nameEnd > lineStart else { throw .invalidFieldName }
        i += 1

        // OWS, field-value, OWS, CRLF. The value may be empty.
        while i < end && (p[i] == ASCII.space || p[i] == ASCII.tab) { i += 1 }
        let valueStart = i
        while i < end && classes[Int(p[i])] & ByteClass.fieldValue != 0 { i += 1 }
        guard i < end else { return try incomplete(i, lineStart: lineStart, sectionStart, limits) }
        try checkLine(i, lineStart, sectionStart, limits)
        guard p[i] == ASCII.cr else { throw p[i] == ASCII.lf ? .bareLF : .invalidFieldValue }
        try checkLine(i + 1, lineStart, sectionStart, limits)
        guard i + 1 < end else { return nil }
        guard p[i + 1] == ASCII.lf else { throw .bareCR }
        var valueEnd = i
        while valueEnd > valueStart && (p[valueEnd - 1] == ASCII.space || p[valueEnd - 1] == ASCII.tab) {
            valueEnd -= 1
        }
        count += 1
        try noteKnownField(p, lineStart, nameEnd, valueStart, valueEnd, &known)
        i += 2
    }
}

/// Checks the line and section limits before the byte at `i` is looked at.
///
/// The rule that keeps errors independent of splits: no byte past a limit is ever examined, and
/// the scan reports the limit at the first index past it, whether the input goes on or not.
@inline(__always)
private func checkLine(
    _ i: Int,
    _ lineStart: Int,
    _ sectionStart: Int,
    _ limits: HTTPParserLimits
)
    throws(HTTPParseError)
{
    // When both limits are crossed, report the one a left-to-right scan crossed first: the
    // error must not depend on how far the input reached (that is, on how it was split).
    let lineCrossing = lineStart + limits.maxFieldLineLength + 1
    let sectionCrossing = sectionStart + limits.maxHeadLength + 1
    guard i >= min(lineCrossing, sectionCrossing) else { return }
    throw lineCrossing <= sectionCrossing ? .fieldLineTooLong : .headTooLarge
}

/// Returns nil ("need more data") unless the bytes seen so far already break a limit.
@inline(__always)
private func incomplete(
    _ i: Int,
    lineStart: Int,
    _ sectionStart: Int,
    _ limits: HTTPParserLimits
)
    throws(HTTPParseError) -> (end: Int, count: Int)?
{
    try checkLine(i, lineStart, sectionStart, limits)
    return nil
}

/// Records a field that matters for framing or connection handling; the length switch keeps
/// the common case (a field nobody here cares about) to one comparison.
// SAFETY: reads only name and value bytes of a line parseFieldLines has just scanned, all below `end`.
@inline(__always)
private func noteKnownField(
    _ p: UnsafePointer<UInt8>,
    _ nameStart: Int,
    _ nameEnd: Int,
    _ valueStart: Int,
    _ valueEnd: Int,
    _ known: inout KnownFields
) throws(HTTPParseError) {
    let name = p + nameStart
    let nameCount = nameEnd - nameStart
    switch nameCount {
    case 4 where equalsLowercased(name, 4, "host"):
        guard !known.hostSeen else { throw .duplicateHost }
        known.hostSeen = true
        for i in valueStart..<valueEnd {
            switch p[i] {
            case ASCII.space, ASCII.tab, ASCII.slash, UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "@"),
                UInt8(ascii: "\\"):
                throw .invalidHost
            default: continue
            }
        }
        known.hostStart = UInt32(truncatingIfNeeded: valueStart)
        known.hostEnd = UInt32(truncatingIfNeeded: valueEnd)
    case 14 where equalsLowercased(name, 14, "content-length"):
        guard !known.contentLengthSeen else { throw .duplicateContentLength }
        known.contentLengthSeen = true
        guard valueEnd > valueStart, valueEnd - valueStart <= 18 else { throw .invalidContentLength }
        var value = 0
        for i in valueStart..<valueEnd {
            let digit = p[i] &- ASCII.zero
            guard digit < 10 else { throw .invalidContentLength }
            value = value * 10 + Int(digit)
        }
        known.contentLength = value
    case 17 where equalsLowercased(name, 17, "transfer-encoding"):
        known.transferEncodingSeen = true
        forEachListElement(p, valueStart, valueEnd) { element, count in
            if count == 0 {
                known.transferEncodingEmptyElement = true
            } else if equalsLowercased(element, count, "chunked") {
                known.transferEncodingChunkedCount = min(known.transferEncodingChunkedCount, 1) + 1
                known.transferEncodingChunkedLast = true
            } else {
                known.transferEncodingOtherCoding = true
                known.transferEncodingChunkedLast = false
            }
        }
    case 10 where equalsLowercased(name, 10, "connection"):
        forEachListElement(p, valueStart, valueEnd) { element, count in
            if equalsLowercased(element, count, "close") {
                known.connectionClose = true
            } else if equalsLowercased(element, count, "keep-alive") {
                known.connectionKeepAlive = true
            } else if equalsLowercased(element, count, "upgrade") {
                known.connectionUpgrade = true
            }
        }
    case 6 where equalsLowercased(name, 6, "expect"):
        if equalsLowercased(p + valueStart, valueEnd - valueStart, "100-continue") { known.expectContinue = true }
    case 7 where equalsLowercased(name, 7, "upgrade"):
        known.upgradeSeen = true
    default:
        break
    }
}

/// Calls `body` with each element of a comma-separated list (RFC 9110 §5.6.1), OWS trimmed.
// SAFETY: reads only `start..<end` of a validated field value, all readable.
@inline(__always)
private func forEachListElement(
    _ p: UnsafePointer<UInt8>,
    _ start: Int,
    _ end: Int,
    _ body: (UnsafePointer<UInt8>, Int) -> Void
) {
    var i = start
    while true {
        var elementStart = i
        while i < end && p[i] != ASCII.comma { i += 1 }
        var elementEnd = i
        while elementStart < elementEnd && (p[elementStart] == ASCII.space || p[elementStart] == ASCII.tab) {
            elementStart += 1
        }
        while elementEnd > elementStart && (p[elementEnd - 1] == ASCII.space || p[elementEnd - 1] == ASCII.tab) {
            elementEnd -= 1
        }
        body(p + elementStart, elementEnd - elementStart)
        guard i < end else { return }
        i += 1
    }
}

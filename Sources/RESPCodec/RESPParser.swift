// Theory of operation
//
// RESPParser is sans-I/O: `feed(_:)` appends bytes to an internal buffer and `next()` returns the
// next complete top-level value, nil when more bytes are needed, or throws a RESPError. It never
// reads a socket and never blocks.
//
// 1. Bytes. `feed` borrows a `Span` (docs/decisions/0006-low-level-surface.md) and copies it once
//    into one growable `[UInt8]` the parser owns. `readIndex` marks the first byte not yet
//    consumed; everything before it belongs to values already built and is dropped by `feed` (all
//    of it when the buffer is drained, otherwise by one memmove once it is over half the buffer).
//
// 2. Elements are consumed whole or not at all. `next()` parses one element at `readIndex`: a
//    scalar (simple string, integer, bulk string, …) or the header of an aggregate (`*3\r\n`). If
//    the element is incomplete it returns nil and leaves `readIndex` on the element's type byte, so
//    the next call re-reads only that element's header line — never the elements before it.
//
// 3. Aggregates live on an explicit stack, not the call stack. An aggregate header pushes a
//    `Frame` (kind, elements still expected, elements so far). Each completed element is handed to
//    the top frame; a frame that has all its elements is popped and becomes an element of the frame
//    below, or the top-level value `next()` returns. Partial aggregates therefore survive across
//    feeds, and nesting costs heap memory bounded by `maxDepth` frames: an attacker cannot deepen
//    the Swift call stack at all.
//
// 4. Limits are checked before allocation. A length header is parsed into an integer (with
//    overflow detection) and compared with `maxBulkLength` / `maxAggregateCount` before any payload
//    is awaited or any array reserved; reservations are further capped at
//    `RESPLimits.reservationCap`, since a declared count is only a claim. A frame push fails with
//    `depthExceeded` at `maxDepth`. A line that has run past `maxLineLength` without CRLF fails
//    with `lineTooLong` as soon as those bytes are present, so an endless line is never buffered
//    forever. `scanned` remembers how much of a pending line was already searched (and, for an
//    integer line, the value of its digits so far), so feeding a long line byte by byte stays linear.
//
// 5. Attributes (`|n`) push an `.attribute` frame for their n pairs; when it completes it is
//    replaced by an `.attributed` frame waiting for exactly one more element, which it wraps as
//    `RESPValue.attributed(attributes:value:)`. Attributes thus never count toward the element
//    count of an enclosing aggregate, and chains of them are bounded by `maxDepth` like any frame.
//
// 6. Errors poison the parser: once framing is lost nothing after it can be trusted, so every
//    later `next()` throws the same error. Any split of the input yields the same values or error.

/// An incremental RESP2/RESP3 reply parser with hard limits.
///
/// Feed it bytes as they arrive and pull complete values:
/// ```swift
/// var parser = RESPParser()
/// parser.feed(data)  // the Span<UInt8> that dataReceived(_:loop:) lends
/// while let reply = try parser.next() { handle(reply) }
/// ```
/// Values are owned copies, valid after more bytes are fed.
public struct RESPParser: Sendable {
    /// The limits this parser enforces.
    public let limits: RESPLimits

    var buffer: [UInt8] = []
    var readIndex = 0
    /// Bytes of the pending line, after its type byte, already known to hold no CR or LF (for an
    /// integer line: its sign and the digits read so far, whose value is `pendingMagnitude`).
    var scanned = 0
    var pendingMagnitude: UInt64 = 0
    /// Significant digits in `pendingMagnitude` (leading zeros do not count).
    var pendingSignificant = 0
    var stack: [Frame] = []
    var failure: RESPError?

    /// Creates a parser with the given limits.
    public init(limits: RESPLimits = RESPLimits()) {
        self.limits = limits
    }

    /// The number of fed bytes not yet consumed by a returned value (partial elements included).
    public var bufferedByteCount: Int {
        buffer.count - readIndex
    }

    /// Appends bytes received from the peer, copying them once into the parser's buffer (the span
    /// is only borrowed).
    ///
    /// This is how a protocol's `dataReceived(_:loop:)` feeds the bytes the transport lends it.
    public mutating func feed(_ bytes: Span<UInt8>) {
        compact()
        // SAFETY: the pointer is only read by `append`, inside the closure that lends it.
        bytes.withUnsafeBufferPointer { buffer.append(contentsOf: $0) }
    }

    /// Appends bytes the caller holds as an array; see the `Span` overload.
    public mutating func feed(_ bytes: [UInt8]) {
        feed(bytes.span)
    }

    /// Returns the next complete top-level value, or nil if more bytes are needed.
    ///
    /// Push frames (`>`) are returned like any other reply; a client tells them apart by case.
    /// - Throws: ``RESPError`` when the input breaks the protocol or a limit. The parser is then
    ///   poisoned and throws the same error on every later call.
    public mutating func next() throws(RESPError) -> RESPValue? {
        if let failure {
            throw failure
        }
        let bytes = buffer  // a retain, not a copy: `buffer` is not mutated while parsing
        do {
            // SAFETY: the pointer is used only inside the closure, while `bytes` keeps the storage
            // alive and unmutated; every index is checked against `input.count` before it is read,
            // and values copy their bytes out (`copy`) before the closure returns.
            return try bytes.withUnsafeBufferPointer { (input) throws(RESPError) -> RESPValue? in
                try parse(input)
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Drops consumed bytes so the buffer does not grow with the stream.
    private mutating func compact() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= 4096 && readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    /// What parsing one element produced.
    enum Step {
        /// The element has not fully arrived; `readIndex` still points at its type byte.
        case incomplete
        /// An aggregate header was consumed and its frame pushed.
        case opened
        /// A complete value was consumed.
        case value(RESPValue)
    }

    /// Parses elements from `readIndex` until a top-level value completes or the input runs out.
    private mutating func parse(_ input: UnsafeBufferPointer<UInt8>) throws(RESPError) -> RESPValue? {
        while true {
            // Step 1: one element, whole, or nothing if incomplete (readIndex stays on its type byte).
            var value: RESPValue
            switch try parseElement(input) {
            case .incomplete:
                return nil
            case .opened:
                continue  // an aggregate header: its frame was pushed, parse its first element
            case .value(let element):
                value = element
            }
            // Step 2: hand the value up the stack until a frame still wants more, or it is top-level.
            while !stack.isEmpty {
                let top = stack.count - 1
                guard stack[top].absorb(value) else {
                    break
                }
                let frame = stack.removeLast()
                if frame.kind == .attribute {
                    // The attribute is complete; now wait for the value it describes.
                    stack.append(Frame(attributes: frame.pairs))
                    break
                }
                value = frame.finish()
            }
            if stack.isEmpty {
                return value
            }
        }
    }

    /// Parses the element at `readIndex`: a scalar, or an aggregate header whose frame is pushed.
    ///
    /// Advances `readIndex` past whatever it consumed; consumes nothing if the element is incomplete.
    @inline(__always)
    private mutating func parseElement(_ input: UnsafeBufferPointer<UInt8>) throws(RESPError) -> Step {
        let start = readIndex
        // SAFETY: `input` is read at `start` only after the bounds check; the helpers below check
        // every further index against `input.count` themselves.
        guard start < input.count else {
            return .incomplete
        }
        let type = input[start]
        switch type {
        case UInt8(ascii: "$"):
            guard let (length, header) = try readLength(input, start, allowNull: true) else { return .incomplete }
            if length < 0 {
                return consumed(.nullBulkString, until: header)
            }
            guard let end = try payloadEnd(input, header, length) else { return .incomplete }
            return consumed(.bulkString(copy(input, header, length)), until: end)
        case UInt8(ascii: ":"):
            guard let (value, end) = try readInteger(input, from: start + 1) else { return .incomplete }
            return consumed(.integer(value), until: end)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            let allowNull = type == UInt8(ascii: "*")
            guard let (count, header) = try readCount(input, start, allowNull: allowNull) else { return .incomplete }
            if count < 0 {
                return consumed(.nullArray, until: header)
            }
            let empty = try openAggregate(type: type, count: count)
            readIndex = header
            scanned = 0
            guard let empty else {
                return .opened
            }
            return .value(empty)
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ","), UInt8(ascii: "("), UInt8(ascii: "#"),
            UInt8(ascii: "_"):
            guard let lineEnd = try findLineEnd(input, from: start + 1) else { return .incomplete }
            let value = try lineValue(type: type, input, start + 1, lineEnd)
            return consumed(value, until: lineEnd + 2)
        case UInt8(ascii: "!"), UInt8(ascii: "="):
            guard let (length, header) = try readLength(input, start, allowNull: false) else { return .incomplete }
            guard let end = try payloadEnd(input, header, length) else { return .incomplete }
            if type == UInt8(ascii: "!") {
                return consumed(.blobError(copy(input, header, length)), until: end)
            }
            guard length >= 4, input[header + 3] == UInt8(ascii: ":") else {
                throw .invalidVerbatimString
            }
            let format = RESPVerbatimFormat(input[header], input[header + 1], input[header + 2])
            return consumed(.verbatimString(format: format, text: copy(input, header + 4, length - 4)), until: end)
        default:
            throw .unknownType(type)
        }
    }

    /// Marks the bytes up to `end` consumed and returns `value` as the step's result.
    @inline(__always)
    private mutating func consumed(_ value: consuming RESPValue, until end: Int) -> Step {
        readIndex = end
        scanned = 0
        return .value(value)
    }

    /// Pushes the frame for an aggregate header, or returns the value at once if it is empty.
    private mutating func openAggregate(type: UInt8, count: Int) throws(RESPError) -> RESPValue? {
        // Every aggregate, empty or not, is one level of nesting.
        guard stack.count < limits.maxDepth else {
            throw .depthExceeded(limit: limits.maxDepth)
        }
        let kind = Frame.Kind(typeByte: type)
        if count == 0 {
            switch kind {
            case .array: return .array([])
            case .set: return .set([])
            case .push: return .push([])
            case .map: return .map([])
            case .attribute, .attributed:
                stack.append(Frame(attributes: []))
                return nil
            }
        }
        stack.append(Frame(kind: kind, count: count))
        return nil
    }

    /// Returns the end of a `length`-byte payload at `start` plus its CRLF, or nil if incomplete.
    private func payloadEnd(
        _ input: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        _ length: Int
    ) throws(RESPError) -> Int? {
        // SAFETY: `input` is read at `crIndex` and `crIndex + 1` only after checking them against its count.
        let crIndex = start + length
        guard crIndex + 2 <= input.count else {
            if crIndex < input.count && input[crIndex] != 13 {
                throw .missingCRLFAfterPayload
            }
            return nil
        }
        guard input[crIndex] == 13, input[crIndex + 1] == 10 else {
            throw .missingCRLFAfterPayload
        }
        return crIndex + 2
    }

    /// Copies `count` bytes at `start` into a new owned array.
    @inline(__always)
    private func copy(_ input: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> [UInt8] {
        // SAFETY: callers pass a range that `payloadEnd` or `findLineEnd` found inside `input`.
        Array(UnsafeBufferPointer(rebasing: input[start..<(start + count)]))
    }
}

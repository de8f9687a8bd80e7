// Commands of one to four arguments, the ones a client sends most (`GET k`, `SET k v`, `PUBLISH c
// m`, `HSET h f v`), encoded in one pass.
//
// Two things made the general `encodeCommand` slow per command. A parameter pack is specialized as
// a whole, but the calls made for each of its elements are not: `appendBulk` ran unspecialized,
// with its type looked up at run time, for every argument. And appending byte by byte to an array
// checks its uniqueness and capacity for every byte of every header. These overloads, which Swift
// prefers to the pack when the count matches, take the sizes first (`respPayloadCount`), write
// headers and payloads through a pointer (`copyRESPPayload`), and append the command in one copy.

extension RESPEncoder {
    /// Appends a command of 1 argument (the name counts), as an array of bulk strings.
    @inlinable
    public static func encodeCommand<A: RESPCommandArgument>(
        _ first: A,
        into buffer: inout [UInt8]
    ) {
        let size = first.respPayloadCount
        appendWritten(headerSize(1) + bulkSize(size), to: &buffer) { writer in
            writer.header(count: 1)
            writer.bulk(first, size: size)
        }
    }

    /// Appends a command of 2 arguments (the name counts), as an array of bulk strings.
    @inlinable
    public static func encodeCommand<A: RESPCommandArgument, B: RESPCommandArgument>(
        _ first: A,
        _ second: B,
        into buffer: inout [UInt8]
    ) {
        let sizes = (first.respPayloadCount, second.respPayloadCount)
        appendWritten(headerSize(2) + bulkSize(sizes.0) + bulkSize(sizes.1), to: &buffer) { writer in
            writer.header(count: 2)
            writer.bulk(first, size: sizes.0)
            writer.bulk(second, size: sizes.1)
        }
    }

    /// Appends a command of 3 arguments (the name counts), as an array of bulk strings.
    @inlinable
    public static func encodeCommand<A: RESPCommandArgument, B: RESPCommandArgument, C: RESPCommandArgument>(
        _ first: A,
        _ second: B,
        _ third: C,
        into buffer: inout [UInt8]
    ) {
        let sizes = (first.respPayloadCount, second.respPayloadCount, third.respPayloadCount)
        let total = headerSize(3) + bulkSize(sizes.0) + bulkSize(sizes.1) + bulkSize(sizes.2)
        appendWritten(total, to: &buffer) { writer in
            writer.header(count: 3)
            writer.bulk(first, size: sizes.0)
            writer.bulk(second, size: sizes.1)
            writer.bulk(third, size: sizes.2)
        }
    }

    /// Appends a command of 4 arguments (the name counts), as an array of bulk strings.
    @inlinable
    public static func encodeCommand<
        A: RESPCommandArgument,
        B: RESPCommandArgument,
        C: RESPCommandArgument,
        D: RESPCommandArgument
    >(
        _ first: A,
        _ second: B,
        _ third: C,
        _ fourth: D,
        into buffer: inout [UInt8]
    ) {
        let sizes = (first.respPayloadCount, second.respPayloadCount, third.respPayloadCount, fourth.respPayloadCount)
        let total = headerSize(4) + bulkSize(sizes.0) + bulkSize(sizes.1) + bulkSize(sizes.2) + bulkSize(sizes.3)
        appendWritten(total, to: &buffer) { writer in
            writer.header(count: 4)
            writer.bulk(first, size: sizes.0)
            writer.bulk(second, size: sizes.1)
            writer.bulk(third, size: sizes.2)
            writer.bulk(fourth, size: sizes.3)
        }
    }

    /// The size of `*count\r\n`.
    @inlinable
    static func headerSize(_ count: Int) -> Int { decimalCount(Int64(count)) + 3 }

    /// The size of `$size\r\n`, `size` payload bytes and `\r\n`.
    @inlinable
    static func bulkSize(_ size: Int) -> Int { decimalCount(Int64(size)) + 5 + size }

    /// Lets `write` fill exactly `count` bytes through a pointer, then appends them to `buffer` in
    /// one copy (one growth check, geometric growth as any append).
    ///
    /// The bytes are assembled in a temporary allocation (on the stack for a small command), since
    /// an array can only grow by initialized elements: growing it first by zeros cost more than
    /// the whole encoding.
    @inlinable
    static func appendWritten(_ count: Int, to buffer: inout [UInt8], _ write: (inout RESPRawWriter) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { temporary in
            // SAFETY: the writer stays within the `count` bytes of `temporary`: every size it
            // writes was measured by the caller (`respPayloadCount`), and the precondition stops
            // the program if an argument wrote other than it announced, before anything is read.
            var writer = RESPRawWriter(base: temporary.baseAddress!)
            write(&writer)
            precondition(writer.offset == count, "a RESPCommandArgument wrote other than its respPayloadCount")
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: temporary[..<count]))
        }
    }
}

/// Writes headers and payloads of a command into bytes already reserved for them, with no
/// per-byte checks: the caller measured everything first (`RESPEncoder.appendWritten`).
@usableFromInline
struct RESPRawWriter {
    @usableFromInline let base: UnsafeMutablePointer<UInt8>
    @usableFromInline var offset = 0

    @inlinable
    init(base: UnsafeMutablePointer<UInt8>) {
        self.base = base
    }

    @inlinable
    mutating func byte(_ value: UInt8) {
        base[offset] = value
        offset += 1
    }

    @inlinable
    mutating func crlf() {
        base[offset] = 13
        base[offset + 1] = 10
        offset += 2
    }

    /// Writes a non-negative count or length as decimal digits.
    @inlinable
    mutating func decimal(_ value: Int) {
        let digits = RESPEncoder.decimalCount(Int64(value))
        RESPEncoder.writeDecimal(Int64(value), digits: digits, to: base + offset)
        offset += digits
    }

    @inlinable
    mutating func header(count: Int) {
        byte(UInt8(ascii: "*"))
        decimal(count)
        crlf()
    }

    @inlinable
    mutating func bulk(_ argument: some RESPCommandArgument, size: Int) {
        byte(UInt8(ascii: "$"))
        decimal(size)
        crlf()
        argument.copyRESPPayload(to: UnsafeMutableRawBufferPointer(start: base + offset, count: size))
        offset += size
        crlf()
    }
}

extension RESPEncoder {
    /// Writes `value` as `digits` decimal characters (its `decimalCount`, sign included) at `target`.
    @inlinable
    static func writeDecimal(_ value: Int64, digits: Int, to target: UnsafeMutablePointer<UInt8>) {
        var magnitude = value.magnitude
        var index = digits - 1
        repeat {
            target[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            index -= 1
        } while magnitude > 0
        if value < 0 { target[0] = UInt8(ascii: "-") }
    }
}

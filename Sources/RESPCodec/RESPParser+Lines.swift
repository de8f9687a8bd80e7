// MARK: - Lines: integers, lengths, and the scalars that fit on one line

extension RESPParser {
    /// Reads a bulk length header (`$5\r\n`) at `start`, checked against `maxBulkLength`.
    ///
    /// Returns the length (-1 for a RESP2 null when `allowNull`) and the index after the CRLF, or
    /// nil if the line is incomplete.
    @inline(__always)
    mutating func readLength(
        _ input: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        allowNull: Bool
    ) throws(RESPError) -> (Int, Int)? {
        guard let (length, end) = try readInteger(input, from: start + 1) else {
            return nil
        }
        guard length >= 0 else {
            guard length == -1 && allowNull else {
                throw .negativeLength(length)
            }
            return (-1, end)
        }
        guard length <= Int64(limits.maxBulkLength) else {
            throw .bulkTooLarge(length: length, limit: limits.maxBulkLength)
        }
        return (Int(length), end)
    }

    /// Reads an aggregate count header (`*3\r\n`) at `start`, checked against `maxAggregateCount`.
    @inline(__always)
    mutating func readCount(
        _ input: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        allowNull: Bool
    ) throws(RESPError) -> (Int, Int)? {
        guard let (count, end) = try readInteger(input, from: start + 1) else {
            return nil
        }
        guard count >= 0 else {
            guard count == -1 && allowNull else {
                throw .negativeLength(count)
            }
            return (-1, end)
        }
        guard count <= Int64(limits.maxAggregateCount) else {
            throw .aggregateTooLarge(count: count, limit: limits.maxAggregateCount)
        }
        return (Int(count), end)
    }

    /// Reads `[+-]?[0-9]+\r\n` starting at `start`; returns the value and the index after the CRLF.
    ///
    /// Returns nil if the input ends first (and the line is still within `maxLineLength`).
    /// - Throws: `invalidInteger` for an empty line, a sign alone or a non-digit; `integerOverflow`
    ///   past 64 bits; `invalidLineEnding` for CR not followed by LF; `lineTooLong`.
    @inline(__always)
    mutating func readInteger(_ input: UnsafeBufferPointer<UInt8>, from start: Int) throws(RESPError) -> (Int64, Int)? {
        // SAFETY: `input` is read only at indices checked against `end` (its count) just before.
        let end = input.count
        guard start < end else {
            return nil
        }
        let negative = input[start] == UInt8(ascii: "-")
        let digitsStart = negative || input[start] == UInt8(ascii: "+") ? start + 1 : start
        // Resume where the previous call for this pending line stopped (`scanned`, with the digits'
        // value so far), so a long run of leading zeros fed byte by byte is read once, not once
        // per feed. Accumulate unchecked: 19 significant digits always fit in a UInt64 (< 10^19 <
        // 2^64), so one compare per digit replaces two overflow checks; the sign is applied once at
        // the end.
        var index = max(start + scanned, digitsStart)
        var magnitude = scanned > 0 ? pendingMagnitude : 0
        var significant = scanned > 0 ? pendingSignificant : 0
        // The scan stops one byte past the line limit, so which error a long line gets (overflow or
        // `lineTooLong`) depends only on its bytes, never on how much of it has arrived.
        let scanEnd = min(end, start + limits.maxLineLength + 1)
        while index < scanEnd {
            let digit = input[index] &- UInt8(ascii: "0")
            if digit > 9 {
                break
            }
            magnitude = magnitude &* 10 &+ UInt64(digit)
            if magnitude != 0 {
                significant &+= 1
                if significant > 19 {
                    throw .integerOverflow
                }
            }
            index += 1
        }
        scanned = index - start
        pendingMagnitude = magnitude
        pendingSignificant = significant
        let value: Int64
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else {
                throw .integerOverflow
            }
            value = Int64(truncatingIfNeeded: 0 &- magnitude)
        } else {
            guard magnitude <= UInt64(Int64.max) else {
                throw .integerOverflow
            }
            value = Int64(magnitude)
        }
        // Leading zeros never overflow, so the line limit is what stops `:000…` from running forever.
        guard index - start <= limits.maxLineLength else {
            throw .lineTooLong(limit: limits.maxLineLength)
        }
        guard index < end else {
            return nil
        }
        guard index > digitsStart, input[index] == 13 else {
            throw input[index] == 10 ? .invalidLineEnding : .invalidInteger
        }
        guard index + 1 < end else {
            return nil
        }
        guard input[index + 1] == 10 else {
            throw .invalidLineEnding
        }
        return (value, index + 2)
    }

    /// Finds the CR of the CRLF ending the line that starts at `start`, or nil if it has not arrived.
    ///
    /// Resumes where the previous call for the same pending line stopped (`scanned`), so an endless
    /// line fed in small pieces is searched once, and fails once it passes `maxLineLength`.
    mutating func findLineEnd(_ input: UnsafeBufferPointer<UInt8>, from start: Int) throws(RESPError) -> Int? {
        let maxLength = limits.maxLineLength
        // SAFETY: `input` is read only below `stop` and `input.count`, each checked before the read.
        // Look at no more than one byte past the longest allowed line.
        let stop = min(input.count, start + maxLength + 1)
        var index = start + scanned
        while index < stop {
            let byte = input[index]
            if byte == 13 || byte == 10 {
                break
            }
            index += 1
        }
        guard index < stop else {
            guard index - start <= maxLength else {
                throw .lineTooLong(limit: maxLength)
            }
            scanned = index - start
            return nil
        }
        guard input[index] == 13 else {
            throw .invalidLineEnding  // a bare LF
        }
        guard index + 1 < input.count else {
            scanned = index - start
            return nil
        }
        guard input[index + 1] == 10 else {
            throw .invalidLineEnding
        }
        return index
    }

    /// Builds the value of a one-line type from its content `input[start..<end]`.
    func lineValue(
        type: UInt8,
        _ input: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        _ end: Int
    ) throws(RESPError) -> RESPValue {
        // SAFETY: `start..<end` is the line `findLineEnd` found inside `input`; the view does not
        // outlive `input`, and `Array(line)` copies out what a value keeps.
        let line = UnsafeBufferPointer(rebasing: input[start..<end])
        switch type {
        case UInt8(ascii: "+"):
            return .simpleString(Array(line))
        case UInt8(ascii: "-"):
            return .simpleError(Array(line))
        case UInt8(ascii: "#"):
            guard line.count == 1 else {
                throw .invalidBoolean
            }
            switch line[0] {
            case UInt8(ascii: "t"): return .boolean(true)
            case UInt8(ascii: "f"): return .boolean(false)
            default: throw .invalidBoolean
            }
        case UInt8(ascii: "_"):
            guard line.isEmpty else {
                throw .invalidNull
            }
            return .null
        case UInt8(ascii: ","):
            return .double(try Self.parseDouble(line))
        default:  // "("
            guard Self.isSignedDigits(line) else {
                throw .invalidBigNumber
            }
            return .bigNumber(String(decoding: line, as: UTF8.self))
        }
    }

    /// Parses a RESP3 double: `[+-]?inf`, `nan`, or `[+-]?digits[.digits][(e|E)[+-]?digits]`.
    ///
    /// The grammar is checked by hand first, because the standard library's parser also accepts
    /// hexadecimal floats, `infinity` and other spellings that RESP does not allow.
    static func parseDouble(_ line: UnsafeBufferPointer<UInt8>) throws(RESPError) -> Double {
        var index = 0
        if index < line.count && (line[index] == UInt8(ascii: "-") || line[index] == UInt8(ascii: "+")) {
            index += 1
        }
        // SAFETY: `index` is 0 or 1 and at most `line.count`, so the rebased view lies inside `line`.
        let rest = UnsafeBufferPointer(rebasing: line[index...])
        if rest.elementsEqual("inf".utf8) {
            return line[0] == UInt8(ascii: "-") ? -.infinity : .infinity
        }
        if line.elementsEqual("nan".utf8) {
            return .nan
        }
        // digits [. digits] [e [sign] digits]
        func digits(_ index: inout Int) -> Bool {
            let start = index
            while index < line.count && line[index] &- UInt8(ascii: "0") <= 9 {
                index += 1
            }
            return index > start
        }
        guard digits(&index) else {
            throw .invalidDouble
        }
        if index < line.count && line[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&index) else {
                throw .invalidDouble
            }
        }
        if index < line.count && (line[index] | 0x20) == UInt8(ascii: "e") {
            index += 1
            if index < line.count && (line[index] == UInt8(ascii: "-") || line[index] == UInt8(ascii: "+")) {
                index += 1
            }
            guard digits(&index) else {
                throw .invalidDouble
            }
        }
        guard index == line.count, let value = Double(String(decoding: line, as: UTF8.self)) else {
            throw .invalidDouble
        }
        return value
    }

    /// Whether `line` is an optional sign followed by at least one decimal digit.
    static func isSignedDigits(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        if index < line.count && (line[index] == UInt8(ascii: "-") || line[index] == UInt8(ascii: "+")) {
            index += 1
        }
        guard index < line.count else {
            return false
        }
        return line[index...].allSatisfy { $0 &- UInt8(ascii: "0") <= 9 }
    }
}

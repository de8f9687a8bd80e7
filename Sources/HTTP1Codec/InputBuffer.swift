// The bytes a parser has been fed and not yet consumed, and the one place where bytes are
// copied: a head (or trailer section) that arrives split over several feeds.

/// Where a CRLF CRLF matcher starts: at the start of a head, where empty lines are skipped.
let headStartMatch: UInt8 = 4
/// Where a CRLF CRLF matcher starts: inside a line (a status line, where no empty line may come first).
let inLineMatch: UInt8 = 0
/// Where a CRLF CRLF matcher starts: just after a CRLF, so that one more CRLF ends the section
/// (a trailer section, which may be empty).
let afterCRLFMatch: UInt8 = 2

/// A complete section (head or trailers): where its bytes are, without copying them.
struct Section {
    /// The array that holds the section: the caller's feed, or the carry buffer.
    var storage: [UInt8]
    /// Where the section starts in ``storage``.
    var offset: Int
    /// The section's length, final CRLF included.
    var length: Int
}

/// Unconsumed input: the array of the last feed (the caller's own array, or the one copy of a
/// borrowed span), plus a carry buffer for a section that started in an earlier feed.
///
/// Invariant: while ``carry`` is not empty, it holds the start of one section (a head or a trailer
/// section) and no byte after that section's end; it never holds body bytes. So body bytes are
/// always handed out as slices of what the caller fed.
struct InputBuffer {
    /// The last fed bytes; `start..<end` are unconsumed.
    var storage: [UInt8] = []
    var start = 0
    var end = 0
    /// The start of a section that did not fit in one feed.
    var carry: [UInt8] = []
    /// The state of the CRLF CRLF matcher after the last byte of ``carry``.
    var match: UInt8 = 0
    /// The length ``carry`` had when the section parser last ran on it (doubling schedule).
    var parsedLength = 0
    /// Whether the caller said the stream ended.
    var eof = false

    /// Whether no fed byte is left outside the carry buffer.
    var isEmpty: Bool { start == end }

    /// Takes `new` as the input, keeping the array itself (no copy), when every byte fed before
    /// was consumed; otherwise appends a copy of it to the unconsumed rest.
    mutating func feed(_ new: [UInt8]) {
        if start == end {
            storage = new
            start = 0
            end = new.count
        } else {
            feed(new.span)
        }
    }

    /// Copies the borrowed bytes in `new`, once: into a fresh array sized to them when every byte
    /// fed before was consumed (heads and body slices handed out earlier keep the old array), else
    /// after the unconsumed rest.
    mutating func feed(_ new: Span<UInt8>) {
        guard !new.isEmpty else { return }
        if start == end {
            storage = new.withUnsafeBufferPointer { Array($0) }
            start = 0
            end = storage.count
        } else {
            var joined = [UInt8]()
            joined.reserveCapacity(end - start + new.count)
            joined.append(contentsOf: storage[start..<end])
            new.withUnsafeBufferPointer { joined.append(contentsOf: $0) }
            storage = joined
            start = 0
            end = joined.count
        }
    }

    /// Removes and returns up to `limit` unconsumed bytes, as a slice of the fed array.
    @inline(__always)
    mutating func take(upTo limit: Int) -> ArraySlice<UInt8> {
        let count = min(limit, end - start)
        let piece = storage[start..<start + count]
        start += count
        return piece
    }

    /// Removes and returns the next unconsumed byte.
    @inline(__always)
    mutating func popFirst() -> UInt8? {
        guard start < end else { return nil }
        let b = storage[start]
        start += 1
        return b
    }

    /// Advances a CRLF CRLF matcher by one byte; state 0 means "in a line", 1 "CR", 2 "CRLF",
    /// 3 "CRLF CR", 4 "start of a head", 5 "CR at the start of a head", 6 "found".
    @inline(__always)
    static func step(_ state: UInt8, _ b: UInt8) -> UInt8 {
        switch (state, b) {
        case (4, ASCII.cr): 5
        case (5, ASCII.lf): 4
        case (2, ASCII.cr): 3
        case (3, ASCII.lf): 6
        case (_, ASCII.cr): 1
        case (1, ASCII.lf): 2
        default: 0
        }
    }

    /// Returns the next complete section, parsed by `parse`, or nil when more bytes are needed.
    ///
    /// `parse` gets the bytes of the section so far (offsets start at 0) and returns the section's
    /// length when it is complete, nil when it needs more bytes, or throws. The fast path parses
    /// straight from the feed; only a section split across feeds is copied, into ``carry``, and it
    /// is parsed again only when a CRLF CRLF arrives, when ``carry`` doubled in length (so a peer
    /// trickling bytes costs amortised linear time), or when `limit` is crossed (then the section
    /// is `.headTooLarge` unless `parse` found an earlier error: the same result as unsplit input).
    @inline(__always)
    mutating func nextSection(
        initialMatch: UInt8,
        limit: Int,
        _ parse: (UnsafePointer<UInt8>, Int) throws(HTTPParseError) -> Int?
    ) throws(HTTPParseError) -> Section? {
        if carry.isEmpty {
            guard start < end else { return nil }
            let (s, e) = (start, end)
            let length = try storage.withUnsafeBufferPointer { buffer throws(HTTPParseError) in
                // SAFETY: s..<e is within the array (feed keeps start <= end <= count), so the
                // pointer and the count handed to `parse` stay inside the buffer.
                try parse(buffer.baseAddress! + s, e - s)
            }
            if let length {
                let section = Section(storage: storage, offset: start, length: length)
                start += length
                return section
            }
            // The section continues in a later feed: keep its start (within the limit) and
            // remember the matcher state at its end.
            if end - start > limit { throw .headTooLarge }
            carry = Array(storage[start..<end])
            start = end
            match = initialMatch
            for b in carry { match = Self.step(match, b) }
            parsedLength = carry.count
            return nil
        }
        // Continue a carried section: look for its end in the new bytes only.
        var taken = 0
        var found = false
        while start + taken < end {
            match = Self.step(match, storage[start + taken])
            taken += 1
            if match == 6 {
                found = true
                break
            }
            if carry.count + taken > limit { break }
        }
        carry.append(contentsOf: storage[start..<start + taken])
        start += taken
        guard found || carry.count > limit || carry.count >= 2 * parsedLength || eof else { return nil }
        let length = try carry.withUnsafeBufferPointer { buffer throws(HTTPParseError) in
            // SAFETY: the pointer and count describe exactly the carry array's elements; an empty
            // carry is impossible here (this branch runs only when carry is not empty).
            try parse(buffer.baseAddress!, buffer.count)
        }
        guard let length else {
            // A CRLF CRLF may arrive before the parser can decide (a status line shorter than
            // its fixed 13 bytes); it then decides on a later attempt, as it would unsplit.
            if carry.count > limit { throw .headTooLarge }
            parsedLength = carry.count
            return nil
        }
        if length < carry.count {
            // The section ended before the carry does (only possible after such an undecided
            // CRLF CRLF): give the bytes after it back to the input, from this feed.
            let excess = carry.count - length
            precondition(excess <= taken, "HTTP1Codec: section parser disagrees with CRLF CRLF matcher")
            start -= excess
            carry.removeLast(excess)
        }
        let section = Section(storage: carry, offset: 0, length: length)
        carry = []
        return section
    }

    /// Whether every byte left is CR or LF: what a client may send between requests (RFC 9112 §2.2).
    var onlyEmptyLinesLeft: Bool {
        carry.allSatisfy { $0 == ASCII.cr || $0 == ASCII.lf }
            && storage[start..<end].allSatisfy { $0 == ASCII.cr || $0 == ASCII.lf }
    }

    /// Everything fed and not consumed, for a caller that takes over the connection (Upgrade).
    mutating func takeAll() -> [UInt8] {
        let all = carry + storage[start..<end]
        carry = []
        start = end
        return all
    }
}

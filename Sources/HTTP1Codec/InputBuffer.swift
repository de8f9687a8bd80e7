// The bytes a parser has been fed and not yet consumed, and the one place where bytes are
// copied: a head (or trailer section) that arrives split over several feeds.

/// Where a CRLF CRLF matcher starts: at the start of a head, where empty lines are skipped.
let headStartMatch: UInt8 = 4
/// Where a CRLF CRLF matcher starts: inside a line (a status line, where no empty line may come first).
let inLineMatch: UInt8 = 0
/// Where a CRLF CRLF matcher starts: just after a CRLF, so that one more CRLF ends the section
/// (a trailer section, which may be empty).
let afterCRLFMatch: UInt8 = 2

/// Unconsumed input: a zero-copy slice of the caller's last feed, plus a carry buffer for a
/// section that started in an earlier feed.
///
/// Invariant: while ``carry`` is not empty, it holds the start of one section (a head or a trailer
/// section) and no byte after that section's end; it never holds body bytes. So body bytes are
/// always handed out as slices of what the caller fed.
struct InputBuffer {
    /// The unconsumed bytes of the caller's feeds, not copied.
    var bytes: ArraySlice<UInt8> = []
    /// The start of a section that did not fit in one feed.
    var carry: [UInt8] = []
    /// The state of the CRLF CRLF matcher after the last byte of ``carry``.
    var match: UInt8 = 0
    /// The length ``carry`` had when the section parser last ran on it (doubling schedule).
    var parsedLength = 0
    /// Whether the caller said the stream ended.
    var eof = false

    /// Appends the caller's bytes, copying only when unconsumed bytes are still pending.
    mutating func feed(_ new: ArraySlice<UInt8>) {
        if bytes.isEmpty {
            bytes = new
        } else {
            var joined = [UInt8]()
            joined.reserveCapacity(bytes.count + new.count)
            joined.append(contentsOf: bytes)
            joined.append(contentsOf: new)
            bytes = joined[...]
        }
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
    /// trickling bytes costs amortised linear time), or when `limit` is crossed (then `parse` must
    /// throw: the caller passes the limit that its `parse` enforces).
    mutating func nextSection(
        initialMatch: UInt8,
        limit: Int,
        _ parse: (UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Int?
    ) throws(HTTPParseError) -> ArraySlice<UInt8>? {
        if carry.isEmpty {
            guard !bytes.isEmpty else { return nil }
            let length = try bytes.withUnsafeBufferPointer { buffer throws(HTTPParseError) in try parse(buffer) }
            if let length {
                let section = bytes.prefix(length)
                bytes = bytes.dropFirst(length)
                return section
            }
            // The section continues in a later feed: keep its start (within the limit, which
            // `parse` enforced) and remember the matcher state at its end.
            carry = Array(bytes)
            bytes = []
            match = initialMatch
            for b in carry { match = Self.step(match, b) }
            parsedLength = carry.count
            return nil
        }
        // Continue a carried section: look for its end in the new bytes only.
        var taken = 0
        var found = false
        for b in bytes {
            taken += 1
            match = Self.step(match, b)
            if match == 6 {
                found = true
                break
            }
            if carry.count + taken > limit { break }
        }
        carry.append(contentsOf: bytes.prefix(taken))
        bytes = bytes.dropFirst(taken)
        guard found || carry.count > limit || carry.count >= 2 * parsedLength || eof else { return nil }
        let length = try carry.withUnsafeBufferPointer { buffer throws(HTTPParseError) in try parse(buffer) }
        guard let length else {
            precondition(!found && carry.count <= limit, "HTTP1Codec: section parser disagrees with CRLF CRLF matcher")
            parsedLength = carry.count
            return nil
        }
        precondition(length == carry.count, "HTTP1Codec: section parser disagrees with CRLF CRLF matcher")
        let section = carry[...]
        carry = []
        return section
    }

    /// Whether every byte left is CR or LF: what a client may send between requests (RFC 9112 §2.2).
    var onlyEmptyLinesLeft: Bool {
        carry.allSatisfy { $0 == ASCII.cr || $0 == ASCII.lf } && bytes.allSatisfy { $0 == ASCII.cr || $0 == ASCII.lf }
    }

    /// Everything fed and not consumed, for a caller that takes over the connection (Upgrade).
    mutating func takeAll() -> [UInt8] {
        let all = carry + Array(bytes)
        carry = []
        bytes = []
        return all
    }
}

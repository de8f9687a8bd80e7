// MARK: - readUntil

extension StreamReader {
    /// Reads until `separator` and returns the data with the separator at its end.
    ///
    /// - Parameter separator: the bytes to look for (at least one); `\n` by default.
    /// - Throws: `AsyncIOError.incompleteRead(partial:expected: nil)` at EOF without the separator
    ///   (the buffer is emptied into `partial`, which may end with part of the separator);
    ///   `AsyncIOError.limitOverrun(consumed:)` when more than `limit` bytes come before the
    ///   separator — the data stays buffered so it can be read another way;
    ///   `AsyncIOError.invalidArgument` for an empty separator; the error given to `setException`;
    ///   `CancelledError`. Mirrors `readuntil(separator=b'\n')`.
    public func readUntil(_ separator: [UInt8] = [0x0A]) async throws -> [UInt8] {
        guard !separator.isEmpty else {
            throw AsyncIOError.invalidArgument("Separator should be at least one-byte string")
        }
        return try await readUntil(sortedSeparators: [separator], caller: "readUntil")
    }

    /// Reads until any of `separators` and returns the shortest data that ends with one of them.
    ///
    /// When two separators end at the same byte, the shorter one is the match (and counts for
    /// `limitOverrun`).
    ///
    /// - Throws: as `readUntil(_:)`; `AsyncIOError.invalidArgument` if `separators` or one of them
    ///   is empty. Mirrors `readuntil(separator=(b'\r\n', b'\n'))` (Python 3.13).
    public func readUntil(anyOf separators: [[UInt8]]) async throws -> [UInt8] {
        guard !separators.isEmpty else {
            throw AsyncIOError.invalidArgument("Separator should contain at least one element")
        }
        let sorted = separators.sorted { $0.count < $1.count }
        guard !sorted[0].isEmpty else {
            throw AsyncIOError.invalidArgument("Separator should be at least one-byte string")
        }
        return try await readUntil(sortedSeparators: sorted, caller: "readUntil")
    }

    /// The search loop shared by `readUntil` and `readLine`; `separators` are non-empty, shortest first.
    ///
    /// `offset` counts the leading buffered bytes known not to hold the start of any separator. It
    /// survives the waits for more data, so a long line arriving in many small pieces is scanned
    /// once, not once per piece: the search resumes `maxLength - 1` bytes before the old end, so a
    /// separator split across two feeds is still found.
    func readUntil(sortedSeparators separators: [[UInt8]], caller: String) async throws -> [UInt8] {
        if let error { throw error }
        let minLength = separators[0].count
        let maxLength = separators[separators.count - 1].count
        var offset = 0
        var match: (start: Int, end: Int)?
        while true {
            let count = buffer.count
            if count - offset >= minLength {
                for separator in separators {
                    guard let start = buffer.firstIndex(of: separator, from: offset) else { continue }
                    let end = start + separator.count
                    if match == nil || end < match!.end { match = (start, end) }
                }
                if match != nil { break }
                offset = Swift.max(0, count + 1 - maxLength)
                if offset > limit {
                    throw AsyncIOError.limitOverrun(consumed: offset)
                }
            }
            // A chunk that completes a separator may come with EOF, so EOF is checked only after
            // looking at the buffer.
            if eof {
                throw AsyncIOError.incompleteRead(partial: buffer.takeAll(), expected: nil)
            }
            try await waitForData(caller)
        }
        let (start, end) = match!
        if start > limit {
            throw AsyncIOError.limitOverrun(consumed: start)
        }
        let chunk = buffer.take(end)
        maybeResumeTransport()
        return chunk
    }
}

// MARK: - Lines as an AsyncSequence

extension StreamReader: AsyncSequence {
    public typealias Element = [UInt8]
    public typealias Failure = any Error

    /// Iterates over the lines of a `StreamReader` until EOF.
    ///
    /// Each element is what `readLine()` returns (with its `\n`, except perhaps the last one).
    /// Mirrors `async for line in reader`.
    public struct LineIterator: AsyncIteratorProtocol {
        let reader: StreamReader

        public mutating func next() async throws -> [UInt8]? {
            let line = try await reader.readLine()
            return line.isEmpty ? nil : line
        }

        /// The next line; runs on the caller's executor (the loop), whatever `actor` says.
        ///
        /// `for try await` passes `#isolation`, which is nil in a closure that is not isolated to
        /// the loop (a client callback that does not capture `loop`, for instance). Honouring that
        /// nil (`isolated (any Actor)?`) runs the read as `@concurrent` code whose wake-up was seen
        /// to be lost under load; the iterator is loop-bound and not `Sendable`, so staying on the
        /// caller's executor (the default for a nonisolated async function here) is the sound choice.
        public mutating func next(isolation actor: (any Actor)?) async throws -> [UInt8]? {
            let line = try await reader.readLine()
            return line.isEmpty ? nil : line
        }
    }

    /// The iterator over lines. Mirrors `StreamReader.__aiter__`.
    public func makeAsyncIterator() -> LineIterator {
        LineIterator(reader: self)
    }
}

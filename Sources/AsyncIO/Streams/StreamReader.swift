/// A buffered byte stream that async code reads from: asyncio's `StreamReader`.
///
/// Bytes arrive through `feedData(_:)` (usually from a `StreamReaderProtocol`, i.e. from a
/// transport's `dataReceived`), the end through `feedEOF()`, a failure through `setException(_:)`.
/// The read methods suspend the calling task until enough has arrived. One task at a time may wait
/// for data: a second reader waiting concurrently is an error, as in asyncio.
///
/// The `limit` (64 KiB by default) bounds what `readLine` and `readUntil` accept before the
/// separator, and it is the flow-control threshold: when more than 2 × `limit` bytes are buffered
/// the reader pauses its transport's reading, and it resumes it once a read brings the buffer back
/// to `limit` or below (or when a read has to wait for data).
///
/// A reader belongs to the loop it is used on; it is not `Sendable`. It is also an `AsyncSequence`
/// of lines: `for try await line in reader { … }` reads with `readLine()` until EOF.
///
/// Mirrors `asyncio.StreamReader`. Deviations: bytes are `[UInt8]`; the loop is the one running the
/// waiting task, not an init argument; `feedData` after `feedEOF` throws instead of asserting;
/// `readLine` past the limit throws `AsyncIOError.limitOverrun` (after dropping the data, as
/// asyncio does) where asyncio raises `ValueError`.
public final class StreamReader {
    /// asyncio's `_DEFAULT_LIMIT`: 64 KiB.
    public static let defaultLimit = 65_536

    /// The buffer limit given at creation.
    public let limit: Int

    /// SAFETY (for `@exclusivity(unchecked)`): used on the loop's thread only, and no access to it
    /// calls out of `StreamBuffer` (which calls nothing back).
    @exclusivity(unchecked) var buffer = StreamBuffer()
    var eof = false
    /// Where a read waits for data; made at the first wait, kept for the next ones.
    var waitPoint: WaitPoint?
    var error: (any Error)?
    var transport: (any ReadTransport)?
    var paused = false

    /// Creates a reader with the default 64 KiB limit.
    public init() {
        limit = Self.defaultLimit
    }

    /// Creates a reader with a buffer limit.
    ///
    /// - Parameter limit: the line/chunk limit; reading pauses above twice this many bytes.
    /// - Throws: `AsyncIOError.invalidArgument` if `limit` is not positive. Mirrors
    ///   `StreamReader(limit=…)`.
    public init(limit: Int) throws(AsyncIOError) {
        guard limit > 0 else { throw AsyncIOError.invalidArgument("Limit cannot be <= 0") }
        self.limit = limit
    }

    /// Creates a reader with a limit already known to be positive.
    init(validLimit: Int) {
        limit = validLimit
    }

    // MARK: - Feeding (the protocol side)

    /// The error set with `setException`, if any. Mirrors `exception()`.
    public func exception() -> (any Error)? { error }

    /// Makes every read (the one waiting now and all later ones) throw `error`.
    ///
    /// Mirrors `set_exception()`.
    public func setException(_ error: any Error) {
        self.error = error
        waitPoint?.wake(throwing: error)
    }

    /// Attaches the transport whose reading this reader pauses and resumes.
    ///
    /// - Throws: `AsyncIOError.invalidState` if a transport is already set. Mirrors
    ///   `set_transport()` (which asserts).
    public func setTransport(_ transport: any ReadTransport) throws(AsyncIOError) {
        guard self.transport == nil else { throw AsyncIOError.invalidState("Transport already set") }
        self.transport = transport
    }

    /// Marks the end of the stream and wakes a waiting read. Mirrors `feed_eof()`.
    public func feedEOF() {
        eof = true
        wakeUpWaiter()
    }

    /// True when `feedEOF()` was called and every buffered byte was read. Mirrors `at_eof()`.
    public var atEOF: Bool { eof && buffer.isEmpty }

    /// Appends bytes to the buffer and wakes a waiting read.
    ///
    /// Once more than 2 × `limit` bytes are buffered, the transport's reading is paused.
    ///
    /// - Throws: `AsyncIOError.invalidState` after `feedEOF()`. Mirrors `feed_data()` (which asserts).
    public func feedData(_ data: some Collection<UInt8>) throws(AsyncIOError) {
        guard !eof else { throw AsyncIOError.invalidState("feedData after feedEOF") }
        guard !data.isEmpty else { return }
        buffer.append(contentsOf: data)
        wakeUpWaiter()
        if let transport, !paused, buffer.count > 2 * limit {
            transport.pauseReading()
            paused = true
        }
    }

    private func wakeUpWaiter() {
        waitPoint?.wake()
    }

    /// Resumes the transport once the buffer is back to `limit` bytes or fewer.
    func maybeResumeTransport() {
        if paused && buffer.count <= limit {
            paused = false
            transport?.resumeReading()
        }
    }

    /// Suspends until `feedData`, `feedEOF` or `setException` is called.
    ///
    /// Resumes a paused transport first: waiting for data that cannot arrive would deadlock
    /// (`readExactly(n)` with n > 2 × limit needs this).
    ///
    /// Inlined into the read methods, so that a wait does not allocate one more async frame; its
    /// steps are out-of-line calls, so that the frame a connection idles in stays small.
    @inline(__always)
    func waitForData(_ caller: String) async throws {
        try await readyWaitPoint(caller).suspend()
    }

    @inline(never)
    private func readyWaitPoint(_ caller: String) throws -> WaitPoint {
        if let waitPoint, waitPoint.isBusy {
            throw AsyncIOError.invalidState(
                "\(caller)() called while another task is already waiting for incoming data"
            )
        }
        if paused {
            paused = false
            transport?.resumeReading()
        }
        if let waitPoint, waitPoint.core.isOnLoopThread { return waitPoint }
        let waitPoint = WaitPoint(core: try loopForAwait().core)
        self.waitPoint = waitPoint
        return waitPoint
    }

    // MARK: - Reading

    /// Reads up to `n` bytes; with `n` < 0 (the default, -1), reads until EOF.
    ///
    /// A positive `n` returns as soon as at least one byte is buffered, or `[]` at EOF. `n` == 0
    /// returns `[]` at once. The result is not bounded by `limit`.
    ///
    /// - Throws: the error given to `setException`; `CancelledError`. Mirrors `read(n=-1)`.
    public func read(_ n: Int = -1) async throws -> [UInt8] {
        if let error { throw error }
        if n == 0 { return [] }
        if n < 0 { return try await readToEOF() }
        if buffer.isEmpty && !eof {
            try await waitForData("read")
        }
        return take(n)
    }

    /// Takes up to `n` buffered bytes. Out of line, so that `read`'s frame does not hold its temporaries.
    @inline(never)
    private func take(_ n: Int) -> [UInt8] {
        let data = buffer.take(n)
        maybeResumeTransport()
        return data
    }

    /// Reads limit-sized blocks until EOF, so the transport keeps being paused and resumed rather
    /// than the buffer growing without bound.
    ///
    /// Apart from `read(_:)`, so that the frame of a task idling in `read(n)` (which stays in the
    /// task's allocator) does not hold this loop's state.
    @inline(never)
    private func readToEOF() async throws -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let block = try await read(limit)
            if block.isEmpty { break }
            if all.isEmpty { all = block } else { all.append(contentsOf: block) }
        }
        return all
    }

    /// Reads exactly `n` bytes.
    ///
    /// - Throws: `AsyncIOError.incompleteRead(partial:expected: n)` if EOF comes first (the buffer
    ///   is emptied into `partial`); `AsyncIOError.invalidArgument` if `n` < 0; the error given to
    ///   `setException`; `CancelledError`. Mirrors `readexactly(n)`.
    public func readExactly(_ n: Int) async throws -> [UInt8] {
        guard n >= 0 else { throw AsyncIOError.invalidArgument("readExactly size can not be less than zero") }
        if let error { throw error }
        if n == 0 { return [] }
        while buffer.count < n {
            if eof {
                throw AsyncIOError.incompleteRead(partial: buffer.takeAll(), expected: n)
            }
            try await waitForData("readExactly")
        }
        let data = buffer.take(n)
        maybeResumeTransport()
        return data
    }

    /// Reads one line, up to and including `\n`.
    ///
    /// At EOF it returns what is left without a newline, or `[]` when nothing is left.
    ///
    /// - Throws: `AsyncIOError.limitOverrun` when the line (without its newline) is longer than
    ///   `limit`: the line is dropped from the buffer if its newline is there, otherwise the whole
    ///   buffer is; the error given to `setException`; `CancelledError`. Mirrors `readline()`,
    ///   which raises `ValueError` in that case.
    public func readLine() async throws -> [UInt8] {
        let separator = Self.newline
        do {
            return try await readUntil(sortedSeparators: [separator], caller: "readLine")
        } catch AsyncIOError.incompleteRead(let partial, _) {
            return partial
        } catch AsyncIOError.limitOverrun(let consumed) {
            if buffer.hasPrefix(separator, at: consumed) {
                buffer.removeFirst(consumed + separator.count)
            } else {
                buffer.removeAll()
            }
            maybeResumeTransport()
            throw AsyncIOError.limitOverrun(consumed: consumed)
        }
    }

    static let newline: [UInt8] = [0x0A]
}

extension StreamReader: CustomStringConvertible {
    public var description: String {
        var info = ["StreamReader"]
        if !buffer.isEmpty { info.append("\(buffer.count) bytes") }
        if eof { info.append("eof") }
        if limit != Self.defaultLimit { info.append("limit=\(limit)") }
        if waitPoint?.isBusy == true { info.append("waiter") }
        if let error { info.append("exception=\(error)") }
        if transport != nil { info.append("transport") }
        if paused { info.append("paused") }
        return "<\(info.joined(separator: " "))>"
    }
}

extension StreamReader {
    /// Appends a borrowed view of bytes (a transport's `dataReceived` data); see `feedData(_:)`.
    ///
    /// - Throws: `AsyncIOError.invalidState` after `feedEOF()`.
    public func feedData(_ data: Span<UInt8>) throws(AsyncIOError) {
        try data.withUnsafeBufferPointer { buffer throws(AsyncIOError) in try feedData(buffer) }
    }
}

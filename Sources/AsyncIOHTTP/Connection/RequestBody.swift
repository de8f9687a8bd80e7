import AsyncIO
import HTTPTypes

/// The body of a request, delivered as it arrives: aiohttp's `StreamReader` (`request.content`,
/// the `payload` of the talk's `handle_request`).
///
/// Read it chunk by chunk (`for try await chunk in body`, or ``readAny()``), by size
/// (``read(_:)``), or whole (``readAll(limit:)``). Chunks are slices of what the connection read,
/// not copies. The connection stops reading from the socket while more than
/// ``HTTPServerConfiguration/bodyBufferSize`` bytes wait here, so a handler that reads slowly
/// slows the client down instead of growing the server's memory. For `Expect: 100-continue`, the
/// `100 Continue` goes out when the handler first waits for the body.
///
/// A body that fails (malformed chunked framing, the client gone, no bytes for
/// ``HTTPServerConfiguration/bodyReadTimeout``) throws from every read that needs more bytes.
/// Loop thread only, like everything a handler touches.
public final class RequestBody: AsyncSequence {
    public typealias Element = ArraySlice<UInt8>

    private var chunks: [ArraySlice<UInt8>] = []
    private var head = 0
    /// Bytes received and not yet read.
    public private(set) var bufferedCount = 0
    private var ended: Bool
    /// Why the body failed, if it did.
    private(set) var failure: (any Error)?
    /// Where a reader waits for bytes (none for a body complete from the start).
    private let waiter: WaitPoint?
    /// The connection that feeds this body (nil for a body that was complete from the start).
    private weak var owner: ServerHTTPProtocol?
    /// The trailer fields of a chunked body, once it ended.
    public private(set) var trailers: HTTPFields = [:]

    /// A body that is being received by `owner`.
    init(owner: ServerHTTPProtocol, loop: EventLoop) {
        self.owner = owner
        waiter = WaitPoint(loop: loop)
        ended = false
    }

    /// A body that is complete: `bytes` (possibly none).
    public init(bytes: [UInt8] = []) {
        ended = true
        waiter = nil
        if !bytes.isEmpty {
            chunks = [bytes[...]]
            bufferedCount = bytes.count
        }
    }

    /// True once every byte was read and the body ended. Mirrors `at_eof()`.
    public var isAtEOF: Bool { ended && bufferedCount == 0 && failure == nil }

    // MARK: - Reading

    /// Returns the next chunk as it arrived, waiting for one; nil at the end of the body.
    ///
    /// - Throws: the body's failure (``HTTPError`` for a malformed or timed-out body,
    ///   `CancelledError` when the client went away). Mirrors `readany()`.
    public func readAny() async throws -> ArraySlice<UInt8>? {
        while true {
            if head < chunks.count {
                let chunk = chunks[head]
                chunks[head] = []
                head += 1
                if head == chunks.count {
                    chunks.removeAll(keepingCapacity: true)
                    head = 0
                }
                consumed(chunk.count)
                return chunk
            }
            if let failure { throw failure }
            if ended { return nil }
            try await waitForBytes()
        }
    }

    /// Reads up to `count` bytes (fewer only at the end of the body); all of the body for nil.
    ///
    /// Mirrors `read(n=-1)`.
    public func read(_ count: Int? = nil) async throws -> [UInt8] {
        guard let count else { return try await readAll() }
        var result: [UInt8] = []
        while result.count < count {
            guard var chunk = try await readAny() else { break }
            let wanted = count - result.count
            if chunk.count > wanted {
                // Give back what was not asked for.
                let rest = chunk[(chunk.startIndex + wanted)...]
                chunk = chunk[..<(chunk.startIndex + wanted)]
                unread(rest)
            }
            result.append(contentsOf: chunk)
        }
        return result
    }

    /// Reads the whole body.
    ///
    /// - Parameter limit: the most bytes accepted; more throws ``HTTPError/payloadTooLarge(text:)`` (the
    ///   parser's `HTTPParserLimits.maxBodyLength` applies anyway).
    public func readAll(limit: Int = .max) async throws -> [UInt8] {
        var result: [UInt8] = []
        while let chunk = try await readAny() {
            guard result.count + chunk.count <= limit else { throw HTTPError.payloadTooLarge() }
            result.append(contentsOf: chunk)
        }
        return result
    }

    /// Reads the whole body and drops it.
    public func discard() async throws {
        while try await readAny() != nil {}
    }

    /// Iterates over the chunks of the body as they arrive.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let body: RequestBody

        public mutating func next() async throws -> ArraySlice<UInt8>? {
            try await body.readAny()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: self)
    }

    private func unread(_ rest: ArraySlice<UInt8>) {
        head -= 1
        chunks[head] = rest
        bufferedCount += rest.count
    }

    private func consumed(_ count: Int) {
        bufferedCount -= count
        owner?.bodyConsumed()
    }

    private func waitForBytes() async throws {
        owner?.bodyWaitStarted()
        defer { owner?.bodyWaitEnded() }
        try await waiter?.wait()
    }

    // MARK: - Feeding (the connection)

    /// Adds a chunk the connection read.
    func append(_ chunk: ArraySlice<UInt8>) {
        guard !chunk.isEmpty, !ended else { return }
        chunks.append(chunk)
        bufferedCount += chunk.count
        waiter?.wake()
    }

    /// Ends the body, with the trailers of a chunked one.
    func finish(trailers: HTTPFields) {
        guard !ended else { return }
        ended = true
        self.trailers = trailers
        waiter?.wake()
    }

    /// Fails the body: reads that need more bytes throw `error`.
    func fail(_ error: any Error) {
        guard !ended, failure == nil else { return }
        failure = error
        ended = true
        waiter?.wake(throwing: error)
    }

    /// The connection no longer feeds this body (the exchange ended).
    func detach() {
        owner = nil
        if !ended { fail(HTTPError.badRequest(text: "the request body was abandoned")) }
    }
}

import AsyncIO
import DequeModule
import HTTP1Codec

// Theory of operation
//
// One request/response on one connection, seen from the side that waits: the task that sent the
// request waits here for the head, then whoever reads the body waits here for chunks. The
// connection (a ConnectionProtocol, ClientConnection.swift) produces; this object buffers.
//
//   waitingForHead --head--> body --end--> finished            (the connection is released)
//         \                    \--error/timeout/cancel--> failed (the connection is aborted)
//          \--error/timeout/cancel--> failed
//
// Waiting: one consumer at a time waits on `arrived`, a WaitPoint (AsyncIO's low-level surface:
// no allocation per wait); the producer wakes it after each read it processed. A wake-up is not
// remembered, so the consumer checks its condition, waits, and checks again. A consumer cancelled
// while waiting (asyncio's cancellation or Swift's) aborts the exchange: the response was not read
// to its end, so its connection cannot be reused.
//
// Backpressure: body chunks are slices of the bytes read (no copy). When more than `highWater`
// bytes are buffered, the connection stops reading from the socket; once the consumer has taken
// the buffer down to `lowWater`, reading resumes. A consumer that stops reading thus holds at
// most `highWater` plus one read, and the sock_read timer does not run while reading is paused.
//
// Once `finished`, the exchange no longer refers to its connection (which went back to the pool
// and may carry the next request): the buffered body belongs to the response alone.

/// The waiting side of one request/response exchange.
final class ClientExchange {
    static let highWater = 65_536
    static let lowWater = 16_384

    /// The response head, once it arrived.
    var head: ResponseHead?
    var chunks: Deque<ArraySlice<UInt8>> = []
    var buffered = 0
    /// The whole response arrived (the connection went back to the pool or was closed cleanly).
    private(set) var finished = false
    /// Why the exchange failed; every later wait throws it.
    private(set) var error: (any Error)?
    /// The connection while the response is still arriving; nil once finished or failed.
    var connection: ClientConnection?
    /// Whether any byte of the response arrived (a retry is safe only when none did).
    var receivedAnything = false

    private let arrived: WaitPoint
    /// Reading from the socket is paused because the consumer is behind.
    private(set) var paused = false
    /// When bytes last arrived, and the timers' handles.
    var lastActivity: LoopInstant
    var sockRead: Duration?
    private var totalDeadline: LoopInstant?
    private var readTimer: Handle?
    private var totalTimer: Handle?

    private init(connection: ClientConnection) {
        self.connection = connection
        arrived = WaitPoint(loop: connection.loop)
        lastActivity = connection.loop.time
    }

    /// Starts an exchange on `connection`, with its timers.
    static func start(on connection: ClientConnection, total: LoopInstant?, sockRead: Duration?) -> ClientExchange {
        let exchange = ClientExchange(connection: connection)
        exchange.sockRead = sockRead
        exchange.totalDeadline = total
        if total != nil || sockRead != nil {
            connection.loop.runIsolated(exchange) { exchange, loop in
                exchange.armTimers(total: exchange.totalDeadline, sockRead: exchange.sockRead, loop: loop)
            }
        }
        return exchange
    }

    deinit {
        readTimer?.cancel()
        totalTimer?.cancel()
    }

    /// Whether the exchange is over: the response arrived whole, or it failed.
    var isDone: Bool { finished || error != nil }

    // MARK: - Timers

    /// Arms the total and sock_read timers.
    private func armTimers(total deadline: LoopInstant?, sockRead: Duration?, loop: isolated EventLoop) {
        if let deadline {
            totalTimer = loop.callAt(deadline) { [weak self] in
                self?.fail(ClientError.timeout(.total), loop: loop)
            }
        }
        if let sockRead {
            scheduleReadCheck(at: loop.time + sockRead, loop: loop)
        }
    }

    /// The sock_read timer: fires when no byte arrived for `sockRead` while the client waited for
    /// the server. It re-arms itself instead of being moved on every read (a read only records
    /// the time), and is held off while reading is paused for a slow consumer.
    private func scheduleReadCheck(at when: LoopInstant, loop: isolated EventLoop) {
        readTimer = loop.callAt(when) { [weak self] in
            guard let self, !self.isDone, let sockRead = self.sockRead else { return }
            let now = loop.time
            if self.paused {
                self.scheduleReadCheck(at: now + sockRead, loop: loop)
            } else if now - self.lastActivity >= sockRead {
                self.fail(ClientError.timeout(.sockRead), loop: loop)
            } else {
                self.scheduleReadCheck(at: self.lastActivity + sockRead, loop: loop)
            }
        }
    }

    private func cancelTimers() {
        readTimer?.cancel()
        readTimer = nil
        totalTimer?.cancel()
        totalTimer = nil
    }

    // MARK: - The producer side (the connection, on the loop)

    /// Appends a body chunk; pauses the connection's reading past the high-water mark.
    func append(_ chunk: ArraySlice<UInt8>) {
        guard !chunk.isEmpty else { return }
        chunks.append(chunk)
        buffered += chunk.count
        if buffered > Self.highWater, !paused, let connection {
            paused = true
            connection.pauseReading()
        }
    }

    /// The whole response arrived: the connection is no longer ours.
    func finish(loop: isolated EventLoop) {
        guard !isDone else { return }
        finished = true
        connection = nil
        cancelTimers()
        wake(loop: loop)
    }

    /// The exchange failed: the connection is aborted (its stream can no longer be trusted) and
    /// every wait throws `error`.
    func fail(_ error: any Error, loop: isolated EventLoop) {
        guard !isDone else { return }
        self.error = error
        cancelTimers()
        let connection = self.connection
        self.connection = nil
        connection?.abort(exchange: self)
        wake(loop: loop)
    }

    /// Wakes the waiting consumer, if any.
    func wake(loop: isolated EventLoop) {
        arrived.wake()
    }

    // MARK: - The consumer side

    /// Waits until the head arrived; returns it.
    ///
    /// - Throws: the exchange's error; `CancelledError` (the exchange is then aborted).
    func waitForHead() async throws -> ResponseHead {
        while true {
            if let head { return head }
            if let error { throw error }
            try await waitForProgress()
        }
    }

    /// The next body chunk, or nil at the end of the body.
    ///
    /// - Throws: the exchange's error; `CancelledError` (the exchange is then aborted).
    func nextChunk() async throws -> ArraySlice<UInt8>? {
        while true {
            if let chunk = chunks.popFirst() {
                buffered -= chunk.count
                if paused && buffered <= Self.lowWater {
                    paused = false
                    if let connection {
                        lastActivity = connection.loop.time
                        connection.resumeReading()
                    }
                }
                return chunk
            }
            if finished { return nil }
            if let error { throw error }
            try await waitForProgress()
        }
    }

    private func waitForProgress() async throws {
        do {
            try await arrived.wait()
        } catch {
            // Cancelled while waiting (or a second reader): the response cannot be read to its end.
            abandon()
            throw error
        }
    }

    /// The response is no longer wanted: unless it already arrived whole, its connection is closed.
    ///
    /// Mirrors the connection handling of aiohttp's `ClientResponse.release()` / `close()`.
    func abandon() {
        cancelTimers()
        guard !isDone else { return }
        error = ClientError.serverDisconnected(duringBody: head != nil)
        let connection = self.connection
        self.connection = nil
        connection?.abort(exchange: self)
    }
}

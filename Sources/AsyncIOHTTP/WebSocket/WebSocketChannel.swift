// Theory of operation
//
// One `WebSocketChannel` per upgraded connection, on the server (inside `WebSocketResponse`) and
// the client (inside `ClientWebSocket`). It runs on the connection's loop only: the transport's
// callbacks feed it and the user's tasks on that loop call it.
//
// Input. `received` feeds `WebSocketParser` and `pump` pulls events while fewer than
// `maxQueuedMessages` messages wait in `inbox`: messages are queued, pings answered at once, pongs
// end the heartbeat's deadline, a close frame is answered and ends input. When the inbox is full,
// pumping stops and reading from the socket pauses; `receive` resumes both. So a peer that sends
// faster than the application reads fills one socket read and the queue, no more.
//
// Output. `send` writes a frame to the transport and, when the transport's buffer is over its
// high-water mark (`pauseWriting`), waits until it drains (`resumeWriting`): a peer that never reads
// blocks its senders instead of growing our memory.
//
// Closing (RFC 6455 §7). `state` goes open -> closing (we sent a close frame) -> closed (the peer's
// close arrived, or the connection is lost). A close from the peer is answered with the same code
// and the transport is closed after the answer is flushed. Our `close` sends a frame, drops
// unread messages, and waits up to `closeTimeout` for the peer's; then the transport is closed. A
// protocol error sends the parser's close code (1002/1007/1009) and closes; `receive` throws it.
//
// Heartbeat. With `heartbeat` set, a ping goes out every period; when its pong has not come
// within `pongTimeout`, the transport is aborted (1006) and `receive` throws `heartbeatTimeout`.
import AsyncIO
import DequeModule
import WebSocketCodec

// Its stored properties are `@exclusivity(unchecked)`: the channel is used on its loop's thread
// only, no access to one overlaps another to the same property, and the run-time checks (a
// thread-local lookup and a table insert per access) cost a 64-byte echo more than its parsing.
final class WebSocketChannel {
    enum State {
        case open
        /// We sent a close frame and wait for the peer's.
        case closing
        /// The closing handshake is over or the connection is gone.
        case closed
    }

    let loop: EventLoop
    let transport: any Transport
    let options: WebSocketOptions
    @exclusivity(unchecked) private var parser: WebSocketParser
    @exclusivity(unchecked) private var encoder: WebSocketEncoder
    @exclusivity(unchecked) private(set) var state = State.open

    @exclusivity(unchecked) private var inbox = Deque<WebSocketMessage>()
    /// The error `receive` throws once the queued messages are read.
    @exclusivity(unchecked) private var failure: (any Error)?
    /// The `.close` message or loss was delivered: `receive` returns `.closed` from now on.
    @exclusivity(unchecked) private var finished = false
    private let receiveWait: WaitPoint
    private var closeWait: WaitPoint?
    private var drained: Event?
    @exclusivity(unchecked) private var writingPaused = false
    @exclusivity(unchecked) private var readingPaused = false
    /// `pump` stopped because the inbox was full, with events perhaps left in the parser.
    @exclusivity(unchecked) private var pumpStalled = false
    @exclusivity(unchecked) private var lost = false
    /// The frame being written: reused, so a small message allocates no frame of its own.
    @exclusivity(unchecked) private var frameBuffer: [UInt8] = []

    /// The close code: the peer's (1005 if its close frame had none), ours, or 1006 when lost.
    private(set) var closeCode: WebSocketCloseCode?
    @exclusivity(unchecked) private var heartbeatTimer: Handle?
    @exclusivity(unchecked) private var pongTimer: Handle?

    init(
        role: WebSocketRole,
        transport: any Transport,
        options: WebSocketOptions,
        deflate: PerMessageDeflateParameters?
    ) {
        self.loop = transport.loop
        self.transport = transport
        self.options = options
        parser = WebSocketParser(role: role, limits: options.limits, deflate: deflate)
        encoder = WebSocketEncoder(role: role, deflate: deflate)
        receiveWait = WaitPoint(loop: transport.loop)
        scheduleHeartbeat()
    }

    // MARK: - Transport events

    /// Bytes from the socket (including any that arrived with the opening handshake).
    func received(_ bytes: UnsafeRawBufferPointer) {
        guard !lost, state != .closed else { return }
        parser.feed(bytes)
        pump()
    }

    /// The peer shut its side without a close frame.
    func peerClosedInput() {
        if state != .closed {
            state = .closed
            if closeCode == nil { closeCode = .abnormalClosure }
        }
        transport.close()
        wakeAll()
    }

    /// The connection is gone.
    func connectionLost() {
        lost = true
        if state != .closed {
            state = .closed
            if closeCode == nil { closeCode = .abnormalClosure }
        }
        heartbeatTimer?.cancel()
        pongTimer?.cancel()
        wakeAll()
    }

    func pauseWriting() {
        writingPaused = true
    }

    func resumeWriting() {
        writingPaused = false
        drained?.set()
    }

    private func wakeAll() {
        receiveWait.wake()
        closeWait?.wake()
        drained?.set()
    }

    // MARK: - Input

    /// Pulls parser events while the inbox has room (while closing: until the peer's close).
    ///
    /// Written for few accesses to the channel's stored properties: each one is checked for
    /// exclusivity at run time (class properties), and a 64-byte echo spent more on those checks
    /// than on parsing its frame.
    private func pump() {
        let limit = options.maxQueuedMessages
        var queued = inbox.count
        var stalled = false
        while true {
            let closing = state == .closing
            if !closing && queued >= limit {
                stalled = true
                break
            }
            let event: WebSocketEvent
            do {
                guard let next = try parser.next() else { break }
                event = next
            } catch {
                protocolFailed(error)
                return
            }
            switch event {
            case .text(let text):
                if !closing {
                    inbox.append(.text(text))
                    queued += 1
                }
            case .binary(let bytes):
                if !closing {
                    inbox.append(.binary(bytes))
                    queued += 1
                }
            case .ping(let payload):
                if !closing, let pong = try? encoder.pong(payload) { try? transport.write(pong) }
            case .pong:
                pongTimer?.cancel()
                pongTimer = nil
            case .close(let code, let reason):
                peerClosed(code: code, reason: reason)
                queued = inbox.count
            }
        }
        pumpStalled = stalled
        if queued > 0 { receiveWait.wake() }
        updateReading(queued: queued)
    }

    private func peerClosed(code: WebSocketCloseCode?, reason: String) {
        if state == .open {
            // Answer with the peer's code (an empty close for an empty one), then close: the
            // server closes the TCP connection first (RFC 6455 §7.1.1).
            closeCode = code ?? .noStatusReceived
            if let answer = try? encoder.close(code: code) { try? transport.write(answer) }
            inbox.append(.close(code, reason: reason))
        }
        state = .closed
        heartbeatTimer?.cancel()
        pongTimer?.cancel()
        transport.close()
        wakeAll()
    }

    private func protocolFailed(_ error: WebSocketError) {
        closeCode = error.closeCode
        if state == .open, let frame = try? encoder.close(code: error.closeCode) { try? transport.write(frame) }
        state = .closed
        failure = error
        transport.close()
        wakeAll()
    }

    private func updateReading(queued: Int? = nil) {
        let want = state == .closing || (queued ?? inbox.count) < options.maxQueuedMessages
        guard want == readingPaused, !lost, !transport.isClosing else { return }
        readingPaused = !want
        if want { transport.resumeReading() } else { transport.pauseReading() }
    }

    // MARK: - Receiving

    /// The next message; `.closed` once the connection is closed. See `WebSocketResponse.receive`.
    func receive(timeout: Duration?) async throws -> WebSocketMessage {
        var timer: Handle?
        defer { timer?.cancel() }
        while true {
            if let message = inbox.popFirst() {
                if case .close = message { finished = true }
                // Parsing stopped at a full inbox: there is room again. (Otherwise every event
                // the parser holds is queued already, and pumping would find nothing.)
                if pumpStalled || readingPaused { pump() }
                return message
            }
            if let failure {
                self.failure = nil
                finished = true
                throw failure
            }
            if finished || state == .closed || lost {
                finished = true
                return .closed
            }
            if let timeout, timer == nil {
                let wait = receiveWait
                timer = loop.callLaterOnLoop(timeout) { wait.wake(throwing: AsyncIOError.timeout) }
            }
            try await receiveWait.wait()
        }
    }

    // MARK: - Sending

    func send(_ frame: [UInt8]) async throws {
        guard state == .open, !lost else { throw WebSocketConnectionError.closed }
        do {
            try transport.write(frame)
        } catch {
            throw WebSocketConnectionError.closed
        }
        if writingPaused || lost { try await drain() }
    }

    func sendText(_ text: String) async throws {
        guard state == .open, !lost else { throw WebSocketConnectionError.closed }
        try writeFrame(encoder.text(text, into: &frameBuffer))
        if writingPaused || lost { try await drain() }
    }

    /// Writes messages without waiting, in one write: what the kernel does not take waits in the
    /// transport's buffer, whatever its water marks (the caller bounds it with `bufferedAmount`).
    /// A server that does not compress writes the prepared frames as they are.
    func sendNowait(_ messages: some Collection<WebSocketPreparedMessage>) throws {
        guard state == .open, !lost else { throw WebSocketConnectionError.closed }
        var bytes: [UInt8] = []
        if encoder.role == .server, !encoder.compresses {
            if messages.count == 1, let only = messages.first {
                bytes = only.frame
            } else {
                bytes.reserveCapacity(messages.reduce(0) { $0 + $1.frame.count })
                for message in messages { bytes.append(contentsOf: message.frame) }
            }
        } else {
            for message in messages { bytes.append(contentsOf: encoder.text(message.text)) }
        }
        do {
            try transport.write(bytes)
        } catch {
            throw WebSocketConnectionError.closed
        }
    }

    /// Bytes written and not yet taken by the kernel.
    var bufferedAmount: Int { lost ? 0 : transport.writeBufferSize }

    func sendBinary(_ bytes: some Collection<UInt8>) async throws {
        guard state == .open, !lost else { throw WebSocketConnectionError.closed }
        try writeFrame(encoder.binary(bytes, into: &frameBuffer))
        if writingPaused || lost { try await drain() }
    }

    /// Writes the first `length` bytes of `frameBuffer`. A buffer grown past 4 KiB for a large
    /// message is let go, so an idle connection keeps a small one.
    private func writeFrame(_ length: Int) throws {
        do {
            try frameBuffer.withUnsafeBytes { try transport.write(UnsafeRawBufferPointer(rebasing: $0[..<length])) }
        } catch {
            throw WebSocketConnectionError.closed
        }
        if length > 4096 { frameBuffer = [] }
    }

    func ping(_ payload: [UInt8]) async throws {
        try await send(encoder.ping(payload))
    }

    func pong(_ payload: [UInt8]) async throws {
        try await send(encoder.pong(payload))
    }

    /// Waits while the transport's buffer is over its high-water mark.
    private func drain() async throws {
        while writingPaused && !lost {
            if drained == nil { drained = Event() }
            drained!.clear()
            try await drained!.wait()
        }
        if lost { throw WebSocketConnectionError.closed }
    }

    /// Starts the closing handshake and waits for it to end (or `closeTimeout`).
    ///
    /// - Returns: false if the connection was already closing or closed.
    @discardableResult
    func close(code: WebSocketCloseCode, reason: String) async throws -> Bool {
        guard state == .open, !lost else { return false }
        let frame = try encoder.close(code: code, reason: reason)
        closeCode = code
        state = .closing
        heartbeatTimer?.cancel()
        try? transport.write(frame)
        // Unread messages are dropped; read until the peer's close arrives.
        inbox.removeAll()
        updateReading()
        pump()
        if state == .closing {
            let wait = WaitPoint(loop: loop)
            closeWait = wait
            let timer = loop.callLaterOnLoop(options.closeTimeout) { wait.wake() }
            defer { timer.cancel() }
            try? await wait.wait()
            closeWait = nil
        }
        state = .closed
        finished = true
        transport.close()
        receiveWait.wake()
        return true
    }

    /// Whether the closing handshake started or the connection is gone. Mirrors `closed`.
    var isClosed: Bool { state != .open || lost }

    // MARK: - Heartbeat

    private func scheduleHeartbeat() {
        guard let period = options.heartbeat else { return }
        heartbeatTimer = loop.callLaterOnLoop(period) { [weak self] in self?.heartbeatFired() }
    }

    private func heartbeatFired() {
        guard state == .open, !lost, let period = options.heartbeat else { return }
        if pongTimer == nil {
            let deadline = options.pongTimeout ?? period / 2
            pongTimer = loop.callLaterOnLoop(deadline) { [weak self] in self?.pongMissed() }
        }
        if let ping = try? encoder.ping([]) { try? transport.write(ping) }
        scheduleHeartbeat()
    }

    private func pongMissed() {
        guard state != .closed, !lost else { return }
        closeCode = .abnormalClosure
        failure = WebSocketConnectionError.heartbeatTimeout
        state = .closed
        heartbeatTimer?.cancel()
        transport.abort()
        wakeAll()
    }
}

extension EventLoop {
    /// `callLater` for code that runs on the loop's thread without being isolated to it (the
    /// WebSocket's and the event stream's timers are armed from the user's calls and from timers).
    nonisolated func callLaterOnLoop(_ delay: Duration, _ callback: @escaping () -> Void) -> Handle {
        var handle: Handle?
        runIsolated(self, callback) { _, callback, loop in handle = loop.callLater(delay, callback) }
        return handle!
    }
}

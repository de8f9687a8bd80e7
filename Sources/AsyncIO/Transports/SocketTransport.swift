// Theory of operation
//
// One connected stream socket (TCP or Unix), driven inline by the loop: the transport is the fd's
// `IOHandler`, so readiness reaches `ioReady` with no queueing and no closure per event.
//
// Reading: one `recv` per readiness (fairness between connections; epoll is level-triggered, so
// more data is reported again next iteration) into the loop's shared 64 KiB buffer, handed to the
// protocol as a borrowed `Span`; a buffered protocol gets `recv` straight into its own buffer.
// recv → 0 is EOF: `eofReceived()`; true keeps the write side open (reading stops), false closes.
//
// Writing: `write` calls `send` at once when nothing is queued; only what the kernel does not take
// is copied into the `WriteBuffer`, which then asks for writability and is flushed with `writev`.
// Flow control calls `pauseWriting` strictly over the high-water mark, `resumeWriting` at or under
// the low-water mark.
//
// Closing and interest are `SelectorTransport`'s, shared with the datagram transport (asyncio's
// `_SelectorTransport`): `close()` stops reading and, once the buffer is empty, schedules
// `connectionLost(nil)`; `abort()` and fatal errors (a reset peer, EPIPE) drop the buffer and
// schedule `connectionLost(error)`, exactly once; the fd is closed right after `connectionLost`
// returns. The epoll interest is recomputed from the state (`desiredInterest`) after every change.
import CAsyncIOShims
import Glibc

final class SocketTransport: Transport, SelectorTransport {
    let loop: EventLoop
    var selectorState: SelectorTransportState
    private let family: Int32
    private var receiver: StreamReceiver?
    /// The server that accepted this connection, told when it ends (for `waitClosed`, `closeClients`).
    private var server: Server?

    private var writeBuffer = WriteBuffer()
    private var flow = WriteFlowControl()

    /// EOF was received and the protocol kept the connection half-open: no more reads.
    private var readEOF = false
    /// `writeEOF()` was called; the write side shuts down once the buffer is empty.
    private var eofRequested = false
    /// Writes attempted after the connection was lost (asyncio warns from the 5th on).
    private var writesAfterLost = 0
    private var cachedInfo: InfoBox?

    /// `loop.sendfile` owns the write side: `write` throws, `close` and `writeEOF` wait for it.
    private(set) var isSendfileActive = false
    /// A sendfile waiting until the socket is writable and at most `waiterThreshold` bytes are
    /// queued (SocketTransport+Sendfile.swift); resolved by `writeReady`, failed by the loss.
    private var writableWaiter: Future<Void>?
    private var waiterThreshold = 0

    private final class InfoBox {
        let info: TransportExtraInfo
        init(_ info: TransportExtraInfo) { self.info = info }
    }

    init(loop: EventLoop, fd: Int32, family: Int32, receiver: StreamReceiver, server: Server?) {
        self.loop = loop
        selectorState = SelectorTransportState(fd: fd)
        self.family = family
        self.receiver = receiver
        self.server = server
    }

    deinit {
        // A transport dropped without `close` (its loop closed, say) still releases its socket.
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Calls `connectionMade` and starts reading. asyncio schedules both for the next iteration; we
    /// call them at once (they are still ordered before any `dataReceived`).
    func start(loop: isolated EventLoop) {
        loop.core.selector.dropStaleRegistration(for: fd)
        receiver?.base.connectionMade(self, loop: loop)
        updateInterest()
    }

    // MARK: - Readiness

    func ioReady(_ events: SelectorEvents) {
        // The loop calls `ioReady` on its own thread, the isolation `handleEvents` asks for. A
        // static method is a function value without a context, so this costs no allocation.
        loop.runIsolatedUnchecked(self, events, Self.handleEvents)
    }

    private static func handleEvents(_ transport: SocketTransport, _ events: SelectorEvents, loop: isolated EventLoop) {
        if events.contains(.readable), transport.interest.contains(.readable) {
            transport.readReady(loop: loop)
        }
        if events.contains(.writable), transport.interest.contains(.writable), !transport.lostScheduled {
            transport.writeReady(loop: loop)
        }
    }

    private func readReady(loop: isolated EventLoop) {
        guard let receiver else { return }
        switch receiver {
        case .plain(let proto):
            let buffer = loop.core.io.readBuffer
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count > 0 {
                // SAFETY: the kernel initialised `count` bytes of the loop's read buffer; the span
                // is borrowed by the protocol for this call only (it is non-escapable).
                let bytes = UnsafeBufferPointer(
                    start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    count: count
                )
                proto.dataReceived(bytes.span, loop: loop)
            } else {
                readFailedOrEnded(count: count, loop: loop)
            }
        case .buffered(let proto):
            let buffer = proto.getBuffer(sizeHint: -1, loop: loop)
            guard !buffer.isEmpty, let base = buffer.baseAddress else {
                handleFatalError(TransportError.invalidValue("getBuffer() returned an empty buffer"), loop: loop)
                return
            }
            let count = recv(fd, base, buffer.count, 0)
            if count > 0 {
                proto.bufferUpdated(count, loop: loop)
            } else {
                readFailedOrEnded(count: count, loop: loop)
            }
        }
    }

    private func readFailedOrEnded(count: Int, loop: isolated EventLoop) {
        if count == 0 {
            readEOF = true
            updateInterest()
            let keepOpen = receiver?.base.eofReceived(loop: loop) ?? false
            if !keepOpen { close() }
            return
        }
        let error = errno
        if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return }
        handleFatalError(SystemError(call: "recv", errno: error), loop: loop)
    }

    private func writeReady(loop: isolated EventLoop) {
        if !writeBuffer.isEmpty {
            do {
                _ = try writeBuffer.flush(to: fd)
            } catch {
                handleFatalError(error, loop: loop)
                return
            }
            maybeResumeProtocol(loop: loop)  // may write more
        }
        if let waiter = writableWaiter, writeBuffer.count <= waiterThreshold, !lostScheduled {
            writableWaiter = nil
            updateInterest()
            waiter.complete(.succeeded(()))
        }
        guard writeBuffer.isEmpty, !lostScheduled, !isSendfileActive else { return }
        updateInterest()
        if isClosing {
            loseConnectionIfClosing(loop: loop)
        } else if eofRequested {
            _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        }
    }

    // MARK: - Interest and closing (SelectorTransport)

    var desiredInterest: SelectorEvents {
        guard !lostScheduled else { return [] }
        var wanted: SelectorEvents = []
        if selectorState.readingWanted && !readEOF && !isClosing { wanted.insert(.readable) }
        if !writeBuffer.isEmpty || writableWaiter != nil { wanted.insert(.writable) }
        return wanted
    }

    var isWriteQueueEmpty: Bool { writeBuffer.isEmpty && !isSendfileActive }

    func dropWriteQueue() {
        writeBuffer.removeAll()
    }

    /// Reports the error where asyncio does, then closes at once. Mirrors `_fatal_error`.
    private func handleFatalError(_ error: any Error, loop: isolated EventLoop) {
        if !(error is SystemError) {
            loop.core.reportException(message: "Fatal error on socket transport", error: error, source: "\(self)")
        }
        forceClose(error)
    }

    /// Tells the protocol, then releases the socket, the protocol and the server. Runs once.
    ///
    /// The socket stays open while `connectionLost` runs, as in asyncio, so the protocol can still
    /// read `extraInfo` (say, to log the peer's address).
    func callConnectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        if let waiter = writableWaiter {
            writableWaiter = nil
            waiter.complete(.failed(error ?? TransportError.closed))
        }
        let receiver = self.receiver
        self.receiver = nil
        receiver?.base.connectionLost(error, loop: loop)
        releaseDescriptor(loop: loop)
        server?.connectionClosed(self)
        server = nil
    }

    func setProtocol(_ proto: any StreamingProtocol) throws(TransportError) {
        guard !lostScheduled, receiver != nil else { throw TransportError.closed }
        guard let newReceiver = StreamReceiver(proto) else {
            throw TransportError.invalidValue(
                "\(type(of: proto)) is neither a ConnectionProtocol nor a BufferedConnectionProtocol"
            )
        }
        receiver = newReceiver
    }

    // MARK: - Extra info

    /// Read from the socket at the first call and kept; once the socket is closed, the addresses
    /// read before stay, but the descriptor is nil: its number may already be another socket's
    /// (asyncio's `TransportSocket` reports `fileno()` -1 then).
    var extraInfo: TransportExtraInfo {
        if let cachedInfo {
            guard fd < 0 else { return cachedInfo.info }
            return TransportExtraInfo(peerName: cachedInfo.info.peerName, socketName: cachedInfo.info.socketName)
        }
        guard fd >= 0 else { return TransportExtraInfo() }
        let socket = Socket(adopting: fd, family: family, type: Int32(SOCK_STREAM.rawValue))
        defer { _ = socket.detach() }
        let info = TransportExtraInfo(
            peerName: try? socket.peerAddress(),
            socketName: try? socket.localAddress(),
            fileDescriptor: fd
        )
        cachedInfo = InfoBox(info)
        return info
    }

    var description: String { "<SocketTransport fd=\(fd)\(isClosing ? " closing" : "")>" }
}

// MARK: - Writing

extension SocketTransport {
    func write(_ data: Span<UInt8>) throws(TransportError) {
        guard !eofRequested else { throw TransportError.writeAfterEOF }
        guard !isSendfileActive else { throw TransportError.sendfileInProgress }
        // Before the lost check, as in asyncio: writing nothing is not a write after the loss.
        guard !data.isEmpty else { return }
        guard !lostScheduled else {
            writesAfterLost += 1
            if writesAfterLost == 5 { loop.logger.warning("socket.send() raised exception.") }
            return
        }
        data.withUnsafeBytes { bytes in enqueue(bytes) }
    }

    func writeLines(_ chunks: [[UInt8]]) throws(TransportError) {
        guard !eofRequested else { throw TransportError.writeAfterEOF }
        guard !isSendfileActive else { throw TransportError.sendfileInProgress }
        guard !lostScheduled else {
            writesAfterLost += 1
            if writesAfterLost == 5 { loop.logger.warning("socket.send() raised exception.") }
            return
        }
        // Queue everything first, then flush once: one writev for all the chunks.
        let wasEmpty = writeBuffer.isEmpty
        for chunk in chunks {
            chunk.withUnsafeBytes { writeBuffer.append($0) }
        }
        guard !writeBuffer.isEmpty else { return }
        if wasEmpty { flushNow() }
        afterQueueing()
    }

    /// Writes at once if nothing is queued, queues what the kernel did not take.
    private func enqueue(_ bytes: UnsafeRawBufferPointer) {
        if writeBuffer.isEmpty {
            let written = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if written == bytes.count { return }
            if written < 0 {
                let error = errno
                guard error == EAGAIN || error == EWOULDBLOCK || error == EINTR else {
                    loop.runIsolated(self) { transport, loop in
                        transport.handleFatalError(SystemError(call: "send", errno: error), loop: loop)
                    }
                    return
                }
                writeBuffer.append(bytes)
            } else {
                writeBuffer.append(UnsafeRawBufferPointer(rebasing: bytes[written...]))
            }
        } else {
            writeBuffer.append(bytes)
        }
        afterQueueing()
    }

    /// Flushes the buffer once without waiting (for `writeLines`).
    private func flushNow() {
        do {
            _ = try writeBuffer.flush(to: fd)
        } catch {
            loop.runIsolated(self) { transport, loop in transport.handleFatalError(error, loop: loop) }
        }
    }

    /// Watches for writability if needed and pauses the protocol over the high-water mark.
    private func afterQueueing() {
        guard !lostScheduled else { return }
        updateInterest()
        if flow.shouldPause(size: writeBuffer.count) {
            loop.runIsolated(self, ()) { transport, _, loop in transport.receiver?.base.pauseWriting(loop: loop) }
        }
    }

    private func maybeResumeProtocol(loop: isolated EventLoop) {
        if flow.shouldResume(size: writeBuffer.count) {
            receiver?.base.resumeWriting(loop: loop)
        }
    }

    func writeEOF() throws(TransportError) {
        guard !isClosing, !eofRequested else { return }
        eofRequested = true
        if writeBuffer.isEmpty, !isSendfileActive, fd >= 0 { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }
    }

    var canWriteEOF: Bool { true }

    func setWriteBufferLimits(high: Int?, low: Int?) throws(TransportError) {
        try flow.setLimits(high: high, low: low)
        if flow.shouldPause(size: writeBuffer.count) {
            loop.runIsolated(self) { transport, loop in transport.receiver?.base.pauseWriting(loop: loop) }
        }
    }

    var writeBufferSize: Int { writeBuffer.count }

    var writeBufferLimits: (low: Int, high: Int) { flow.limits }
}

// MARK: - Handing the write side to sendfile

extension SocketTransport {
    /// Takes the write side for `loop.sendfile`: stops reading (as asyncio does) and makes `write`
    /// throw until `endSendfile`. - Returns: whether reading was on, for `endSendfile`.
    func beginSendfile() throws(TransportError) -> Bool {
        guard !isClosing else { throw TransportError.closed }
        guard !isSendfileActive else { throw TransportError.sendfileInProgress }
        let wasReading = selectorState.readingWanted
        pauseReading()
        isSendfileActive = true
        return wasReading
    }

    /// Gives the write side back; finishes a `close()` or `writeEOF()` that waited for the sendfile.
    func endSendfile(resumeReading: Bool, loop: isolated EventLoop) {
        isSendfileActive = false
        if resumeReading { self.resumeReading() }
        updateInterest()
        guard writeBuffer.isEmpty, !lostScheduled else { return }
        if isClosing {
            loseConnectionIfClosing(loop: loop)
        } else if eofRequested, fd >= 0 {
            _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        }
    }

    /// Suspends until the socket is writable with at most `threshold` bytes still queued.
    ///
    /// - Throws: the connection's error (or `TransportError.closed`) if it is lost meanwhile;
    ///   `CancelledError`.
    func waitWritable(queuedAtMost threshold: Int, loop: isolated EventLoop) async throws {
        guard !lostScheduled, fd >= 0 else { throw TransportError.closed }
        guard writableWaiter == nil else { throw TransportError.sendfileInProgress }
        let waiter = Future<Void>(core: loop.core)
        writableWaiter = waiter
        waiterThreshold = threshold
        updateInterest()
        defer {
            if writableWaiter === waiter {
                writableWaiter = nil
                updateInterest()
            }
        }
        try await waiter.value
    }

    /// Fails the connection with `error` (a `sendfile` that the kernel refused midway).
    func failSendfile(_ error: any Error, loop: isolated EventLoop) {
        handleFatalError(error, loop: loop)
    }
}

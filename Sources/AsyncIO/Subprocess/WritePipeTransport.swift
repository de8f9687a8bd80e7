// Theory of operation
//
// The write end of a pipe, FIFO, character device or socket (asyncio's `_UnixWritePipeTransport`).
// Writing is a socket transport's: `write` calls `write(2)` at once when nothing is queued, the
// rest goes to a `WriteBuffer` flushed with `writev` on writability, and the water marks call
// `pauseWriting` / `resumeWriting`.
//
// Ending: `writeEOF()` and `close()` are the same thing (a pipe has no half-close): stop taking
// writes, flush, then `connectionLost(nil)` and the descriptor is closed. `abort()` drops the
// buffer. Writes after the end are dropped, with asyncio's warning at the fifth.
//
// The reader going away: for a pipe or socket the transport also watches its descriptor for
// readability, asyncio's trick: the write end of a pipe reports an error (EPOLLERR, passed on as
// readable) once the read end is closed, so the transport learns it even while it has nothing to
// write, and closes (with `BrokenPipe` if bytes were still queued). A tty gives no such report.
import CAsyncIOShims
import Glibc

final class WritePipeTransport: Transport, SelectorTransport, CustomStringConvertible {
    let loop: EventLoop
    var selectorState: SelectorTransportState
    private var proto: (any BaseProtocol)?
    private var writeBuffer = WriteBuffer()
    private var flow = WriteFlowControl()
    private let watchesReader: Bool
    private var writesAfterEnd = 0

    init(loop: EventLoop, fd: Int32, protocol proto: any BaseProtocol, watchesReader: Bool) {
        self.loop = loop
        selectorState = SelectorTransportState(fd: fd)
        self.proto = proto
        self.watchesReader = watchesReader
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    func start(loop: isolated EventLoop, connectionMade: (WritePipeTransport) -> Void) {
        loop.core.selector.dropStaleRegistration(for: fd)
        connectionMade(self)
        updateInterest()
    }

    func ioReady(_ events: SelectorEvents) {
        loop.runIsolatedUnchecked(self, events, Self.handleEvents)
    }

    private static func handleEvents(
        _ transport: WritePipeTransport,
        _ events: SelectorEvents,
        loop: isolated EventLoop
    ) {
        if events.contains(.readable), transport.interest.contains(.readable) {
            // The reader closed its end (see above).
            transport.forceClose(transport.writeBuffer.isEmpty ? nil : SystemError(call: "write", errno: EPIPE))
            return
        }
        if events.contains(.writable), transport.interest.contains(.writable), !transport.lostScheduled {
            transport.writeReady(loop: loop)
        }
    }

    private func writeReady(loop: isolated EventLoop) {
        do {
            _ = try writeBuffer.flush(to: fd, sockets: false)
        } catch {
            forceClose(error)
            return
        }
        if flow.shouldResume(size: writeBuffer.count) { proto?.resumeWriting(loop: loop) }
        guard writeBuffer.isEmpty, !lostScheduled else { return }
        updateInterest()
        loseConnectionIfClosing(loop: loop)
    }

    var desiredInterest: SelectorEvents {
        guard !lostScheduled else { return [] }
        var wanted: SelectorEvents = watchesReader ? .readable : []
        if !writeBuffer.isEmpty { wanted.insert(.writable) }
        return wanted
    }

    var isWriteQueueEmpty: Bool { writeBuffer.isEmpty }

    func dropWriteQueue() { writeBuffer.removeAll() }

    func callConnectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        let proto = self.proto
        self.proto = nil
        proto?.connectionLost(error, loop: loop)
        releaseDescriptor(loop: loop)
    }

    // MARK: - Writing

    func write(_ data: Span<UInt8>) throws(TransportError) {
        guard !data.isEmpty else { return }
        guard !isClosing else {
            writesAfterEnd += 1
            if writesAfterEnd == 5 {
                loop.logger.warning("pipe closed by peer or os.write(pipe, data) raised exception.")
            }
            return
        }
        data.withUnsafeBytes { bytes in
            if writeBuffer.isEmpty {
                let written = Glibc.write(fd, bytes.baseAddress, bytes.count)
                if written == bytes.count { return }
                if written < 0 {
                    let error = errno
                    guard error == EAGAIN || error == EINTR else {
                        forceClose(SystemError(call: "write", errno: error))
                        return
                    }
                    writeBuffer.append(bytes)
                } else {
                    writeBuffer.append(UnsafeRawBufferPointer(rebasing: bytes[written...]))
                }
            } else {
                writeBuffer.append(bytes)
            }
            updateInterest()
            if flow.shouldPause(size: writeBuffer.count) {
                loop.runIsolated(self) { transport, loop in transport.proto?.pauseWriting(loop: loop) }
            }
        }
    }

    func writeLines(_ chunks: [[UInt8]]) throws(TransportError) {
        for chunk in chunks { try write(chunk.span) }
    }

    /// Flushes, then closes: a pipe has no half-close. Mirrors `write_eof()`.
    func writeEOF() throws(TransportError) {
        close()
    }

    var canWriteEOF: Bool { true }

    func setWriteBufferLimits(high: Int?, low: Int?) throws(TransportError) {
        try flow.setLimits(high: high, low: low)
        if flow.shouldPause(size: writeBuffer.count) {
            loop.runIsolated(self) { transport, loop in transport.proto?.pauseWriting(loop: loop) }
        }
    }

    var writeBufferSize: Int { writeBuffer.count }

    var writeBufferLimits: (low: Int, high: Int) { flow.limits }

    // MARK: - No reading side

    /// A write pipe never reads: false.
    var isReading: Bool { false }
    /// Does nothing: a write pipe never reads.
    func pauseReading() {}
    /// Does nothing: a write pipe never reads.
    func resumeReading() {}

    var extraInfo: TransportExtraInfo { TransportExtraInfo(fileDescriptor: fd >= 0 ? fd : nil) }

    var description: String { "<WritePipeTransport fd=\(fd)\(isClosing ? " closing" : "")>" }
}

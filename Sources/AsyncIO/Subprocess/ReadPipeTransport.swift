// Theory of operation
//
// The read end of a pipe, FIFO, character device (a tty) or socket, driven inline by the loop like
// a socket transport (asyncio's `_UnixReadPipeTransport`): one `read` per readiness into the
// loop's shared buffer, handed to the protocol as a borrowed `Span`. `read` → 0 is the end: the
// transport is closing at once, and in the next iteration the protocol gets `eofReceived` and
// then `connectionLost(nil)` (asyncio schedules both with `call_soon`). A read error closes with
// the error. The transport owns the descriptor and closes it after `connectionLost`.
import CAsyncIOShims
import Glibc

final class ReadPipeTransport: ReadTransport, SelectorTransport, CustomStringConvertible {
    let loop: EventLoop
    var selectorState: SelectorTransportState
    private var proto: (any ReadPipeProtocol)?

    init(loop: EventLoop, fd: Int32, protocol proto: any ReadPipeProtocol) {
        self.loop = loop
        selectorState = SelectorTransportState(fd: fd)
        self.proto = proto
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    func start(loop: isolated EventLoop) {
        loop.core.selector.dropStaleRegistration(for: fd)
        proto?.connectionMade(self, loop: loop)
        updateInterest()
    }

    func ioReady(_ events: SelectorEvents) {
        loop.runIsolatedUnchecked(self, events, Self.handleEvents)
    }

    private static func handleEvents(_ transport: ReadPipeTransport, _ events: SelectorEvents, loop: isolated EventLoop)
    {
        guard events.contains(.readable), transport.interest.contains(.readable) else { return }
        transport.readReady(loop: loop)
    }

    private func readReady(loop: isolated EventLoop) {
        let buffer = loop.core.io.readBuffer
        let count = read(fd, buffer.baseAddress, buffer.count)
        if count > 0 {
            // SAFETY: the kernel initialised `count` bytes of the loop's read buffer; the span is
            // borrowed by the protocol for this call only.
            let bytes = UnsafeBufferPointer(
                start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self),
                count: count
            )
            proto?.dataReceived(bytes.span, loop: loop)
            return
        }
        if count == 0 {
            // The writer closed its end: asyncio's `call_soon(eof_received)` then
            // `call_soon(_call_connection_lost, None)`, as one callback.
            selectorState.isClosing = true
            selectorState.lostScheduled = true
            updateInterest()
            let core = loop.core
            core.callSoon(
                Handle(core: core) { [self] in
                    self.loop.runIsolated(self) { transport, loop in
                        transport.proto?.eofReceived(loop: loop)
                        transport.callConnectionLost(nil, loop: loop)
                    }
                }
            )
            return
        }
        let error = errno
        if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return }
        forceClose(SystemError(call: "read", errno: error))
    }

    var desiredInterest: SelectorEvents {
        selectorState.readingWanted && !isClosing && !lostScheduled ? .readable : []
    }

    var isWriteQueueEmpty: Bool { true }

    func dropWriteQueue() {}

    func callConnectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        let proto = self.proto
        self.proto = nil
        proto?.connectionLost(error, loop: loop)
        releaseDescriptor(loop: loop)
    }

    var extraInfo: TransportExtraInfo { TransportExtraInfo(fileDescriptor: fd >= 0 ? fd : nil) }

    var description: String { "<ReadPipeTransport fd=\(fd)\(isClosing ? " closing" : "")>" }
}

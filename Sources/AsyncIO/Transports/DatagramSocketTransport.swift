// Theory of operation
//
// A datagram socket (UDP) driven inline by the loop, like `SocketTransport`: one `recvfrom` per
// readiness into the loop's shared buffer (64 KiB holds any UDP datagram), handed to the protocol
// as a borrowed `Span` with the sender's address. `sendTo` calls `sendto` at once when nothing is
// queued; a datagram the kernel refuses with EAGAIN is queued whole and sent on writability.
// Kernel errors on a send or a receive (ECONNREFUSED from an ICMP port-unreachable on a connected
// endpoint, say) go to `errorReceived` and the endpoint stays open, as asyncio does. Closing and
// interest are `SelectorTransport`'s, as for stream sockets.
import CAsyncIOShims
import DequeModule
import Glibc

final class DatagramSocketTransport: DatagramTransport, SelectorTransport {
    let loop: EventLoop
    var selectorState: SelectorTransportState
    private var proto: (any DatagramProtocol)?
    /// The connected remote address, if the endpoint was created with one.
    private let remote: SocketAddress?
    private var queue = Deque<(bytes: [UInt8], address: SocketAddress?)>()
    private(set) var writeBufferSize = 0
    private var flow = WriteFlowControl()
    private var sendsAfterLost = 0

    init(loop: EventLoop, fd: Int32, proto: any DatagramProtocol, remote: SocketAddress?) {
        self.loop = loop
        selectorState = SelectorTransportState(fd: fd)
        self.proto = proto
        self.remote = remote
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    func start(loop: isolated EventLoop) {
        loop.core.selector.dropStaleRegistration(for: fd)
        proto?.connectionMade(self, loop: loop)
        updateInterest()
    }

    var extraInfo: TransportExtraInfo {
        guard fd >= 0 else { return TransportExtraInfo(peerName: remote) }
        let socket = Socket(adopting: fd, family: AF_UNSPEC, type: Int32(SOCK_DGRAM.rawValue))
        defer { _ = socket.detach() }
        return TransportExtraInfo(peerName: remote, socketName: try? socket.localAddress(), fileDescriptor: fd)
    }

    // MARK: - Readiness

    func ioReady(_ events: SelectorEvents) {
        // As in `SocketTransport.ioReady`: on the loop thread, and no allocation per datagram.
        loop.runIsolatedUnchecked(self, events, Self.handleEvents)
    }

    private static func handleEvents(
        _ transport: DatagramSocketTransport,
        _ events: SelectorEvents,
        loop: isolated EventLoop
    ) {
        if events.contains(.readable), transport.interest.contains(.readable) { transport.readReady(loop: loop) }
        if events.contains(.writable), transport.interest.contains(.writable), !transport.lostScheduled {
            transport.writeReady(loop: loop)
        }
    }

    private func readReady(loop: isolated EventLoop) {
        let buffer = loop.core.io.readBuffer
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        // SAFETY: `storage` and `length` are written by recvfrom during the call only.
        let count = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(fd, buffer.baseAddress, buffer.count, 0, $0, &length)
            }
        }
        if count < 0 {
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return }
            proto?.errorReceived(SystemError(call: "recvfrom", errno: error), loop: loop)
            return
        }
        let sender =
            withUnsafeBytes(of: &storage) { SocketAddress(storage: $0.baseAddress!, length: length) }
            ?? remote ?? .unix(path: "")
        // SAFETY: recvfrom initialised `count` bytes of the loop's buffer; the span is borrowed
        // for this call only.
        let bytes = UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count)
        proto?.datagramReceived(bytes.span, from: sender, loop: loop)
    }

    private func writeReady(loop: isolated EventLoop) {
        while let (bytes, address) = queue.first {
            let result = bytes.withUnsafeBytes { send($0, to: address) }
            if result == EAGAIN || result == EWOULDBLOCK { break }
            queue.removeFirst()
            writeBufferSize -= bytes.count
            if result != 0 {
                proto?.errorReceived(SystemError(call: "sendto", errno: result), loop: loop)
                if lostScheduled { return }
            }
        }
        if flow.shouldResume(size: writeBufferSize) { proto?.resumeWriting(loop: loop) }
        guard queue.isEmpty else { return }
        updateInterest()
        loseConnectionIfClosing(loop: loop)
    }

    /// One `sendto` (or `send` on a connected endpoint); returns 0 or the errno.
    private func send(_ bytes: UnsafeRawBufferPointer, to address: SocketAddress?) -> Int32 {
        let result: Int
        if let address, remote == nil {
            guard
                let sent = try? address.withSockAddr({ pointer, length in
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), pointer, length)
                })
            else { return EINVAL }
            result = sent
        } else {
            result = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        }
        return result < 0 ? errno : 0
    }

    // MARK: - Sending

    func sendTo(_ data: Span<UInt8>, address: SocketAddress?) throws(TransportError) {
        if let remote, let address, address != remote {
            throw TransportError.invalidValue("Invalid address: must be nil or \(remote)")
        }
        if remote == nil && address == nil {
            throw TransportError.invalidValue("an address is required on an unconnected endpoint")
        }
        guard !lostScheduled, !isClosing else {
            sendsAfterLost += 1
            if sendsAfterLost == 5 { loop.logger.warning("socket.sendto() raised exception.") }
            return
        }
        if queue.isEmpty {
            let result = data.withUnsafeBytes { send($0, to: address) }
            if result == 0 { return }
            if result != EAGAIN && result != EWOULDBLOCK {
                let error = SystemError(call: "sendto", errno: result)
                loop.runIsolated(self) { transport, loop in transport.proto?.errorReceived(error, loop: loop) }
                return
            }
        }
        queue.append((Array(data), address))
        writeBufferSize += data.count
        updateInterest()
        if flow.shouldPause(size: writeBufferSize) {
            loop.runIsolated(self) { transport, loop in transport.proto?.pauseWriting(loop: loop) }
        }
    }

    // MARK: - Interest and closing (SelectorTransport)

    var desiredInterest: SelectorEvents {
        guard !lostScheduled else { return [] }
        var wanted: SelectorEvents = []
        if !isClosing { wanted.insert(.readable) }
        if !queue.isEmpty { wanted.insert(.writable) }
        return wanted
    }

    var isWriteQueueEmpty: Bool { queue.isEmpty }

    func dropWriteQueue() {
        queue.removeAll()
        writeBufferSize = 0
    }

    /// Tells the protocol, then closes the socket (still open during `connectionLost`, as in
    /// asyncio, so `extraInfo` can be read there). Runs once.
    func callConnectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        let proto = self.proto
        self.proto = nil
        proto?.connectionLost(error, loop: loop)
        releaseDescriptor(loop: loop)
    }
}

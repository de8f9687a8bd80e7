import CAsyncIOShims
import Glibc

/// One listening socket of a `Server`: accepts connections when the loop says it is readable.
///
/// Accepts up to `backlog` connections per readiness (asyncio's batch), each with `accept4`
/// (non-blocking, close-on-exec in the same call). Out of descriptors or memory (EMFILE, ENFILE,
/// ENOBUFS, ENOMEM) it stops accepting for one second, logs once, and keeps serving the
/// connections it has: asyncio's back-off, with no busy loop on a listening socket that stays
/// readable.
final class Listener: IOHandler {
    /// Strong: a server nobody holds keeps serving until closed, as in asyncio (the cycle is broken
    /// by `Server.close`, which drops its listeners).
    let server: Server
    let socket: Socket
    private var accepting = false
    private var backoff: Handle?
    private var loggedExhaustion = false

    static let backoffDelay: Duration = .seconds(1)

    init(server: Server, socket: Socket) {
        self.server = server
        self.socket = socket
    }

    private var core: LoopCore { server.loop.core }

    func startAccepting() {
        guard !accepting, !socket.isClosed else { return }
        core.selector.dropStaleRegistration(for: socket.fileDescriptor)
        accepting = true
        watch(true)
    }

    private func watch(_ on: Bool) {
        let fd = socket.fileDescriptor
        guard on else {
            // Only an existing registration needs removing (none while backing off).
            core.selector.deregister(fd, ownedBy: self)
            return
        }
        let registration = core.selector.registration(for: fd)
        registration.handler = self
        do {
            try core.selector.updateInterest(registration, to: .readable)
        } catch {
            registration.handler = nil
            core.reportException(message: "cannot watch listening socket", error: error, source: "\(server)")
        }
    }

    func close() {
        backoff?.cancel()
        backoff = nil
        if accepting && !socket.isClosed { watch(false) }
        accepting = false
        socket.close()
    }

    func ioReady(_ events: SelectorEvents) {
        // As in `SocketTransport.ioReady`: on the loop thread, no allocation.
        server.loop.runIsolatedUnchecked(self, events, Self.acceptBatch)
    }

    private static func acceptBatch(_ listener: Listener, _ events: SelectorEvents, loop: isolated EventLoop) {
        listener.acceptBatch(loop: loop)
    }

    private func acceptBatch(loop: isolated EventLoop) {
        for _ in 0..<max(1, server.backlog) {
            guard accepting else { return }
            let fd = casyncio_accept4(socket.fileDescriptor, nil, nil)
            if fd < 0 {
                let error = errno
                switch error {
                case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED:
                    return
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    backOff(SystemError(call: "accept4", errno: error), loop: loop)
                    return
                default:
                    loop.core.reportException(
                        message: "socket.accept() failed",
                        error: SystemError(call: "accept4", errno: error),
                        source: "\(server)"
                    )
                    return
                }
            }
            loggedExhaustion = false
            connectionArrived(fd, loop: loop)
        }
    }

    /// Stops watching the socket for `backoffDelay`, then accepts again.
    private func backOff(_ error: SystemError, loop: isolated EventLoop) {
        if !loggedExhaustion {
            loggedExhaustion = true
            loop.core.reportException(
                message: "socket.accept() out of system resource; not accepting for \(Self.backoffDelay)",
                error: error,
                source: "\(server)"
            )
        }
        watch(false)
        backoff = loop.callLater(Self.backoffDelay) { [self] in
            backoff = nil
            if accepting && !socket.isClosed { watch(true) }
        }
    }

    private func connectionArrived(_ fd: Int32, loop: isolated EventLoop) {
        let family = socket.family
        if family == AF_INET || family == AF_INET6 {
            var on: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        let proto = server.protocolFactory()
        guard let receiver = StreamReceiver(proto) else {
            Glibc.close(fd)
            loop.core.reportException(
                message:
                    "protocol factory returned \(type(of: proto)), neither a ConnectionProtocol nor a BufferedConnectionProtocol",
                source: "\(server)"
            )
            return
        }
        let transport = SocketTransport(loop: loop, fd: fd, family: family, receiver: receiver, server: server)
        server.connectionAccepted(transport)
        transport.start(loop: loop)
    }
}

import Glibc

/// What closing is about in a socket transport: its descriptor, what the selector watches for it,
/// and how far closing went.
struct SelectorTransportState {
    /// The socket; -1 once it is closed.
    var fd: Int32
    /// What the selector watches for the socket now.
    var interest: SelectorEvents = []
    /// `close()` or a fatal error started closing.
    var isClosing = false
    /// `connectionLost` is scheduled or done; nothing else will reach the protocol.
    var lostScheduled = false
    /// Reading was not paused by `pauseReading` (for transports that read).
    var readingWanted = true
}

/// A transport over one socket, driven by the loop's selector: what `SocketTransport` and
/// `DatagramSocketTransport` share. Mirrors asyncio's `_SelectorTransport`.
///
/// Closing runs `close()` (stop reading; once nothing is left to write, schedule `connectionLost(nil)`)
/// or `forceClose(error)` (`abort()`, a fatal error: drop what is queued, schedule
/// `connectionLost(error)`); `lostScheduled` makes `connectionLost` happen exactly once. The
/// conformer's `callConnectionLost` tells its protocol, then calls `releaseDescriptor`: the socket
/// stays open while `connectionLost` runs, as in asyncio, so `extraInfo` can still be read there.
///
/// The selector's interest is recomputed from the conformer's state (`desiredInterest`) after every
/// change, so what the transport does and what the selector watches cannot drift apart.
/// Loop thread only.
protocol SelectorTransport: IOHandler {
    var loop: EventLoop { get }
    var selectorState: SelectorTransportState { get set }
    /// What the selector should watch, given the transport's state (nothing once `lostScheduled`).
    var desiredInterest: SelectorEvents { get }
    /// True when nothing waits to be written.
    var isWriteQueueEmpty: Bool { get }
    /// Drops what waits to be written (`abort()`, a fatal error).
    func dropWriteQueue()
    /// Tells the protocol `connectionLost(error)`, lets go of it, then calls `releaseDescriptor`.
    /// Called once, by `scheduleConnectionLost` or `loseConnectionIfClosing`.
    func callConnectionLost(_ error: (any Error)?, loop: isolated EventLoop)
}

extension SelectorTransport {
    /// The socket; -1 once it is closed.
    var fd: Int32 { selectorState.fd }
    var interest: SelectorEvents { selectorState.interest }
    var isClosing: Bool { selectorState.isClosing }
    var lostScheduled: Bool { selectorState.lostScheduled }

    // MARK: - Interest

    /// Makes the selector watch what the state asks for.
    ///
    /// If the selector refuses (ENOMEM, or the descriptor was closed under us), the transport cannot
    /// be driven any more: the error is reported and the transport force-closed with it.
    func updateInterest() {
        let wanted = desiredInterest
        guard wanted != interest, fd >= 0 else { return }
        let core = loop.core
        let registration = core.selector.registration(for: fd)
        registration.handler = wanted.isEmpty ? nil : self
        do {
            try core.selector.updateInterest(registration, to: wanted)
            selectorState.interest = wanted
        } catch {
            selectorState.interest = []
            registration.handler = nil
            core.reportException(message: "Fatal error: cannot watch socket \(fd)", error: error)
            forceClose(error)
        }
    }

    // MARK: - Reading flow control (for transports that read)

    /// True unless reading was paused or the transport is closing. Mirrors `is_reading()`.
    var isReading: Bool { selectorState.readingWanted && !isClosing }

    /// Stops reading until `resumeReading`. Mirrors `pause_reading()`.
    func pauseReading() {
        guard !isClosing, selectorState.readingWanted else { return }
        selectorState.readingWanted = false
        updateInterest()
    }

    /// Reads again. Mirrors `resume_reading()`.
    func resumeReading() {
        guard !isClosing, !selectorState.readingWanted else { return }
        selectorState.readingWanted = true
        updateInterest()
    }

    // MARK: - Closing

    /// Stops reading; once nothing is left to write, schedules `connectionLost(nil)`.
    ///
    /// Mirrors `transport.close()`.
    func close() {
        guard !isClosing else { return }
        selectorState.isClosing = true
        updateInterest()
        if isWriteQueueEmpty && !lostScheduled {
            selectorState.lostScheduled = true
            scheduleConnectionLost(nil)
        }
    }

    /// Closes at once, dropping what waits to be written. Mirrors `transport.abort()`.
    func abort() {
        forceClose(nil)
    }

    /// Drops what waits to be written, stops watching the socket and schedules
    /// `connectionLost(error)`, once. Mirrors `_force_close`.
    func forceClose(_ error: (any Error)?) {
        guard !lostScheduled else { return }
        dropWriteQueue()
        selectorState.isClosing = true
        selectorState.lostScheduled = true
        updateInterest()
        scheduleConnectionLost(error)
    }

    /// Calls `connectionLost` now if the transport was closing and its last queued bytes just went
    /// out (the writable handler's end).
    func loseConnectionIfClosing(loop: isolated EventLoop) {
        guard isClosing, !lostScheduled else { return }
        selectorState.lostScheduled = true
        callConnectionLost(nil, loop: loop)
    }

    /// Calls `callConnectionLost` in the next iteration, as asyncio's `call_soon` does.
    func scheduleConnectionLost(_ error: (any Error)?) {
        let core = loop.core
        core.callSoon(
            Handle(core: core) { [self] in
                loop.runIsolated(self) { transport, loop in transport.callConnectionLost(error, loop: loop) }
            }
        )
    }

    /// Stops watching the socket and closes it (the end of `callConnectionLost`).
    func releaseDescriptor(loop: isolated EventLoop) {
        selectorState.interest = []
        guard fd >= 0 else { return }
        loop.core.selector.deregister(fd, ownedBy: self)
        Glibc.close(fd)
        selectorState.fd = -1
    }
}

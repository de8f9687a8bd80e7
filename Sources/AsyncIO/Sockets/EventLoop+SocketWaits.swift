// Theory of operation
//
// A task in a `sockRecv` / `sockSendAll` loop (uvloop's echo "sockets" mode) waits for readiness
// once per message. Registering the descriptor for each wait and deregistering it after costs two
// `epoll_ctl` calls per message, about as many syscalls as the `recv` and `send` themselves.
//
// So a socket's wait leaves its interest armed when it ends: only the wake-up handle goes, and the
// registration (with its generation, which is in the epoll token) is remembered by the `Socket`.
// The next wait on that socket finds its own registration still in the loop's table and arms it
// with no syscall. Three rules keep that safe:
// - Readiness that arrives with nobody waiting disarms the registration (`LoopCore.dispatch`):
//   level-triggered epoll would otherwise report it on every poll. The next wait re-registers.
// - Only the socket that armed a registration trusts it, by identity. Anyone else asking the loop
//   for the descriptor (`addReader`, a transport, another `Socket` that got the same number after
//   a close) finds an armed registration with nothing attached, and `registration(for:)` replaces
//   it: deregistered, and a fresh one with a new generation.
// - `Socket.close()`, `detach()` and deinit release the registration *before* the descriptor
//   goes: epoll keys its entries by open file description, so a descriptor closed while a `dup`
//   of it lives on would stay registered under the old token, out of reach. A wait pending at that
//   moment is woken; its retry then fails with EBADF instead of hanging.
import Glibc

/// What a socket's waits hold in one loop: the registration they keep armed, and a wake-up per
/// direction, made at the first wait that way and reused by the next ones. Stored by the
/// `Socket`; used on that loop's thread only.
struct SocketWaits {
    /// Strong: its wait points hold the core anyway, and a weak reference would give the core a
    /// side table, which makes every retain and release of it take the slow path.
    let core: LoopCore
    let registration: IORegistration
    var reading: ReadinessWait?
    var writing: ReadinessWait?
    /// The last receive took less than it asked for, so the stream's buffer was empty then.
    var drained = false

    init(core: LoopCore, registration: IORegistration) {
        self.core = core
        self.registration = registration
    }

    /// The wake-up for waits in one direction, made on first use, and again if its handle was
    /// cancelled (`addReader` on the descriptor replaced it).
    mutating func wait(writable: Bool, core: LoopCore) -> ReadinessWait {
        if writable {
            if let writing, !writing.handle.isCancelled { return writing }
            writing = ReadinessWait(core: core)
            return writing!
        }
        if let reading, !reading.handle.isCancelled { return reading }
        reading = ReadinessWait(core: core)
        return reading!
    }
}

/// One direction's wait: the point a task waits on, and the handle that wakes it, which the wait
/// installs as the registration's reader (or writer) while it lasts. Neither is allocated per wait.
struct ReadinessWait {
    let point: WaitPoint
    let handle: Handle

    init(core: LoopCore) {
        let point = WaitPoint(core: core)
        self.point = point
        handle = Handle(core: core) { point.wake() }
    }
}

extension EventLoop {
    /// Suspends until `socket` (whose descriptor is `fd`) is readable, or writable.
    ///
    /// Cancelling the waiting task removes the wait, as asyncio's `sock_recv` removes its reader;
    /// the interest stays armed in the selector for the socket's next wait (see above).
    ///
    /// - Throws: `AsyncIOError.invalidState` if another task waits on the socket the same way
    ///   (asyncio replaces that task's reader, which leaves it waiting forever); `CancelledError`.
    ///
    /// Nonisolated, like the helpers below and the `sock*` coroutines that call it, so that it runs
    /// where its caller runs, on the loop's thread: as an isolated method, entering and leaving it
    /// cost an executor switch each, for every message of a `sockRecv`/`sockSendAll` loop.
    nonisolated func waitReady(_ socket: Socket, _ fd: Int32, writable: Bool) async throws {
        assert(core.isOnLoopThread, "a socket wait off its loop's thread")
        let registration = try armedRegistration(socket, fd, events: writable ? .writable : .readable)
        let wait = socket.waits!.wait(writable: writable, core: core)
        guard !wait.point.isBusy else {
            throw AsyncIOError.invalidState(
                "another task is already waiting for this socket to be \(writable ? "writable" : "readable")"
            )
        }
        let handle = wait.handle
        if writable {
            if let other = registration.writer, other !== handle { other.cancel() }
            registration.writer = handle
        } else {
            if let other = registration.reader, other !== handle { other.cancel() }
            registration.reader = handle
        }
        defer {
            // Only the wake-up goes; the interest stays armed for the next wait.
            if writable {
                if registration.writer === handle { registration.writer = nil }
            } else {
                if registration.reader === handle { registration.reader = nil }
            }
        }
        try await wait.point.suspend()
    }

    /// True when a receive on `socket` would find nothing: its last one emptied the stream's
    /// buffer, and the loop has watched it for readability ever since without a report.
    ///
    /// Readiness arriving with nobody waiting disarms the registration (`LoopCore.dispatch`), so
    /// "still armed" means "nothing arrived unseen"; what arrives later is reported at the next
    /// poll. Then `sockRecv` waits first, as Tokio does after a short read, and saves the recv that
    /// asyncio would make only to get EAGAIN (most of them, in a request/response exchange).
    nonisolated func isKnownDrained(_ socket: Socket) -> Bool {
        guard let waits = socket.waits, waits.drained, waits.core === core else { return false }
        return core.selector.existingRegistration(for: waits.registration.fd) === waits.registration
            && waits.registration.interest.contains(.readable)
    }

    /// Records whether the last receive on `socket` emptied its buffer (a short read on a stream).
    nonisolated func noteReceived(_ socket: Socket, drained: Bool) {
        guard socket.waits != nil else { return }
        socket.waits?.drained = drained
    }

    /// The socket's registration in this loop, armed for `events`: its own one if the loop still
    /// has it (usually no syscall), otherwise a new one.
    private nonisolated func armedRegistration(
        _ socket: Socket,
        _ fd: Int32,
        events: SelectorEvents
    ) throws -> IORegistration {
        if let waits = socket.waits, waits.core === core,
            core.selector.existingRegistration(for: fd) === waits.registration
        {
            let registration = waits.registration
            if !registration.interest.contains(events) {
                try core.selector.updateInterest(registration, to: registration.interest.union(events))
            }
            return registration
        }
        // Released from another loop, or dropped by this one (disarmed, or taken by `addReader`).
        socket.releaseWaits()
        let registration = core.selector.registration(for: fd)
        guard registration.handler == nil else {
            throw TransportError.invalidValue("File descriptor \(fd) is used by transport")
        }
        try core.selector.updateInterest(registration, to: registration.interest.union(events))
        socket.waits = SocketWaits(core: core, registration: registration)
        return registration
    }
}

extension Socket {
    /// Forgets the registration this socket's waits keep armed: deregistered (while the descriptor
    /// is still open) if its loop still has it, and any wait pending on it woken.
    ///
    /// Called before the descriptor is closed or detached. Off the loop's thread (a socket dropped
    /// after its loop stopped) it only forgets: the loop then no longer trusts the registration.
    func releaseWaits() {
        guard let waits else { return }
        self.waits = nil
        let core = waits.core
        guard core.isOnLoopThread,
            core.selector.existingRegistration(for: waits.registration.fd) === waits.registration
        else { return }
        let registration = waits.registration
        registration.reader = nil
        registration.writer = nil
        try? core.selector.updateInterest(registration, to: [])
        waits.reading?.point.wake()
        waits.writing?.point.wake()
    }
}

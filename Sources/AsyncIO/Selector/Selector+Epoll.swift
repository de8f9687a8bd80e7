// Theory of operation
//
// Some facts about epoll this file relies on (after trio's `_io_epoll.py`):
// - Registration is per file *description*, keyed by fd. We register each fd once and change its
//   interest with EPOLL_CTL_MOD; the selector keeps one registration object per fd (`Selector.swift`).
// - We use level-triggered mode. A transport that reads only part of what is buffered (it reads
//   at most one buffer per readiness, for fairness between connections) is told again on the next
//   iteration without a syscall of its own. Edge-triggered would save an epoll_ctl when interest
//   changes, but would make every handler drain until EAGAIN, which is unfair under load.
// - EPOLLERR and EPOLLHUP are always reported, whatever the interest. We pass them on as `.error`
//   and the handler finds out what happened from its next read or write, the way asyncio does.
// - EPOLLRDHUP tells that the peer shut down its write side; we ask for it (with read interest
//   only, since it is level-triggered) so a half-closed connection is noticed even when no data
//   comes with it.
// - The 64-bit user data carries the selector's token (fd plus a generation) so an event for an fd
//   that was closed and reused within one batch is recognised as stale and dropped (by the
//   selector).
// - `epoll_pwait2` takes a timespec, so timers keep nanosecond precision; on kernels without it
//   the shim falls back to `epoll_wait`, rounding the timeout up to the next millisecond so that
//   timers are never woken early.
// - EINTR is not an error: the loop just runs another iteration.
import CAsyncIOShims
import Glibc

/// The backend this platform's selector uses (Linux). The loop and the selector name no backend.
typealias PlatformSelectorBackend = EpollBackend

/// epoll.
final class EpollBackend: SelectorBackend {
    let epollFD: Int32
    private let capacity = 1024
    // SAFETY: allocated once with `capacity` elements, freed in deinit, only used on the loop thread.
    private let events: UnsafeMutablePointer<epoll_event>

    init() throws(SystemError) {
        let fd = casyncio_epoll_create()
        guard fd >= 0 else { throw SystemError(call: "epoll_create1") }
        epollFD = fd
        events = .allocate(capacity: capacity)
    }

    deinit {
        events.deallocate()
    }

    private static func epollMask(_ interest: SelectorEvents) -> UInt32 {
        // EPOLLRDHUP only with read interest: it is level-triggered, so a half-closed peer would
        // otherwise wake a descriptor watched for writing only (reading paused) on every iteration.
        var mask: UInt32 = 0
        if interest.contains(.readable) { mask |= CASYNCIO_EPOLLIN | CASYNCIO_EPOLLRDHUP }
        if interest.contains(.writable) { mask |= CASYNCIO_EPOLLOUT }
        return mask
    }

    func register(fd: Int32, interest: SelectorEvents, token: UInt64) throws(SystemError) {
        guard casyncio_epoll_ctl(epollFD, CASYNCIO_EPOLL_CTL_ADD, fd, Self.epollMask(interest), token) == 0 else {
            throw SystemError(call: "epoll_ctl(ADD)")
        }
    }

    func modify(fd: Int32, interest: SelectorEvents, token: UInt64) throws(SystemError) {
        guard casyncio_epoll_ctl(epollFD, CASYNCIO_EPOLL_CTL_MOD, fd, Self.epollMask(interest), token) == 0 else {
            throw SystemError(call: "epoll_ctl(MOD)")
        }
    }

    func deregister(fd: Int32) throws(SystemError) {
        guard casyncio_epoll_ctl(epollFD, CASYNCIO_EPOLL_CTL_DEL, fd, 0, 0) == 0 else {
            throw SystemError(call: "epoll_ctl(DEL)")
        }
    }

    @inline(__always)
    func wait(timeoutNanoseconds: Int64, _ body: (UInt64, SelectorEvents) -> Void) throws(SystemError) {
        let ready = casyncio_epoll_wait(epollFD, events, Int32(capacity), timeoutNanoseconds)
        if ready < 0 {
            if errno == EINTR { return }
            throw SystemError(call: "epoll_wait")
        }
        for index in 0..<Int(ready) {
            let event = events + index
            let mask = casyncio_epoll_event_events(event)
            var reported: SelectorEvents = []
            if mask & CASYNCIO_EPOLLIN != 0 { reported.insert(.readable) }
            if mask & CASYNCIO_EPOLLOUT != 0 { reported.insert(.writable) }
            if mask & CASYNCIO_EPOLLRDHUP != 0 { reported.formUnion([.readable, .readHangup]) }
            if mask & (CASYNCIO_EPOLLERR | CASYNCIO_EPOLLHUP) != 0 {
                reported.formUnion([.readable, .writable, .error])
            }
            body(casyncio_epoll_event_data(event), reported)
        }
    }

    func close() {
        _ = Glibc.close(epollFD)
    }
}

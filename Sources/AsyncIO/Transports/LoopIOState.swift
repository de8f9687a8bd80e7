import CAsyncIOShims
import Glibc

/// What a loop's transports share: the read buffer every socket transport reads into, and the
/// loop's signal handlers.
///
/// One per loop (`LoopCore.io`, made on first use), touched on the loop thread only. The read
/// buffer is lent to one protocol at a time, for the duration of one `dataReceived` call: the loop
/// dispatches readiness one descriptor after another and never reads while a protocol runs.
final class LoopIOState {
    /// The size of the shared read buffer, asyncio's `max_size` (256 KiB there; DESIGN §3 picks 64 KiB).
    static let readBufferSize = 64 * 1024

    // SAFETY: allocated once here, freed in deinit, used only on the loop thread (see above).
    let readBuffer: UnsafeMutableRawBufferPointer

    /// Signal handling state, made by the first `addSignalHandler`.
    var signals: SignalState?

    init() {
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
        signals?.release()
    }
}

extension LoopCore {
    /// Forgets what the loop remembers about `fd` from a previous owner of the number.
    ///
    /// A descriptor closed while a reader or writer was registered for it (a `Socket` closed
    /// during `sockRecv`, say) leaves its registration behind; epoll dropped the descriptor when it
    /// was closed, but the table still claims the old interest, so a new descriptor with the same
    /// number would never be added to epoll. A transport adopting a fresh descriptor calls this
    /// first. Loop thread only.
    func dropStaleRegistration(for fd: Int32) {
        guard let stale = existingRegistration(for: fd) else { return }
        stale.reader?.cancel()
        stale.writer?.cancel()
        stale.reader = nil
        stale.writer = nil
        stale.handler = nil
        try? updateInterest(stale, to: [])
    }
}

extension EventLoop {
    /// Runs `body` isolated to this loop, without a runtime check: for the transports' own entry
    /// points (readiness dispatch, scheduled callbacks), which run on the loop thread by
    /// construction but are not visibly isolated to the compiler.
    ///
    /// `object` and `argument` are passed through (not captured) so that, inside `body`, they are in
    /// the loop's region — and so that a hot path can pass a closure that captures nothing, which
    /// costs no allocation (a capturing closure here is boxed by `withoutActuallyEscaping`).
    /// Exposed as SPI for transports written outside this module (AsyncIOTesting's `MemoryTransport`):
    /// call it only from a non-Sendable transport's methods, on the loop thread.
    @_spi(Transports)
    @inline(__always)
    public nonisolated func runIsolated<Object: AnyObject, Argument>(
        _ object: Object,
        _ argument: Argument,
        _ body: (Object, Argument, isolated EventLoop) -> Void
    ) {
        assert(core.isOnLoopThread, "a transport was used off its loop's thread")
        withoutActuallyEscaping(body) { escapable in
            // SAFETY: the caller runs on this loop's thread (transports are non-Sendable, created on
            // the loop and driven only by its iteration), which is exactly the isolation `body`
            // asks for. An `isolated` parameter changes no calling convention, so the cast only
            // drops the static claim, as the standard library's `assumeIsolated` does after its check.
            let nonisolatedBody = unsafeBitCast(escapable, to: ((Object, Argument, EventLoop) -> Void).self)
            nonisolatedBody(object, argument, self)
        }
    }

    /// `runIsolated(_:_:_:)` without an argument (for paths where an allocation does not matter).
    @_spi(Transports)
    @inline(__always)
    public nonisolated func runIsolated<Object: AnyObject>(
        _ object: Object,
        _ body: (Object, isolated EventLoop) -> Void
    ) {
        assert(core.isOnLoopThread, "a transport was used off its loop's thread")
        withoutActuallyEscaping(body) { escapable in
            // SAFETY: as in `runIsolated(_:_:_:)`.
            unsafeBitCast(escapable, to: ((Object, EventLoop) -> Void).self)(object, self)
        }
    }
}

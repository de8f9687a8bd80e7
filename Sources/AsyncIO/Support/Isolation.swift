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

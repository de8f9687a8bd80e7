// Entering the loop's isolation from code that runs on the loop thread but is not visibly isolated
// to the compiler: a transport's readiness handler (`IOHandler.ioReady`, called by the selector), a
// transport method a protocol calls (`write`, which may have to call `pauseWriting`), a listener
// accepting connections. Protocol callbacks take `loop: isolated EventLoop` (decision record 0004),
// so these entry points need the isolation to call them.
//
// Every such entry goes through `runIsolatedUnchecked`, the one place where `isolated` is cast away
// from a function type; `runIsolated` is its public, checked form.

extension EventLoop {
    /// Runs `body` isolated to this loop, from code that runs on the loop's thread but is not
    /// isolated to it in the compiler's eyes: a transport's own entry points.
    ///
    /// A transport written outside this module (an in-memory pair, TLS over another transport) is
    /// a non-Sendable object driven by the loop. Its methods (`write`, `close`, …) are called by
    /// protocols on the loop thread, yet they are plain methods, so they cannot call the protocol's
    /// callbacks, which take `loop: isolated EventLoop`. This is the bridge:
    ///
    /// ```swift
    /// public func write(_ data: Span<UInt8>) throws(TransportError) {
    ///     …
    ///     if flow.shouldPause(size: buffered) {
    ///         loop.runIsolated(self) { transport, loop in transport.proto.pauseWriting(loop: loop) }
    ///     }
    /// }
    /// ```
    ///
    /// `object` and `argument` are passed through rather than captured, so that inside `body` they
    /// are in the loop's region; and so that a hot path can pass a closure that captures nothing,
    /// which costs no allocation.
    ///
    /// Like the standard library's `Actor.assumeIsolated`, it checks the thread and stops the
    /// program when called anywhere else (a transport used off its loop's thread is a bug that no
    /// error value could undo: its state may already be torn). Unlike `assumeIsolated`, the
    /// closure may use non-Sendable values it is given, because they are passed as parameters.
    ///
    /// - Parameters:
    ///   - object: the transport (or any object of the loop's region) the body works on.
    ///   - argument: a value the body needs, passed without a capture.
    ///   - body: the code to run, isolated to this loop.
    @inline(__always)
    public nonisolated func runIsolated<Object: AnyObject, Argument>(
        _ object: Object,
        _ argument: Argument,
        _ body: (Object, Argument, isolated EventLoop) -> Void
    ) {
        precondition(core.isOnLoopThread, "runIsolated called off the event loop's thread")
        runIsolatedUnchecked(object, argument, body)
    }

    /// `runIsolated(_:_:_:)` without an argument.
    ///
    /// - Parameters:
    ///   - object: the transport (or any object of the loop's region) the body works on.
    ///   - body: the code to run, isolated to this loop.
    @inline(__always)
    public nonisolated func runIsolated<Object: AnyObject>(
        _ object: Object,
        _ body: (Object, isolated EventLoop) -> Void
    ) {
        precondition(core.isOnLoopThread, "runIsolated called off the event loop's thread")
        // The body is handed over as the argument, not captured, so that it lands in the loop's region.
        withoutActuallyEscaping(body) { body in
            runIsolatedUnchecked(object, body) { object, body, loop in body(object, loop) }
        }
    }

    /// `runIsolated(_:_:_:)` without the thread check, for the module's own entry points that run on
    /// the loop thread by construction (readiness dispatch): the one place `isolated` is cast away.
    @inline(__always)
    nonisolated func runIsolatedUnchecked<Object: AnyObject, Argument>(
        _ object: Object,
        _ argument: Argument,
        _ body: (Object, Argument, isolated EventLoop) -> Void
    ) {
        assert(core.isOnLoopThread, "a transport was used off its loop's thread")
        withoutActuallyEscaping(body) { escapable in
            // SAFETY: the caller runs on this loop's thread (checked by `runIsolated`; by
            // construction for readiness dispatch, where the loop calls `ioReady` from its own
            // iteration), which is exactly the isolation `body` asks for. An `isolated` parameter
            // changes no calling convention, so the cast only drops the static claim, as the
            // standard library's `assumeIsolated` does after its check. `withoutActuallyEscaping`
            // verifies that `body` does not outlive this call.
            let nonisolatedBody = unsafeBitCast(escapable, to: ((Object, Argument, EventLoop) -> Void).self)
            nonisolatedBody(object, argument, self)
        }
    }
}

import Glibc

/// A thread-safe Future: Python's `concurrent.futures.Future`.
///
/// Returned by `runCoroutineThreadSafe` and `EventLoopThread.submit`; complete it from any thread,
/// wait for it by blocking (`result(timeout:)`, for threads) or by awaiting (`value`, for Swift
/// tasks), or turn it into a loop Future with `EventLoop.wrapFuture`.
public final class ConcurrentFuture<Value: Sendable>: @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): `outcome`, `callbacks` and `cancelHook` are only touched with
    // `condition`'s mutex held.
    private let condition = PThreadCondition()
    private var outcome: Result<Value, any Error>?
    private var callbacks: [@Sendable (ConcurrentFuture<Value>) -> Void] = []
    private var cancelHook: (@Sendable () -> Void)?

    public init() {}

    /// True once it has a result, an error, or was cancelled.
    public var isDone: Bool { condition.withLock { outcome != nil } }

    /// True if it was cancelled.
    public var isCancelled: Bool {
        condition.withLock {
            if case .failure(let error) = outcome { return error is CancelledError }
            return false
        }
    }

    /// Completes it with `result`; returns false (and changes nothing) if it was already done.
    @discardableResult
    public func complete(_ result: Result<Value, any Error>) -> Bool {
        finish(result) != nil
    }

    /// Sets the outcome and runs the callbacks; returns the cancel hook, or nil if already done.
    private func finish(_ result: Result<Value, any Error>) -> (@Sendable () -> Void)?? {
        let taken: (callbacks: [@Sendable (ConcurrentFuture<Value>) -> Void], hook: (@Sendable () -> Void)?)? =
            condition.withLock {
                guard outcome == nil else { return nil }
                outcome = result
                defer {
                    callbacks = []
                    cancelHook = nil
                }
                return (callbacks, cancelHook)
            }
        guard let taken else { return nil }
        condition.broadcast()
        for callback in taken.callbacks { callback(self) }
        return .some(taken.hook)
    }

    /// Cancels it if pending, and whatever produces its value (the loop task, for
    /// `runCoroutineThreadSafe`). Returns false if it was already done.
    @discardableResult
    public func cancel() -> Bool {
        // The outcome and the hook are taken under one lock, so a hook installed concurrently is
        // either seen here or told at installation that the future is already cancelled.
        guard let hook = finish(.failure(CancelledError())) else { return false }
        hook?()
        return true
    }

    /// Calls `callback` (on the completing thread, or at once if done) when it completes.
    public func addDoneCallback(_ callback: @escaping @Sendable (ConcurrentFuture<Value>) -> Void) {
        let runNow = condition.withLock {
            guard outcome == nil else { return true }
            callbacks.append(callback)
            return false
        }
        if runNow { callback(self) }
    }

    /// Installs what `cancel()` calls; calls it at once if the future was cancelled already.
    func onCancel(_ hook: @escaping @Sendable () -> Void) {
        let cancelledAlready = condition.withLock {
            guard let outcome else {
                cancelHook = hook
                return false
            }
            if case .failure(let error) = outcome { return error is CancelledError }
            return false
        }
        if cancelledAlready { hook() }
    }

    /// Blocks the calling thread until it completes (or `timeout` passes), then returns the result.
    ///
    /// Never call this on a loop thread or from a Swift task: it blocks. Use `value` there.
    /// - Throws: its error; `CancelledError`; `AsyncIOError.timeout` if `timeout` passed first.
    public func result(timeout: Duration? = nil) throws -> Value {
        let deadline = timeout.map { Self.realtimeDeadline(after: $0) }
        let outcome: Result<Value, any Error>? = condition.withLock {
            while self.outcome == nil {
                if let deadline {
                    if !condition.wait(until: deadline) && self.outcome == nil { return nil }
                } else {
                    condition.wait()
                }
            }
            return self.outcome
        }
        guard let outcome else { throw AsyncIOError.timeout }
        return try outcome.get()
    }

    /// Waits for the result without blocking a thread. Cancelling the waiting Swift task cancels it.
    public var value: Value {
        get async throws {
            let outcome: Result<Value, any Error> = await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    addDoneCallback { future in
                        continuation.resume(returning: future.condition.withLock { future.outcome! })
                    }
                }
            } onCancel: {
                cancel()
            }
            return try outcome.get()
        }
    }

    private static func realtimeDeadline(after duration: Duration) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let total = Int64(now.tv_nsec) + duration.nanosecondsClamped
        return timespec(
            tv_sec: now.tv_sec + Int(total / 1_000_000_000),
            tv_nsec: Int(total % 1_000_000_000)
        )
    }
}

extension EventLoop {
    /// Submits `body` to this loop from any thread and returns a thread-safe Future of its result.
    ///
    /// Cancelling the returned Future cancels the loop task. Mirrors
    /// `asyncio.run_coroutine_threadsafe()`.
    /// - Throws: `AsyncIOError.loopState` if the loop is closed.
    public nonisolated func runCoroutineThreadSafe<Value: Sendable>(
        _ body: @escaping @Sendable (isolated EventLoop) async throws -> Value
    ) throws(AsyncIOError) -> ConcurrentFuture<Value> {
        let future = ConcurrentFuture<Value>()
        try callSoonThreadSafe { [self] in
            assumeIsolated { loop in
                let task = loop.createTask { try await body(loop) }
                // SAFETY: the task is only touched on the loop thread: the hook hops there first.
                let transfer = UnsafeTransfer(task)
                future.onCancel { [core] in
                    core.callSoonThreadSafe { transfer.value.cancel() }
                }
                task.addDoneCallback { task in
                    future.complete(Result { try task.result() })
                }
            }
        }
        return future
    }

    /// A loop Future that completes when `concurrentFuture` does; cancelling it cancels that one.
    ///
    /// Mirrors `asyncio.wrap_future()`.
    public func wrapFuture<Value: Sendable>(_ concurrentFuture: ConcurrentFuture<Value>) -> Future<Value> {
        let future = Future<Value>(core: core)
        let resolver = future.resolver
        future.addDoneCallback { future in
            if future.isCancelled { concurrentFuture.cancel() }
        }
        concurrentFuture.addDoneCallback { done in
            resolver.resolve(Result { try done.result() })
        }
        return future
    }
}

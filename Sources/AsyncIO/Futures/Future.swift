/// A token that identifies a done callback, so that it can be removed (Swift closures have no identity).
public struct CallbackToken: Hashable, Sendable {
    let value: Int
}

/// Something that can be cancelled like a Future; what a task remembers it is waiting on.
protocol FutureCancelling: AnyObject {
    func cancel(message: String?) -> Bool
}

/// A promise of a result or an error, completed on its loop: asyncio's `Future`.
///
/// A Future belongs to one loop and is used from that loop's thread only; it is not `Sendable`, so
/// the compiler keeps it there. To complete one from another thread, use a `FutureResolver` (see
/// `EventLoop.createFuture()`'s documentation and "Undoing callbacks" in the docs).
///
/// States: `pending -> (result | exception | cancelled)`, each final. Setting a done Future throws
/// `AsyncIOError.invalidState`. Done callbacks are scheduled with `callSoon` when it completes, in
/// the order they were added; a task awaiting it is resumed in that same order.
///
/// Mirrors `asyncio.Future`. Deviations: `addDoneCallback` returns a token for
/// `removeDoneCallback` instead of comparing functions; `await future.value` replaces `await future`.
public class Future<Value>: FutureCancelling, CustomStringConvertible {
    enum State {
        case pending
        case succeeded(Value)
        case failed(any Error)
        case cancelled(String?)
    }

    enum Waiter {
        case callback(Int, (Future<Value>) -> Void)
        case continuation(UnsafeContinuation<Void, Never>)
    }

    let core: LoopCore
    var state: State = .pending
    /// Whether someone looked at the exception (for "exception was never retrieved").
    var retrieved = false
    private var firstWaiter: Waiter?
    private var moreWaiters: [Waiter] = []

    /// Creates a pending Future on `loop`. Mirrors `loop.create_future()`.
    public init(loop: isolated EventLoop) {
        core = loop.core
    }

    /// Creates a pending Future on the loop running on this thread, for code that runs on the loop
    /// without being isolated to it (a library's nonisolated async function).
    ///
    /// - Throws: `AsyncIOError.loopState` when no loop runs on this thread. Mirrors `asyncio.Future()`
    ///   without `loop=`, which takes the running loop.
    public convenience init() throws(AsyncIOError) {
        self.init(core: try loopForAwait().core)
    }

    init(core: LoopCore) {
        self.core = core
    }

    deinit {
        if case .failed(let error) = state, !retrieved, !(error is CancelledError) {
            core.reportException(
                message: self is any AnyLoopTask
                    ? "Task exception was never retrieved" : "Future exception was never retrieved",
                error: error,
                source: "\(Self.self)"
            )
        }
    }

    public var description: String { "<Future \(stateName)>" }

    /// The loop this Future belongs to.
    public var loop: EventLoop { core.facade! }

    // MARK: - State

    /// True when the Future has a result, an exception, or was cancelled. Mirrors `done()`.
    public var isDone: Bool {
        if case .pending = state { return false }
        return true
    }

    /// True when the Future was cancelled. Mirrors `cancelled()`.
    public var isCancelled: Bool {
        if case .cancelled = state { return true }
        return false
    }

    /// The result.
    ///
    /// - Throws: the Future's error; `CancelledError` if it was cancelled;
    ///   `AsyncIOError.invalidState` if it is still pending. Mirrors `result()`.
    public func result() throws -> Value {
        switch state {
        case .pending: throw AsyncIOError.invalidState("Result is not set.")
        case .succeeded(let value): return value
        case .failed(let error):
            retrieved = true
            throw error
        case .cancelled(let message): throw CancelledError(message: message)
        }
    }

    /// The error the Future failed with, or nil if it has a result.
    ///
    /// - Throws: `CancelledError` if it was cancelled; `AsyncIOError.invalidState` if it is pending.
    ///   Mirrors `exception()`.
    public func exception() throws -> (any Error)? {
        switch state {
        case .pending: throw AsyncIOError.invalidState("Exception is not set.")
        case .succeeded: return nil
        case .failed(let error):
            retrieved = true
            return error
        case .cancelled(let message): throw CancelledError(message: message)
        }
    }

    // MARK: - Completing

    /// Marks the Future done with a result and schedules its callbacks. Mirrors `set_result()`.
    ///
    /// - Throws: `AsyncIOError.invalidState` if it is already done.
    public func setResult(_ value: Value) throws(AsyncIOError) {
        guard case .pending = state else { throw AsyncIOError.invalidState("\(stateName): cannot set a result") }
        complete(.succeeded(value))
    }

    /// Marks the Future done with an error and schedules its callbacks. Mirrors `set_exception()`.
    ///
    /// - Throws: `AsyncIOError.invalidState` if it is already done.
    public func setException(_ error: any Error) throws(AsyncIOError) {
        guard case .pending = state else { throw AsyncIOError.invalidState("\(stateName): cannot set an exception") }
        complete(.failed(error))
    }

    /// Cancels the Future if it is pending and schedules its callbacks.
    ///
    /// Cancelling a Future that already failed counts as looking at its error: it is not reported
    /// as "never retrieved".
    ///
    /// - Returns: false if it was already done. Mirrors `cancel(msg=None)`.
    @discardableResult
    public func cancel(message: String? = nil) -> Bool {
        guard case .pending = state else {
            retrieved = true  // asyncio clears its "log the traceback" flag first
            return false
        }
        complete(.cancelled(message))
        return true
    }

    var stateName: String {
        switch state {
        case .pending: "pending"
        case .succeeded: "finished"
        case .failed: "finished with an exception"
        case .cancelled: "cancelled"
        }
    }

    /// Sets the state and wakes everyone who waits, in the order they started waiting.
    func complete(_ newState: State) {
        state = newState
        guard let first = firstWaiter else { return }
        firstWaiter = nil
        wake(first)
        guard !moreWaiters.isEmpty else { return }
        let rest = moreWaiters
        moreWaiters = []
        for waiter in rest { wake(waiter) }
    }

    private func wake(_ waiter: Waiter) {
        switch waiter {
        case .callback(_, let callback):
            core.callSoon(Handle(core: core) { callback(self) })
        case .continuation(let continuation):
            continuation.resume()
        }
    }

    private func append(_ waiter: Waiter) {
        if firstWaiter == nil && moreWaiters.isEmpty {
            firstWaiter = waiter
        } else {
            moreWaiters.append(waiter)
        }
    }

    // MARK: - Callbacks

    /// Adds a callback to run (via `callSoon`) when the Future is done; at once if it already is.
    ///
    /// - Returns: a token for `removeDoneCallback`. Mirrors `add_done_callback()`.
    @discardableResult
    public func addDoneCallback(_ callback: @escaping (Future<Value>) -> Void) -> CallbackToken {
        // Tokens come from the loop, not from each Future: a counter per Future would make every
        // Future (and every task) a word bigger.
        core.callbackTokens += 1
        let token = CallbackToken(value: core.callbackTokens)
        if isDone {
            core.callSoon(Handle(core: core) { callback(self) })
        } else {
            append(.callback(token.value, callback))
        }
        return token
    }

    /// Removes a callback added with `addDoneCallback`.
    ///
    /// - Returns: how many callbacks were removed (0 or 1). Mirrors `remove_done_callback()`.
    @discardableResult
    public func removeDoneCallback(_ token: CallbackToken) -> Int {
        func matches(_ waiter: Waiter) -> Bool {
            if case .callback(let id, _) = waiter { return id == token.value }
            return false
        }
        if let first = firstWaiter, matches(first) {
            firstWaiter = moreWaiters.isEmpty ? nil : moreWaiters.removeFirst()
            return 1
        }
        if let index = moreWaiters.firstIndex(where: matches) {
            moreWaiters.remove(at: index)
            return 1
        }
        return 0
    }

    // MARK: - Awaiting

    /// Waits until the Future is done and returns its result (asyncio's `await future`).
    ///
    /// Cancelling the task that waits here (with `LoopTask.cancel`) cancels this Future, as in
    /// asyncio; wrap it in `shield` to prevent that. Swift cancellation of the waiting task does the
    /// same, hopping to the loop first.
    ///
    /// - Throws: what `result()` throws.
    public var value: Value {
        get async throws {
            // `isDone`, not a look at `state` here: copying a generic enum in an async function takes
            // room in the task's allocator, and this frame stays there while the task waits.
            if !isDone {
                try await waitUntilDone()
                if !isDone && core.isClosed { throw closedLoopError() }
            }
            return try result()
        }
    }

    /// Why a wait ended with the Future still pending: its loop was closed, so nothing can
    /// complete it any more (a wait from outside a task returns at once on a closed loop).
    @inline(never)
    func closedLoopError() -> AsyncIOError {
        .loopState("Event loop is closed: the Future can never complete (\(self))")
    }

    /// Suspends the current task until the Future is done, without fetching the result.
    ///
    /// The task records what it waits on, and the waiter is added, in one synchronous step inside
    /// the continuation's closure: the runtime may hop executors on the way to that closure, and a
    /// cancellation that ran in between must find either no waiter and a `mustCancel` flag, or the
    /// waiter in place.
    ///
    /// The synchronous steps are out-of-line calls on purpose: the temporaries of code inlined into
    /// an async function end up in its frame, which stays in the task's allocator while it waits.
    func waitUntilDone() async throws(CancelledError) {
        guard let task = try core.taskAboutToWait() else { return await waitUntilDoneOrSwiftCancelled() }
        await suspendOnLoop { suspend($0, task: task) }
        try task.stoppedWaiting(on: self)
    }

    /// Waits outside a LoopTask (see `LoopCore.suspendOutsideLoopTask`).
    @inline(never)
    private func waitUntilDoneOrSwiftCancelled() async {
        // SAFETY: both closures run on the loop's thread (`suspendOutsideLoopTask` hands them there).
        await core.suspendOutsideLoopTask(
            park: UnsafeTransfer({ self.suspend($0, task: nil) }),
            onCancel: UnsafeTransfer({ _ = self.cancel(message: nil) })
        )
    }

    /// Parks `continuation` until the Future completes, or resumes it at once if there is no
    /// reason to wait any more (the Future completed, or the task was cancelled, meanwhile).
    @inline(never)
    private func suspend(_ continuation: UnsafeContinuation<Void, Never>, task: (any RunningLoopTask)?) {
        assert(core.isOnLoopThread, "a Future's waiter added off its loop's thread")
        if isDone || task?.mustCancel == true {
            continuation.resume()
            return
        }
        task?.waitingOn = self
        append(.continuation(continuation))
    }
}

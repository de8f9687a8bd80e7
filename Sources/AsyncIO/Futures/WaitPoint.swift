/// A reusable place where one task at a time waits until the loop wakes it: what a reader of a
/// byte stream (a `StreamReader`, an HTTP request body, a WebSocket, a Redis connection) waits on
/// for data, where asyncio makes a Future per wait.
///
/// The code that owns the data waits with ``wait()``; the code that feeds it (a protocol's
/// `dataReceived`) calls ``wake()``, ``wake(throwing:)`` at the end, or nothing while the data is
/// not there yet. A wait allocates nothing: an echo server's task waits once per message, and a
/// fresh Future each time (its allocation, its generic state, its waiter list) was a tenth of what
/// a message cost.
///
/// ```swift
/// final class Lines: ConnectionProtocol {
///     private var buffer: [UInt8] = []
///     private let arrived: WaitPoint
///
///     init(loop: EventLoop) { arrived = WaitPoint(loop: loop) }
///
///     func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {
///         buffer.append(contentsOf: data)
///         arrived.wake()
///     }
///
///     /// Called by a task on the loop.
///     func nextLine() async throws -> [UInt8] {
///         while true {
///             if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
///                 let line = Array(buffer[...newline])
///                 buffer.removeSubrange(...newline)
///                 return line
///             }
///             try await arrived.wait()
///         }
///     }
/// }
/// ```
///
/// Rules (the sharp edges are the caller's to keep):
/// - One waiter at a time. A second ``wait()`` while ``isBusy`` throws `AsyncIOError.invalidState`,
///   as asyncio's reader raises when two coroutines wait for data at once.
/// - A wake-up is not remembered: ``wake()`` with nobody waiting does nothing. So check your
///   condition, then wait, then check it again (a loop, as above); between the check and the wait
///   nothing else runs, because both happen on the loop thread without an `await` in between.
/// - Loop thread only, like a Future: the point is not `Sendable`, so the compiler keeps it in the
///   region it was made in. ``wait()`` checks the thread and throws `AsyncIOError.loopState` off
///   its loop.
///
/// Cancellation works as for a Future: a `LoopTask` waiting here sees the point as what it waits on,
/// so `LoopTask.cancel(message:)` ends the wait and the `await` throws `CancelledError(message)`;
/// outside a LoopTask (a Swift task running on the loop), Swift cancellation does the same.
///
/// Theory of operation: a wait goes `idle -> parked -> (woken | failed | cancelled) -> idle`; the
/// waiting task itself takes the outcome and sets `idle` again when it resumes, so until then the
/// point counts as busy. Outside a LoopTask, Swift cancellation hops to the loop; a number per wait
/// keeps a late hop from cancelling a later wait. Such a wait may park from another thread, through
/// the loop's inbox (see `LoopCore.suspendOutsideLoopTask`), so it passes through `armed`, where a
/// wake-up is recorded instead of lost.
///
/// No asyncio counterpart (asyncio makes a Future per wait); trio's `wait_task_rescheduled` and
/// `reschedule` are the closest, with the bookkeeping done for you.
public final class WaitPoint: FutureCancelling {
    private enum State {
        case idle
        /// A wait outside a LoopTask began; its continuation is on its way to the loop.
        case armed
        case parked(UnsafeContinuation<Void, Never>)
        case woken
        case failed(any Error)
        case cancelled(String?)
    }

    let core: LoopCore
    private var state = State.idle
    /// Numbers the waits, so that a Swift cancellation reaching the loop late hits only its own.
    private var waitNumber: UInt64 = 0

    init(core: LoopCore) {
        self.core = core
    }

    /// Creates a wait point on `loop`; its waits must run on that loop's thread.
    public init(loop: EventLoop) {
        core = loop.core
    }

    /// Creates a wait point on the loop running on this thread.
    ///
    /// - Throws: `AsyncIOError.loopState` when no loop runs here.
    public convenience init() throws(AsyncIOError) {
        self.init(core: try loopForAwait().core)
    }

    /// The loop whose tasks wait here.
    public var loop: EventLoop { core.facade! }

    /// True from the start of a wait until the waiting task has resumed (and taken the outcome).
    public var isBusy: Bool {
        if case .idle = state { return false }
        return true
    }

    /// True while a wait is pending and nobody has woken it yet: a ``wake()`` now would end it.
    public var isWaiting: Bool {
        switch state {
        case .armed, .parked: true
        case .idle, .woken, .failed, .cancelled: false
        }
    }

    // MARK: - Waking

    /// Wakes the pending wait, if any: its ``wait()`` returns. Does nothing when nobody waits.
    public func wake() {
        finish(.woken)
    }

    /// Wakes the pending wait, if any, with `error`: its ``wait()`` throws it. Does nothing when
    /// nobody waits (remember the error yourself if a later wait must see it).
    public func wake(throwing error: any Error) {
        finish(.failed(error))
    }

    /// Cancels the pending wait, if any: its `wait()` throws `CancelledError(message)`.
    ///
    /// - Returns: false if no wait was pending (none began, or it was already woken).
    @discardableResult
    public func cancel(message: String? = nil) -> Bool {
        finish(.cancelled(message))
    }

    @discardableResult
    private func finish(_ outcome: State) -> Bool {
        switch state {
        case .parked(let continuation):
            state = outcome
            continuation.resume()
            return true
        case .armed:
            state = outcome
            return true
        case .idle, .woken, .failed, .cancelled:
            return false
        }
    }

    // MARK: - Waiting

    /// Suspends the calling task until ``wake()``, ``wake(throwing:)``, ``cancel(message:)`` or the
    /// task's cancellation.
    ///
    /// - Throws: the error given to ``wake(throwing:)``; `CancelledError` (a pending cancellation of
    ///   the task is thrown before it suspends); `AsyncIOError.invalidState` if another task waits
    ///   here already; `AsyncIOError.loopState` off the loop's thread.
    public func wait() async throws {
        try checkCanWait()
        try await suspend()
    }

    @inline(never)
    private func checkCanWait() throws(AsyncIOError) {
        guard core.isOnLoopThread else {
            throw AsyncIOError.loopState("a WaitPoint was waited on off its loop's thread")
        }
        guard !isBusy else {
            throw AsyncIOError.invalidState("another task is already waiting on this WaitPoint")
        }
    }

    /// ``wait()`` without its checks, for callers that made them (with their own messages).
    func suspend() async throws {
        assert(!isBusy, "a second wait on a busy WaitPoint")
        waitNumber &+= 1
        guard let task = try core.taskAboutToWait() else { return try await waitOutsideLoopTask() }
        await suspendOnLoop { park($0, task: task) }
        try resumed(task)
    }

    /// Ends the wait of a LoopTask: the outcome is taken first (the point is idle again), then a
    /// cancellation requested meanwhile wins over it, as for a Future. Out of line, like the other
    /// steps, so that the waiting frame holds none of this.
    @inline(never)
    private func resumed(_ task: any RunningLoopTask) throws {
        let outcome = takeOutcome()
        try task.stoppedWaiting(on: self)
        try outcome.get()
    }

    @inline(never)
    private func park(_ continuation: UnsafeContinuation<Void, Never>, task: any RunningLoopTask) {
        if task.mustCancel {
            continuation.resume()  // `stoppedWaiting` throws it
            return
        }
        task.waitingOn = self
        state = .parked(continuation)
    }

    /// Ends the wait (back to idle) and returns how it ended: woken, or the error or cancellation
    /// to throw.
    @inline(never)
    private func takeOutcome() -> Result<Void, any Error> {
        let outcome = state
        state = .idle
        switch outcome {
        case .idle, .woken: return .success(())
        case .failed(let error): return .failure(error)
        case .cancelled(let message): return .failure(CancelledError(message: message))
        case .armed, .parked:
            // Only when the loop closed before the continuation reached it: nobody will wake it.
            return .failure(CancelledError(message: "the event loop was closed"))
        }
    }

    /// Waits outside a LoopTask (see `LoopCore.suspendOutsideLoopTask`). The wait may park from
    /// another thread, through the loop's inbox, so it starts `armed`; a Swift cancellation that
    /// reaches the loop after this wait ended must not hit the next one, hence the wait number.
    @inline(never)
    private func waitOutsideLoopTask() async throws {
        let number = waitNumber
        state = .armed
        // SAFETY: both closures run on the loop's thread (`suspendOutsideLoopTask` hands them there).
        await core.suspendOutsideLoopTask(
            park: UnsafeTransfer({ self.parkArmed($0) }),
            onCancel: UnsafeTransfer({ if self.waitNumber == number { _ = self.cancel(message: nil) } })
        )
        try takeOutcome().get()
    }

    private func parkArmed(_ continuation: UnsafeContinuation<Void, Never>) {
        assert(core.isOnLoopThread, "a WaitPoint parked off its loop's thread")
        if case .armed = state {
            state = .parked(continuation)
        } else {
            continuation.resume()  // woken or cancelled on the way
        }
    }
}

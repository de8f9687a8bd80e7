/// A reusable place where one task at a time waits to be woken by the loop: what a `StreamReader`
/// waits on for data, where asyncio creates a Future per wait.
///
/// Theory of operation: a wait goes `idle -> parked -> (woken | failed | cancelled) -> idle`; the
/// waiting task itself takes the outcome and sets `idle` again when it resumes, so until then the
/// point counts as busy (a second waiter is an error, as asyncio's `_wait_for_data` says). A wait
/// allocates nothing: an echo server's task waits once per message, and a fresh Future each time
/// (its allocation, its generic state, its waiter list) was a tenth of what a message cost.
///
/// A waiting LoopTask sees the point as what it waits on (`waitingOn`), so `LoopTask.cancel` cancels
/// the wait as it would cancel a Future: the `await` throws `CancelledError(message)`. Outside a
/// LoopTask (a Swift task isolated to the loop), Swift cancellation does the same after hopping to
/// the loop; a number per wait keeps a late hop from cancelling a later wait. Such a wait may park
/// from another thread, through the loop's inbox (see `LoopCore.suspendOutsideLoopTask`), so it
/// passes through `armed`, where a wake-up is recorded instead of lost.
///
/// Loop thread only, like a Future.
final class WaitPoint: FutureCancelling {
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

    /// True from the start of a wait until the waiting task has resumed.
    var isBusy: Bool {
        if case .idle = state { return false }
        return true
    }

    /// True while a wait is pending and nobody has woken it yet.
    var isWaiting: Bool {
        switch state {
        case .armed, .parked: true
        case .idle, .woken, .failed, .cancelled: false
        }
    }

    // MARK: - Waking

    /// Wakes the pending wait, if any: its `wait()` returns.
    func wake() {
        finish(.woken)
    }

    /// Wakes the pending wait, if any, with `error`: its `wait()` throws it.
    func wake(throwing error: any Error) {
        finish(.failed(error))
    }

    /// Cancels the pending wait, if any: its `wait()` throws `CancelledError(message)`.
    ///
    /// - Returns: false if no wait was pending (none began, or it was already woken).
    func cancel(message: String?) -> Bool {
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

    /// Suspends the calling task until `wake`, `wake(throwing:)` or its cancellation.
    ///
    /// The caller makes sure the point is not busy.
    ///
    /// - Throws: the error given to `wake(throwing:)`; `CancelledError`.
    func wait() async throws {
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

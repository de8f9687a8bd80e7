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
/// from another thread, through the loop's inbox (see `Future.waitUntilDoneOrSwiftCancelled`), so it
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
        guard let task = try waitingTask() else { return try await waitOutsideLoopTask() }
        await withUnsafeContinuation { park($0, task: task) }
        try resumed(task)
    }

    /// The LoopTask about to wait here, after taking its pending cancellation, if any.
    @inline(never)
    private func waitingTask() throws(CancelledError) -> (any RunningLoopTask)? {
        assert(!isBusy, "a second wait on a busy WaitPoint")
        waitNumber &+= 1
        let task = core.currentTask()
        try task?.takeCancelRequest()
        return task
    }

    @inline(never)
    private func park(_ continuation: UnsafeContinuation<Void, Never>, task: any RunningLoopTask) {
        if task.mustCancel {
            continuation.resume()  // `resumed` throws it
            return
        }
        task.waitingOn = self
        state = .parked(continuation)
    }

    @inline(never)
    private func resumed(_ task: any RunningLoopTask) throws {
        if task.waitingOn === self { task.waitingOn = nil }
        try takeOutcome()
        try task.takeCancelRequest()
    }

    /// Ends the wait: back to idle, throwing what woke it if that was an error or a cancellation.
    private func takeOutcome() throws {
        let outcome = state
        state = .idle
        switch outcome {
        case .failed(let error): throw error
        case .cancelled(let message): throw CancelledError(message: message)
        case .idle, .woken: return
        case .armed, .parked:
            // Only when the loop closed before the continuation reached it: nobody will wake it.
            throw CancelledError(message: "the event loop was closed")
        }
    }

    /// Waits outside a LoopTask's own root, where Swift cancellation may arrive.
    ///
    /// As in `Future.waitUntilDoneOrSwiftCancelled`, the handler's operation may run off the loop,
    /// so it only hands its continuation to the loop.
    @inline(never)
    private func waitOutsideLoopTask() async throws {
        let number = waitNumber
        state = .armed
        // SAFETY: the point is touched only on its loop's thread: by `parkArmed`, called on it (at
        // once if the closure runs there, else from a handle the loop runs), and by the handle
        // the cancellation handler queues.
        let transfer = UnsafeTransfer(self)
        await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                let core = transfer.value.core
                if core.isOnLoopThread {
                    transfer.value.parkArmed(continuation)
                } else if !core.callSoonThreadSafe({ transfer.value.parkArmed(continuation) }) {
                    continuation.resume()  // the loop is closed: nobody will wake this wait
                }
            }
        } onCancel: {
            transfer.value.core.callSoonThreadSafe {
                if transfer.value.waitNumber == number { _ = transfer.value.cancel(message: nil) }
            }
        }
        try takeOutcome()
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

/// One direction of a socket's waits: the wake-up the loop calls when the descriptor is ready, and
/// the LoopTask parked until then.
///
/// Made once per socket and direction and reused by every wait, so that a wait allocates nothing
/// (a Future, its callback and a Handle otherwise). The waiting task names it as what it waits on,
/// so that cancelling the task cancels the wait, exactly as it would cancel a Future it awaited:
/// the task resumes and its await throws `CancelledError(message)`. Loop thread only.
final class SocketWait: FutureCancelling {
    private let core: LoopCore
    private var parked: UnsafeContinuation<Void, Never>?
    private var cancelled = false
    private var cancelMessage: String?
    /// Numbers the waits of tasks that are not LoopTasks (see `wait(task:)`).
    private var swiftWait = 0
    private var handle: Handle?

    init(core: LoopCore) { self.core = core }

    /// The handle the registration calls on readiness (made again if someone cancelled it, as
    /// `addReader` does to the reader it replaces).
    var wake: Handle {
        if let handle, !handle.isCancelled { return handle }
        let made = Handle(core: core) { [weak self] in self?.resume() }
        handle = made
        return made
    }

    /// Resumes the parked task, if any (the wait then returns normally).
    func resume() {
        guard let parked else { return }
        self.parked = nil
        parked.resume()
    }

    /// Cancels the pending wait, if there is one (called through `LoopTaskState.waitingOn`).
    func cancel(message: String?) -> Bool {
        guard parked != nil else { return false }
        cancelled = true
        cancelMessage = message
        resume()
        return true
    }

    /// Parks the current task until `wake` runs or the task is cancelled; as `Future.waitUntilDone`.
    ///
    /// - Parameter task: the waiting LoopTask's state, or nil for any other task (Swift's
    ///   cancellation then cancels the wait, hopping to the loop first).
    func wait(task: LoopTaskState?) async throws(CancelledError) {
        guard let task else {
            // Swift's cancellation arrives on the canceller's thread, maybe before the task parks
            // (the runtime may hop on the way to the continuation's closure): it is recorded for
            // this wait, by number, so that it reaches neither an earlier nor a later one.
            swiftWait &+= 1
            let number = swiftWait
            await withTaskCancellationHandler {
                await withUnsafeContinuation { continuation in
                    if cancelled { continuation.resume() } else { parked = continuation }
                }
            } onCancel: { [core, transfer = UnsafeTransfer(self)] in
                // SAFETY: the wait is touched only in the handle, which runs on the loop thread.
                core.pushThreadSafe(.handle(Handle(core: core) { transfer.value.cancelSwiftWait(number) }))
            }
            swiftWait &+= 1
            try takeCancellation()
            return
        }
        try task.takeCancelRequest()
        await withUnsafeContinuation { continuation in
            // A cancellation that ran before this closure found no wait and set `mustCancel`.
            if task.mustCancel {
                continuation.resume()
                return
            }
            parked = continuation
            task.waitingOn = self
        }
        if task.waitingOn === self { task.waitingOn = nil }
        try task.takeCancelRequest()
        try takeCancellation()
    }

    private func cancelSwiftWait(_ number: Int) {
        guard number == swiftWait else { return }
        cancelled = true
        cancelMessage = nil
        resume()
    }

    private func takeCancellation() throws(CancelledError) {
        guard cancelled else { return }
        cancelled = false
        throw CancelledError(message: cancelMessage)
    }
}

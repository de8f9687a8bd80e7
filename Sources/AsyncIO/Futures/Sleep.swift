/// Suspends the calling task for `delay` on the loop's own timers; `sleep(.zero)` yields to the loop.
///
/// Use this, not `Task.sleep`: Swift's sleep waits on a global timer thread and resumes through a
/// cross-thread hop, and `Task.yield()` leaves the loop (it is not `nonisolated(nonsending)`).
/// A zero or negative delay lets every other ready callback and task run once, then resumes.
///
/// - Throws: `CancelledError` if the task is cancelled while it sleeps;
///   `AsyncIOError.loopState` if no loop runs on this thread. Mirrors `asyncio.sleep()`.
public func sleep(_ delay: Duration) async throws {
    let loop = try loopForAwait()
    let core = loop.core
    guard delay > .zero else {
        try await core.yieldToLoop()
        return
    }
    let future = Future<Void>(core: core)
    let handle = Handle(core: core, deadline: (core.clock.now() + delay).nanoseconds) {
        if !future.isDone { future.complete(.succeeded(())) }
    }
    core.callAt(handle)
    do {
        try await future.value
    } catch {
        handle.cancel()
        throw error
    }
}

/// Sleeps for `seconds` (a float, as in the talk's `asyncio.sleep(1)`). See `sleep(_:)`.
public func sleep(seconds: Double) async throws {
    try await sleep(.nanoseconds(Int64((seconds * 1e9).rounded())))
}

extension LoopCore {
    /// Lets everything else that is ready run once, then resumes the caller (`sleep(0)`).
    func yieldToLoop() async throws(CancelledError) {
        let task = try taskAboutToWait()
        await suspendOnLoop { continuation in ready.append(.resume(continuation)) }
        try task?.takeCancelRequest()
    }
}

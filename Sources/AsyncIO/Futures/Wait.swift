/// When `wait(_:timeout:returnWhen:)` returns. Mirrors asyncio's `FIRST_COMPLETED`,
/// `FIRST_EXCEPTION` and `ALL_COMPLETED`.
public enum ReturnWhen: Sendable, Hashable {
    /// As soon as any Future is done (or cancelled).
    case firstCompleted
    /// As soon as any Future fails with an error; if none does, when all are done.
    case firstException
    /// When every Future is done.
    case allCompleted
}

// MARK: - wait

/// Waits until some or all of `futures` are done, or `timeout` passes, and splits them in two.
///
/// The Futures are neither cancelled nor awaited for their results: inspect `done` with
/// `result()`. A timeout does not throw; the unfinished Futures are simply in `pending`.
/// Cancelling the task that waits here does not cancel the Futures.
///
/// - Parameters:
///   - futures: the Futures or `LoopTask`s, all of the same loop; must not be empty.
///   - timeout: the longest time to wait; nil for no limit.
///   - returnWhen: the condition to return on (default `.allCompleted`).
/// - Returns: `done` and `pending`, each in the order of `futures`.
/// - Throws: `AsyncIOError.invalidArgument` if `futures` is empty; `CancelledError` if the waiting
///   task is cancelled.
///
/// Mirrors `asyncio.wait()`. Deviation: Futures are not `Hashable`, so the two sets are arrays
/// (in input order, duplicates kept).
public func wait<Value>(
    _ futures: [Future<Value>],
    timeout: Duration? = nil,
    returnWhen: ReturnWhen = .allCompleted
) async throws -> (done: [Future<Value>], pending: [Future<Value>]) {
    guard !futures.isEmpty else { throw AsyncIOError.invalidArgument("Set of Tasks/Futures is empty.") }
    let core = try loopForAwait().core
    let waiter = CombinatorFuture<Void>(core: core, combinator: "wait()", awaiting: futures)
    var counter = futures.count
    var timeoutHandle: Handle?
    if let timeout {
        let handle = Handle(core: core, deadline: (core.clock.now() + timeout).nanoseconds) {
            if !waiter.isDone { waiter.complete(.succeeded(())) }
        }
        core.callAt(handle)
        timeoutHandle = handle
    }
    // One callback per Future: asyncio's `_on_completion`.
    let tokens = futures.map { future in
        future.onDone {
            counter -= 1
            let failed = !future.isCancelled && future.takeFailure() != nil
            if counter <= 0 || returnWhen == .firstCompleted || (returnWhen == .firstException && failed) {
                timeoutHandle?.cancel()
                if !waiter.isDone { waiter.complete(.succeeded(())) }
            }
        }
    }
    defer {
        timeoutHandle?.cancel()
        for (future, token) in zip(futures, tokens) { future.removeDoneCallback(token) }
    }
    try await waiter.value
    return (futures.filter(\.isDone), futures.filter { !$0.isDone })
}

// MARK: - waitFor

/// Waits for `future` for at most `timeout`; past it, cancels the Future and throws
/// `AsyncIOError.timeout`.
///
/// Built on a `timeout` scope, as since Python 3.12: the Future is cancelled because the task
/// awaiting it is, and this waits until it really is done before throwing. Cancelling the waiting
/// task cancels the Future too. A zero or negative `timeout` cancels a pending Future at once.
///
/// - Parameters:
///   - future: the Future or `LoopTask` to wait for.
///   - timeout: the time allowed; nil for no limit.
/// - Returns: the Future's result.
/// - Throws: `AsyncIOError.timeout`; the Future's error; `CancelledError`.
///
/// Mirrors `asyncio.wait_for()`.
public func waitFor<Value>(_ future: Future<Value>, timeout: Duration?) async throws -> Value {
    if let timeout, timeout <= .zero {
        if future.isDone { return try future.result() }
        try await cancelAndWait(future)
        do {
            return try future.result()
        } catch is CancelledError {
            throw AsyncIOError.timeout
        }
    }
    return try await AsyncIO.timeout(timeout) { _ in try await future.value }
}

/// Runs `body` in the current task for at most `timeout`; past it, cancels it and throws
/// `AsyncIOError.timeout`.
///
/// The closure form of `waitFor(_:timeout:)`: the same as a `timeout` scope whose body cannot
/// reschedule. The body runs in the calling task (no task is created), as a coroutine passed to
/// `asyncio.wait_for` does since Python 3.12.
///
/// - Parameters:
///   - timeout: the time allowed; nil for no limit.
///   - body: the work to bound.
/// - Returns: what `body` returns.
/// - Throws: `AsyncIOError.timeout`; what `body` throws.
///
/// With a zero or negative `timeout` the body never runs: this lets the loop run once (as asyncio
/// waits for the task it cancelled) and throws `AsyncIOError.timeout`.
///
/// Mirrors `asyncio.wait_for(coro, timeout)`, which wraps a coroutine in a task and, with no time
/// left, cancels that task before it starts. Deviation: under an eager task factory asyncio's
/// task would run up to its first suspension first; the body here never runs, whatever the factory.
@discardableResult
public func waitFor<Value>(
    timeout: Duration?,
    _ body: () async throws -> Value
) async throws -> Value {
    if let timeout, timeout <= .zero {
        // asyncio awaits the cancelled task's end: a suspension, where a cancellation of the caller wins.
        try await loopForAwait().core.yieldToLoop()
        throw AsyncIOError.timeout
    }
    return try await AsyncIO.timeout(timeout) { _ in try await body() }
}

/// Cancels `future` and waits until it is done, without cancelling it again if we are cancelled.
///
/// Mirrors asyncio's `_cancel_and_wait`.
private func cancelAndWait<Value>(_ future: Future<Value>) async throws {
    let waiter = CombinatorFuture<Void>(core: future.core, combinator: "waitFor()", awaiting: [future])
    let token = future.onDone {
        if !waiter.isDone { waiter.complete(.succeeded(())) }
    }
    defer { future.removeDoneCallback(token) }
    future.cancel(message: nil)
    try await waiter.value
}

// MARK: - shield

/// Returns a Future that mirrors `future` but whose cancellation does not reach it.
///
/// `try await shield(task).value`: if the awaiting task is cancelled, the outer Future is
/// cancelled and the await throws `CancelledError`, while `task` keeps running. If `future` itself
/// is cancelled (by someone else), the outer Future is cancelled too.
///
/// - Parameter future: the Future or `LoopTask` to protect.
/// - Returns: the outer Future (`future` itself if it is already done).
///
/// Mirrors `asyncio.shield()`. Deviation: it takes a Future, not a coroutine (wrap one in
/// `createTask` first); the result is awaited with `.value`.
public func shield<Value>(_ future: Future<Value>) -> Future<Value> {
    guard !future.isDone else { return future }
    let outer = CombinatorFuture<Value>(core: future.core, combinator: "shield()", awaiting: [future])
    let token = future.addDoneCallback { inner in
        guard !outer.isDone else {
            // The outer Future was cancelled: mark the inner error as seen, asyncio does too.
            _ = inner.takeFailure()
            return
        }
        outer.complete(inner.state)
        _ = inner.takeFailure()
    }
    outer.onDone {
        if !future.isDone { future.removeDoneCallback(token) }
    }
    return outer
}

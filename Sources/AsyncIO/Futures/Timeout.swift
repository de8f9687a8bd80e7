// Theory of operation
//
// A timeout scope is CPython's `timeouts.Timeout`, state for state:
//
//   created --enter--> entered --deadline--> expiring --exit--> expired
//                         \--exit------------------------------> exited
//
// On entry the scope remembers the task and `task.cancelling()`. When the deadline passes, a loop
// callback cancels the task (one more cancellation request) and moves to `expiring`. The task's
// current await throws `CancelledError`, which unwinds the body to the scope's exit. There the
// scope takes its request back with `uncancel()`; if what is left is no more than what it found on
// entry, the cancellation was its own and it becomes `AsyncIOError.timeout`. If someone else
// cancelled the task too (the count stays higher), the `CancelledError` goes on unchanged: a
// cancellation from outside is never swallowed. Nested scopes work because each compares with its
// own count at entry.

/// A deadline for the code inside `timeout { … }`, which the code can read and move.
///
/// Passed to the body of `timeout(_:_:)` and `timeoutAt(_:_:)`. When the deadline passes, the task
/// running the body is cancelled; the scope turns that cancellation, and only that one, into
/// `AsyncIOError.timeout` when the body exits.
///
/// Mirrors `asyncio.Timeout`. Deviation: misuse (rescheduling a scope that is finished) throws
/// `AsyncIOError.invalidState` where asyncio raises `RuntimeError`.
public final class Timeout {
    enum State {
        case entered, expiring, expired, exited
    }

    private let core: LoopCore
    private let task: any AnyLoopTask
    private let cancellingAtEntry: Int
    private var state = State.entered
    private var handle: Handle?
    /// The deadline on the loop's clock, or nil for none.
    public private(set) var when: LoopInstant?

    /// Enters the scope for the current task: the `__aenter__` half.
    init(core: LoopCore, when: LoopInstant?) throws(AsyncIOError) {
        guard let task = currentLoopTask(), task.core === core else {
            throw AsyncIOError.loopState("Timeout should be used inside a task")
        }
        self.core = core
        self.task = task
        cancellingAtEntry = task.cancelling()
        schedule(when)
    }

    /// True once the deadline has passed and the scope cancelled its task. Mirrors `expired()`.
    public var expired: Bool { state == .expiring || state == .expired }

    /// Moves the deadline to `when` (nil: no deadline); a deadline already past fires at once.
    ///
    /// - Throws: `AsyncIOError.invalidState` if the deadline already fired or the scope has exited.
    ///   Mirrors `Timeout.reschedule()`.
    public func reschedule(_ when: LoopInstant?) throws(AsyncIOError) {
        guard state == .entered else {
            throw AsyncIOError.invalidState("Cannot change state of \(state) Timeout")
        }
        schedule(when)
    }

    /// Moves the deadline to `delay` from now (nil: no deadline). See `reschedule(_:)`.
    public func reschedule(after delay: Duration?) throws(AsyncIOError) {
        try reschedule(delay.map { core.clock.now() + $0 })
    }

    private func schedule(_ newWhen: LoopInstant?) {
        when = newWhen
        handle?.cancel()
        handle = nil
        guard let newWhen else { return }
        let fire: () -> Void = { [weak self] in self?.fire() }
        if newWhen <= core.clock.now() {
            // Already past: fire in the next iteration (a plain handle, not a timer).
            let handle = Handle(core: core, callback: fire)
            core.callSoon(handle)
            self.handle = handle
        } else {
            let handle = Handle(core: core, deadline: newWhen.nanoseconds, callback: fire)
            core.callAt(handle)
            self.handle = handle
        }
    }

    private func fire() {
        guard state == .entered else { return }
        task.cancel(message: nil)
        state = .expiring
        handle = nil
    }

    /// Leaves the scope with the body's outcome: the `__aexit__` half.
    func exit<Value>(_ outcome: Result<Value, any Error>) throws -> Value {
        handle?.cancel()
        handle = nil
        switch state {
        case .expiring:
            state = .expired
            // Take our cancellation request back. If none other is left than those that were
            // there when we entered, the body's CancelledError is ours: it becomes a timeout.
            if task.uncancel() <= cancellingAtEntry, case .failure(let error) = outcome, isCancellation(error) {
                throw AsyncIOError.timeout
            }
        case .entered:
            state = .exited
        case .expired, .exited:
            break
        }
        return try outcome.get()
    }
}

/// Whether `error` is a cancellation: ours, or Swift's where it arrives.
func isCancellation(_ error: any Error) -> Bool {
    error is CancelledError || error is CancellationError
}

// MARK: - Scopes

/// Runs `body` with a deadline `delay` from now; past it, the body is cancelled and this throws
/// `AsyncIOError.timeout`.
///
/// `try await timeout(.seconds(1)) { scope in try await reader.readLine() }`. The body may read
/// `scope.when`, move it with `scope.reschedule(_:)`, or check `scope.expired`. If the task is
/// cancelled from outside, the `CancelledError` passes through unchanged. Scopes nest: each one
/// converts only its own cancellation.
///
/// - Parameters:
///   - delay: time allowed from now; nil for no deadline (it can still be set by `reschedule`).
///   - body: the code under the deadline.
/// - Returns: what `body` returns.
/// - Throws: `AsyncIOError.timeout` if the deadline passed and the body ended with the resulting
///   `CancelledError`; otherwise what `body` throws; `AsyncIOError.loopState` outside a `LoopTask`.
///
/// Mirrors `async with asyncio.timeout(delay)`. Deviation: a body that catches the cancellation
/// and throws something else gets that error out, without a timeout attached as `__context__`.
@discardableResult
public func timeout<Value>(
    _ delay: Duration?,
    _ body: (Timeout) async throws -> Value
) async throws -> Value {
    let core = try loopForAwait().core
    return try await timeoutAt(delay.map { core.clock.now() + $0 }, body)
}

/// Runs `body` with a deadline at `when` on the loop's clock (see `EventLoop.time`).
///
/// See `timeout(_:_:)`; a deadline already past cancels the body at its first suspension.
///
/// - Parameters:
///   - when: the deadline; nil for none.
///   - body: the code under the deadline.
/// - Returns: what `body` returns.
/// - Throws: as `timeout(_:_:)`. Mirrors `async with asyncio.timeout_at(when)`.
@discardableResult
public func timeoutAt<Value>(
    _ when: LoopInstant?,
    _ body: (Timeout) async throws -> Value
) async throws -> Value {
    let scope = try Timeout(core: loopForAwait().core, when: when)
    let outcome: Result<Value, any Error>
    do {
        outcome = .success(try await body(scope))
    } catch {
        outcome = .failure(error)
    }
    return try scope.exit(outcome)
}

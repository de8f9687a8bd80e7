import DequeModule

/// A mutual-exclusion lock for tasks on one event loop, granted in FIFO order.
///
/// The lock is not owned by a task: any code on the loop may release it (as in asyncio). Tasks that
/// find it locked queue up and get it in the order they asked.
///
/// Fairness, as CPython does it: `release()` does not hand the lock over, it wakes the first waiter
/// and leaves the lock unlocked until that waiter runs and takes it. Meanwhile a newcomer cannot
/// barge in: `acquire()` takes the fast path only if no waiter is queued, except waiters that are
/// cancelled. If the woken waiter is cancelled before it runs, it passes the wake-up on to the next
/// one, so a cancellation never strands the queue.
///
/// The lock is created without a loop and bound to the running loop the first time a task waits on
/// it; using it from another loop then throws `AsyncIOError.loopState`.
///
/// Mirrors `asyncio.Lock`. Deviation: `async with lock:` is `try await lock.withLock { … }`.
public final class Lock: CustomStringConvertible {
    private var binding = LoopBinding()
    private var waiters = Waiters()
    private var locked = false

    /// Creates an unlocked lock, bound to no loop yet.
    public init() {}

    /// True while the lock is held. Mirrors `locked()`.
    public var isLocked: Bool { locked }

    /// What the lock is doing now: whether it is held and how many tasks wait for it.
    public var statistics: LockStatistics {
        LockStatistics(isLocked: locked, tasksWaiting: waiters.count)
    }

    /// `<Lock [locked, waiters:2]>`, as CPython's `repr`.
    public var description: String {
        "<Lock [\(locked ? "locked" : "unlocked")\(waiters.isEmpty ? "" : ", waiters:\(waiters.count)")]>"
    }

    // MARK: - Acquiring and releasing

    /// Waits until the lock is free and the calling task's turn has come, then takes it.
    ///
    /// Returns at once, without suspending, if the lock is free and nobody waits for it.
    ///
    /// - Throws: `CancelledError` if the task is cancelled while it waits (it then does not hold
    ///   the lock, and a wake-up it had received goes to the next waiter);
    ///   `AsyncIOError.loopState` if no loop runs or the lock is bound to another loop.
    ///   Mirrors `acquire()`.
    public func acquire() async throws {
        // Fast path: free, and nobody queued ahead of us (cancelled waiters do not count; they are
        // about to leave the queue). A waiter that was woken but has not run yet does count.
        if !locked && waiters.allSatisfy(\.isCancelled) {
            locked = true
            return
        }
        let waiter = Future<Void>(core: try binding.core(for: "Lock"))
        waiters.append(waiter)
        do {
            try await waiter.value
        } catch {
            waiters.remove(waiter)
            // We may have been woken by release() just before the cancellation: the lock is then
            // free with nobody on the way to take it. Hand the wake-up to the next waiter.
            if !locked { wakeUpFirst() }
            throw error
        }
        waiters.remove(waiter)
        locked = true
    }

    /// Releases the lock and wakes the first waiting task, if any.
    ///
    /// - Throws: `AsyncIOError.lockNotAcquired` if the lock is not held. Mirrors `release()`.
    public func release() throws(AsyncIOError) {
        guard locked else { throw AsyncIOError.lockNotAcquired }
        locked = false
        wakeUpFirst()
    }

    /// Runs `body` holding the lock, releasing it afterwards even if `body` throws.
    ///
    /// - Returns: what `body` returns.
    /// - Throws: what `acquire()` or `body` throws; `AsyncIOError.lockNotAcquired` if `body`
    ///   released the lock itself. Mirrors `async with lock:`.
    public func withLock<Value>(_ body: () async throws -> Value) async throws -> Value {
        try await acquire()
        let result: Value
        do {
            result = try await body()
        } catch {
            if locked { try? release() }
            throw error
        }
        try release()
        return result
    }

    /// Makes sure the first waiter will run, unless it was already woken (CPython's `_wake_up_first`).
    ///
    /// Only the head of the queue is looked at: a cancelled head is leaving and will call this
    /// again from its own cancellation path.
    private func wakeUpFirst() {
        guard let first = waiters.first, !first.isDone else { return }
        first.complete(.succeeded(()))
    }
}

/// A snapshot of a `Lock`'s state (trio's `LockStatistics`).
public struct LockStatistics: Sendable, Equatable {
    /// Whether the lock is held.
    public var isLocked: Bool
    /// Tasks queued in `acquire()`, including one woken but not yet resumed.
    public var tasksWaiting: Int
}

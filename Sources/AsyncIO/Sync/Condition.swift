import DequeModule

/// A condition variable for tasks on one event loop: wait, with a lock held, until notified.
///
/// A condition owns or shares a `Lock`. `wait()` releases it, waits for `notify`, and takes it back
/// before returning, even when cancelled, so the caller always holds the lock again when `wait()`
/// ends. Waiters are notified in FIFO order. A wake-up that a cancelled waiter had received is
/// passed on to the next waiter, which may then wake spuriously; as with any condition variable,
/// re-check the state after `wait()` returns, or use `waitFor(_:)`.
///
/// Bound to the running loop the first time a task waits on it (see `Lock`).
///
/// Mirrors `asyncio.Condition`. Deviation: `async with cond:` is `try await cond.withLock { … }`.
public final class Condition: CustomStringConvertible {
    /// The lock the condition uses, which may be shared with other conditions.
    public let lock: Lock
    private var binding = LoopBinding()
    private var waiters = Waiters()

    /// Creates a condition using `lock`, or a new lock of its own.
    ///
    /// Mirrors `Condition(lock=None)`.
    public init(lock: Lock = Lock()) {
        self.lock = lock
    }

    /// What the condition is doing now: its lock's state and how many tasks wait to be notified.
    public var statistics: ConditionStatistics {
        ConditionStatistics(tasksWaiting: waiters.count, lockStatistics: lock.statistics)
    }

    /// `<Condition [locked, waiters:2]>`, as CPython's `repr`.
    public var description: String {
        "<Condition [\(isLocked ? "locked" : "unlocked")\(waiters.isEmpty ? "" : ", waiters:\(waiters.count)")]>"
    }

    // MARK: - The lock

    /// True while the underlying lock is held. Mirrors `locked()`.
    public var isLocked: Bool { lock.isLocked }

    /// Acquires the underlying lock; see `Lock.acquire()`. Mirrors `acquire()`.
    public func acquire() async throws { try await lock.acquire() }

    /// Releases the underlying lock; see `Lock.release()`. Mirrors `release()`.
    public func release() throws(AsyncIOError) { try lock.release() }

    /// Runs `body` holding the underlying lock; see `Lock.withLock(_:)`. Mirrors `async with cond:`.
    public func withLock<Value>(_ body: () async throws -> Value) async throws -> Value {
        try await lock.withLock(body)
    }

    // MARK: - Waiting

    /// Releases the lock, waits until notified, and re-acquires the lock before returning.
    ///
    /// The lock is re-acquired even if the task is cancelled while waiting; the cancellation is
    /// thrown afterwards. A wake-up lost to a cancellation or error is passed to another waiter.
    ///
    /// - Throws: `AsyncIOError.lockNotAcquired` if the lock is not held; `CancelledError` if the
    ///   task is cancelled; `AsyncIOError.loopState` for loop misuse. Mirrors `wait()`.
    public func wait() async throws {
        guard lock.isLocked else { throw AsyncIOError.lockNotAcquired }
        let waiter = Future<Void>(core: try binding.core(for: "Condition"))
        try lock.release()
        var failure: (any Error)?
        waiters.append(waiter)
        do {
            try await waiter.value
        } catch {
            failure = error
        }
        waiters.remove(waiter)
        // Re-acquire the lock whatever happened: the caller's code after `wait()` (or its
        // `withLock` exit) assumes it holds the lock. A cancellation while re-acquiring is kept and
        // thrown once we hold the lock again; the most recent one wins, as in CPython.
        while true {
            do {
                try await lock.acquire()
                break
            } catch let error as CancelledError {
                failure = error
            } catch {
                failure = error
                break
            }
        }
        if let failure {
            // We may have consumed a notification we will not act on: give it to someone else.
            // This can cause a spurious wake-up, which condition variables allow.
            notifyPending(1)
            throw failure
        }
    }

    /// Waits until `predicate` returns true, calling `wait()` between checks.
    ///
    /// The predicate is evaluated with the lock held, first before any waiting.
    ///
    /// - Throws: what `wait()` or `predicate` throws. Mirrors `wait_for(predicate)`; deviation: the
    ///   predicate returns a `Bool`, so there is no final value to return.
    public func waitFor(_ predicate: () throws -> Bool) async throws {
        while try !predicate() {
            try await wait()
        }
    }

    // MARK: - Notifying

    /// Wakes up to `n` waiting tasks, first come first served.
    ///
    /// A woken task returns from `wait()` only once it re-acquires the lock, which the caller
    /// still holds; release it to let them run.
    ///
    /// - Throws: `AsyncIOError.lockNotAcquired` if the lock is not held. Mirrors `notify(n=1)`.
    public func notify(_ n: Int = 1) throws(AsyncIOError) {
        guard lock.isLocked else { throw AsyncIOError.lockNotAcquired }
        notifyPending(n)
    }

    /// Wakes every waiting task.
    ///
    /// - Throws: `AsyncIOError.lockNotAcquired` if the lock is not held. Mirrors `notify_all()`.
    public func notifyAll() throws(AsyncIOError) {
        try notify(waiters.count)
    }

    /// Wakes the first `n` waiters that are not woken yet (CPython's `_notify`).
    private func notifyPending(_ n: Int) {
        var woken = 0
        for waiter in waiters where woken < n && !waiter.isDone {
            waiter.complete(.succeeded(()))
            woken += 1
        }
    }
}

/// A snapshot of a `Condition`'s state (trio's `ConditionStatistics`).
public struct ConditionStatistics: Sendable, Equatable {
    /// Tasks in `wait()` not yet resumed.
    public var tasksWaiting: Int
    /// The underlying lock's state.
    public var lockStatistics: LockStatistics
}

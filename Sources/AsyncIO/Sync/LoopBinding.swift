import DequeModule

/// The loop a synchronization primitive or queue belongs to, fixed the first time it must wait.
///
/// Primitives are created without a loop (as in asyncio 3.10+) and bind to the running loop the
/// first time a caller has to suspend on them; the fast paths (an uncontended `acquire`, `set`,
/// `putNowait`) need no loop and do not bind. Using a bound primitive from another loop is an error,
/// because its waiters are Futures of the first loop.
///
/// Mirrors asyncio's `mixins._LoopBoundMixin` (`_get_loop()`).
struct LoopBinding {
    private var core: LoopCore?

    /// The running loop's core, binding to it on the first call.
    ///
    /// - Parameter owner: what to call the primitive in the error message.
    /// - Throws: `AsyncIOError.loopState` if no loop runs on this thread, or if the primitive is
    ///   already bound to another loop.
    mutating func core(for owner: @autoclosure () -> String) throws(AsyncIOError) -> LoopCore {
        let running = try loopForAwait().core
        guard let core else {
            core = running
            return running
        }
        guard core === running else {
            throw AsyncIOError.loopState("\(owner()) is bound to a different event loop")
        }
        return core
    }
}

// MARK: - Waiter lists

/// A FIFO list of tasks waiting on a primitive, each represented by the Future it awaits.
///
/// A waiter removes itself when its await ends, whether it was woken or cancelled, as CPython's
/// `self._waiters.remove(fut)` does; removal is by identity.
typealias Waiters = Deque<Future<Void>>

extension Deque where Element == Future<Void> {
    /// Removes `waiter` if it is still listed (a wake-up may already have popped it).
    mutating func remove(_ waiter: Future<Void>) {
        if let index = firstIndex(where: { $0 === waiter }) {
            remove(at: index)
        }
    }

    /// Wakes the first waiter that is not done yet, leaving it listed.
    ///
    /// - Returns: true if a waiter was woken.
    @discardableResult
    func wakeFirstPending() -> Bool {
        for waiter in self where !waiter.isDone {
            waiter.complete(.succeeded(()))
            return true
        }
        return false
    }

    /// Pops waiters until one that is not done is found, and wakes it (CPython's `_wakeup_next`).
    mutating func popAndWakeNext() {
        while let waiter = popFirst() {
            if !waiter.isDone {
                waiter.complete(.succeeded(()))
                return
            }
        }
    }

    /// Cleans up after a queue putter or getter whose wait ended in an error (a cancellation).
    ///
    /// If it had been woken (its Future succeeded) but will not act on it, and what it waited for is
    /// still there for someone else (room to put, an item to get), the wake-up goes to the next in
    /// line; CPython's `put`/`get` `except` clauses.
    mutating func abandon(_ waiter: Future<Void>, passWakeUpOn: Bool) {
        waiter.cancel()
        remove(waiter)
        if passWakeUpOn && !waiter.isCancelled {
            popAndWakeNext()
        }
    }

    /// How many listed waiters have not been woken or cancelled yet.
    var pendingCount: Int { reduce(0) { $0 + ($1.isDone ? 0 : 1) } }
}

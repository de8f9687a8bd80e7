import DequeModule

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
}

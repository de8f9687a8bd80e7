import DequeModule

/// A flag that tasks on one event loop can wait for.
///
/// `set()` wakes every task waiting in `wait()` (in the order they began waiting); while the flag
/// is set, `wait()` returns at once. `clear()` lowers it again. A task woken by `set()` returns
/// from `wait()` even if the flag was cleared before it ran.
///
/// Bound to the running loop the first time a task waits on it (see `Lock`).
///
/// Mirrors `asyncio.Event`.
public final class Event: CustomStringConvertible {
    private var binding = LoopBinding()
    private var waiters = Waiters()
    private var value = false

    /// Creates an event whose flag is not set, bound to no loop yet.
    public init() {}

    /// True while the flag is set. Mirrors `is_set()`.
    public var isSet: Bool { value }

    /// What the event is doing now: whether it is set and how many tasks wait for it.
    public var statistics: EventStatistics {
        EventStatistics(isSet: value, tasksWaiting: waiters.count)
    }

    /// `<Event [set, waiters:2]>`, as CPython's `repr`.
    public var description: String {
        "<Event [\(value ? "set" : "unset")\(waiters.isEmpty ? "" : ", waiters:\(waiters.count)")]>"
    }

    /// Sets the flag and wakes every waiting task. Does nothing if it is already set.
    ///
    /// Mirrors `set()`.
    public func set() {
        guard !value else { return }
        value = true
        for waiter in waiters where !waiter.isDone {
            waiter.complete(.succeeded(()))
        }
    }

    /// Lowers the flag; later `wait()` calls block until `set()`. Mirrors `clear()`.
    public func clear() {
        value = false
    }

    /// Waits until the flag is set; returns at once if it already is.
    ///
    /// - Throws: `CancelledError` if the task is cancelled while it waits;
    ///   `AsyncIOError.loopState` if no loop runs or the event is bound to another loop.
    ///   Mirrors `wait()` (which returns `True`; here there is nothing to return).
    public func wait() async throws {
        if value { return }
        let waiter = Future<Void>(core: try binding.core(for: "Event"))
        waiters.append(waiter)
        defer { waiters.remove(waiter) }
        try await waiter.value
    }
}

/// A snapshot of an `Event`'s state (trio's `EventStatistics`).
public struct EventStatistics: Sendable, Equatable {
    /// Whether the flag is set.
    public var isSet: Bool
    /// Tasks in `wait()`, including those woken but not yet resumed.
    public var tasksWaiting: Int
}

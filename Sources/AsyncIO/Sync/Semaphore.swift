import DequeModule

/// A counter of permits for tasks on one event loop: `acquire()` takes one, waiting in FIFO order
/// when none is left; `release()` gives one back.
///
/// Fairness, as CPython 3.12+ does it: while any task waits, a newcomer queues behind it even if a
/// permit is free (`isLocked` is then true). `release()` hands the permit to the first waiter
/// directly (the count is decremented on its behalf); if that waiter is cancelled before it runs,
/// the permit goes back and to the next waiter.
///
/// Bound to the running loop the first time a task waits on it (see `Lock`).
///
/// Mirrors `asyncio.Semaphore`. Deviation: `async with sem:` is `try await sem.withPermit { … }`.
public final class Semaphore: CustomStringConvertible {
    let state: SemaphoreState

    /// Creates a semaphore with `value` permits (default 1).
    ///
    /// - Throws: `AsyncIOError.invalidArgument` if `value` is negative. Mirrors `Semaphore(value=1)`.
    public init(value: Int = 1) throws(AsyncIOError) {
        state = try SemaphoreState(value: value, owner: "Semaphore")
    }

    /// The number of free permits. Mirrors the private `_value` (exposed for inspection).
    public var value: Int { state.value }

    /// True if `acquire()` would wait: no permit is free, or tasks are queued ahead. Mirrors `locked()`.
    public var isLocked: Bool { state.isLocked }

    /// What the semaphore is doing now.
    public var statistics: SemaphoreStatistics { state.statistics(bound: nil) }

    /// `<Semaphore [unlocked, value:2, waiters:1]>`, as CPython's `repr`.
    public var description: String { "<Semaphore [\(state.summary)]>" }

    /// Takes a permit, waiting for one in FIFO order if none is free or others wait.
    ///
    /// - Throws: `CancelledError` if cancelled while waiting (no permit is kept);
    ///   `AsyncIOError.loopState` for loop misuse. Mirrors `acquire()`.
    public func acquire() async throws { try await state.acquire() }

    /// Gives a permit back and wakes the first waiting task, if any. Mirrors `release()`.
    public func release() { state.release() }

    /// Runs `body` holding a permit, giving it back afterwards even if `body` throws.
    ///
    /// - Returns: what `body` returns. Mirrors `async with sem:`.
    public func withPermit<Value>(_ body: () async throws -> Value) async throws -> Value {
        try await state.acquire()
        defer { state.release() }
        return try await body()
    }
}

/// A semaphore that refuses to be released more often than it was acquired.
///
/// Mirrors `asyncio.BoundedSemaphore`. Deviation: it is not a subclass of `Semaphore`, because its
/// `release()` throws and `Semaphore.release()` does not; both share one implementation.
public final class BoundedSemaphore: CustomStringConvertible {
    let state: SemaphoreState
    /// The initial number of permits, which `release()` never exceeds.
    public let bound: Int

    /// Creates a bounded semaphore with `value` permits (default 1), also its upper bound.
    ///
    /// - Throws: `AsyncIOError.invalidArgument` if `value` is negative.
    ///   Mirrors `BoundedSemaphore(value=1)`.
    public init(value: Int = 1) throws(AsyncIOError) {
        state = try SemaphoreState(value: value, owner: "BoundedSemaphore")
        bound = value
    }

    /// The number of free permits.
    public var value: Int { state.value }

    /// True if `acquire()` would wait. Mirrors `locked()`.
    public var isLocked: Bool { state.isLocked }

    /// What the semaphore is doing now.
    public var statistics: SemaphoreStatistics { state.statistics(bound: bound) }

    /// `<BoundedSemaphore [unlocked, value:2, waiters:1]>`, as CPython's `repr`.
    public var description: String { "<BoundedSemaphore [\(state.summary)]>" }

    /// Takes a permit; see `Semaphore.acquire()`. Mirrors `acquire()`.
    public func acquire() async throws { try await state.acquire() }

    /// Gives a permit back and wakes the first waiting task, if any.
    ///
    /// - Throws: `AsyncIOError.calledTooManyTimes` if that would exceed the initial value.
    ///   Mirrors `release()` (asyncio raises `ValueError`).
    public func release() throws(AsyncIOError) {
        guard state.value < bound else {
            throw AsyncIOError.calledTooManyTimes("BoundedSemaphore.release")
        }
        state.release()
    }

    /// Runs `body` holding a permit; see `Semaphore.withPermit(_:)`. Mirrors `async with sem:`.
    public func withPermit<Value>(_ body: () async throws -> Value) async throws -> Value {
        try await state.acquire()
        defer { state.release() }
        return try await body()
    }
}

/// A snapshot of a semaphore's state.
public struct SemaphoreStatistics: Sendable, Equatable {
    /// Free permits.
    public var value: Int
    /// Whether `acquire()` would wait.
    public var isLocked: Bool
    /// Tasks queued in `acquire()`, including those woken but not yet resumed.
    public var tasksWaiting: Int
    /// The upper bound of a `BoundedSemaphore`; nil for a `Semaphore`.
    public var bound: Int?
}

// MARK: - Shared implementation

/// The permit counting and FIFO hand-over shared by `Semaphore` and `BoundedSemaphore`.
final class SemaphoreState {
    private(set) var value: Int
    private let owner: String
    private var binding = LoopBinding()
    private var waiters = Waiters()

    init(value: Int, owner: String) throws(AsyncIOError) {
        guard value >= 0 else { throw AsyncIOError.invalidArgument("\(owner) initial value must be >= 0") }
        self.value = value
        self.owner = owner
    }

    /// No permit, or a live waiter ahead (FIFO: a newcomer must not overtake it).
    var isLocked: Bool {
        value == 0 || waiters.contains { !$0.isCancelled }
    }

    func statistics(bound: Int?) -> SemaphoreStatistics {
        SemaphoreStatistics(value: value, isLocked: isLocked, tasksWaiting: waiters.count, bound: bound)
    }

    /// CPython's `repr` details: `locked` or `unlocked, value:N`, then the waiter count if any.
    var summary: String {
        (isLocked ? "locked" : "unlocked, value:\(value)") + (waiters.isEmpty ? "" : ", waiters:\(waiters.count)")
    }

    func acquire() async throws {
        if !isLocked {
            value -= 1
            return
        }
        let waiter = Future<Void>(core: try binding.core(for: owner))
        waiters.append(waiter)
        // Whatever happens, wake as many newcomers as there are free permits: they queued behind
        // us only for FIFO's sake (CPython's `finally` in `acquire`).
        defer {
            while value > 0 && wakeUpNext() {}
        }
        do {
            try await waiter.value
        } catch {
            waiters.remove(waiter)
            if waiter.isDone && !waiter.isCancelled {
                // release() handed us a permit (and counted it taken), but we are cancelled:
                // give it back, so that the `defer` above passes it on.
                value += 1
            }
            throw error
        }
        waiters.remove(waiter)
    }

    func release() {
        value += 1
        wakeUpNext()
    }

    /// Hands a permit to the first waiter not yet woken (CPython's `_wake_up_next`).
    @discardableResult
    private func wakeUpNext() -> Bool {
        for waiter in waiters where !waiter.isDone {
            value -= 1
            waiter.complete(.succeeded(()))
            return true
        }
        return false
    }
}

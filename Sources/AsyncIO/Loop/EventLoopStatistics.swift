import Synchronization

/// Counters of what a loop did, for tests and benchmarks (trio's `statistics()` habit).
public struct EventLoopStatistics: Sendable, Equatable {
    /// Iterations of the loop (asyncio's `_run_once`).
    public var iterations: Int
    /// Swift jobs queued on the loop: one per task start and per task resumption. A task switch
    /// through a Future, a `sleep(.zero)` and an await that completes later each cost one.
    public var jobs: Int
    /// Executor hops: a running task moving between loop-isolated and nonisolated code. The
    /// runtime hands the task back to the loop for each; the loop runs it at once, unqueued.
    public var hops: Int
}

/// The loop's counters: single writer (the loop thread), any reader.
final class LoopCounters: Sendable {
    let iterations = Atomic<Int>(0)
    let jobs = Atomic<Int>(0)
    let hops = Atomic<Int>(0)

    enum Counter { case iterations, jobs, hops }

    /// Adds one; only the loop thread calls this, so a relaxed load and store cannot lose counts.
    @inline(__always)
    func bump(_ counter: Counter) {
        switch counter {
        case .iterations: iterations.store(iterations.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        case .jobs: jobs.store(jobs.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        case .hops: hops.store(hops.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        }
    }
}

extension EventLoop {
    /// What the loop did so far. Safe to read from any thread.
    public nonisolated var statistics: EventLoopStatistics {
        EventLoopStatistics(
            iterations: core.counters.iterations.load(ordering: .relaxed),
            jobs: core.counters.jobs.load(ordering: .relaxed),
            hops: core.counters.hops.load(ordering: .relaxed)
        )
    }
}

extension EventLoop {
    /// How many callbacks and task steps wait in the ready queue right now.
    ///
    /// For test helpers (`AsyncIOTesting.waitAllTasksBlocked`) and diagnostics; asyncio keeps the
    /// same number in `len(loop._ready)`. Work other threads queued but the loop has not picked up
    /// yet is not counted.
    public var readyCount: Int { core.ready.count }
}

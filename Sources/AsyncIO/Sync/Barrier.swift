/// A meeting point for a fixed number of tasks on one event loop: each waits until all have arrived.
///
/// Each `wait()` returns a distinct arrival index, `0 ..< parties`. After the last party arrives the
/// barrier drains (those waiting leave) and then fills again for the next round; tasks arriving
/// while it drains wait for the next round. `abort()` breaks the barrier: waiting and future
/// `wait()` calls throw `AsyncIOError.brokenBarrier` until `reset()`. `reset()` sends the current
/// waiters away with `brokenBarrier` and makes the barrier usable again.
///
/// States: `filling -> draining -> filling …`; `filling/draining -> resetting -> filling` (reset with
/// waiters); any `-> broken` (abort) `-> resetting|filling` (reset). Built on a `Condition`, as
/// CPython does.
///
/// Mirrors `asyncio.Barrier`. `n_waiting` and `broken` are `nWaiting` and `isBroken`.
public final class Barrier: CustomStringConvertible {
    enum State: Sendable, Equatable {
        case filling, draining, resetting, broken
    }

    /// The number of tasks that must call `wait()` to pass the barrier. Mirrors `parties`.
    public let parties: Int
    private let condition = Condition()
    private var state = State.filling
    /// Tasks inside `wait()` that passed the blocking stage.
    private var count = 0

    /// Creates a barrier for `parties` tasks.
    ///
    /// - Throws: `AsyncIOError.invalidArgument` if `parties` is less than 1.
    ///   Mirrors `Barrier(parties)`.
    public init(parties: Int) throws(AsyncIOError) {
        guard parties >= 1 else { throw AsyncIOError.invalidArgument("parties must be >= 1") }
        self.parties = parties
    }

    /// The number of tasks waiting for the barrier to fill (0 while it drains, resets or is broken).
    ///
    /// Mirrors `n_waiting`.
    public var nWaiting: Int { state == .filling ? count : 0 }

    /// True once `abort()` broke the barrier, until `reset()`. Mirrors `broken`.
    public var isBroken: Bool { state == .broken }

    /// What the barrier is doing now.
    public var statistics: BarrierStatistics {
        BarrierStatistics(parties: parties, nWaiting: nWaiting, isBroken: isBroken)
    }

    /// `<Barrier [filling, waiters:1/3]>`, as CPython's `repr`.
    public var description: String {
        "<Barrier [\(state)\(isBroken ? "" : ", waiters:\(nWaiting)/\(parties)")]>"
    }

    // MARK: - Waiting

    /// Waits until `parties` tasks have called `wait()`, then returns this task's arrival index.
    ///
    /// - Returns: a distinct index in `0 ..< parties` (the last to arrive gets `parties - 1`).
    /// - Throws: `AsyncIOError.brokenBarrier` if the barrier is broken or is reset or aborted while
    ///   waiting; `CancelledError` if cancelled. Mirrors `wait()`.
    public func wait() async throws -> Int {
        try await condition.withLock {
            // Block while the previous round drains or a reset completes.
            try await condition.waitFor { state != .draining && state != .resetting }
            if state == .broken { throw AsyncIOError.brokenBarrier }
            let index = count
            count += 1
            defer {
                count -= 1
                exit()
            }
            if index + 1 == parties {
                // The last party: release everyone, entering the draining state.
                state = .draining
                try condition.notifyAll()
            } else {
                try await condition.waitFor { state != .filling }
                if state == .broken || state == .resetting { throw AsyncIOError.brokenBarrier }
            }
            return index
        }
    }

    /// Returns the barrier to the empty, filling state; tasks waiting in it get `brokenBarrier`.
    ///
    /// Mirrors `reset()`.
    public func reset() async throws {
        try await condition.withLock {
            state = count > 0 ? .resetting : .filling
            try condition.notifyAll()
        }
    }

    /// Breaks the barrier: current and future `wait()` calls throw `brokenBarrier` until `reset()`.
    ///
    /// Mirrors `abort()`.
    public func abort() async throws {
        try await condition.withLock {
            state = .broken
            try condition.notifyAll()
        }
    }

    /// The last task to leave a drained or reset barrier opens it for the next round.
    private func exit() {
        guard count == 0 else { return }
        if state == .resetting || state == .draining { state = .filling }
        try? condition.notifyAll()
    }
}

/// A snapshot of a `Barrier`'s state.
public struct BarrierStatistics: Sendable, Equatable {
    /// Tasks needed to pass.
    public var parties: Int
    /// Tasks waiting for the barrier to fill.
    public var nWaiting: Int
    /// Whether the barrier is broken.
    public var isBroken: Bool
}

import AsyncIO

/// Runs `body` on a fresh loop with a `VirtualClock`, on a thread of its own, and returns its result.
///
/// The test-side `asyncio.run`: the loop is closed afterwards and every task left behind is
/// cancelled and awaited. With `autoJump` (the default) the clock jumps to the next timer whenever
/// the loop has nothing ready, so sleeps and timeouts take no real time and fire in deadline order.
/// A Swift test runs inside a Swift task and must never run a loop on its own thread; this helper
/// is how it gets one.
///
/// ```swift
/// @Test func timeoutFires() async throws {
///     let fired = try await withTestLoop { loop, clock in
///         try await sleep(.seconds(3600))   // instant
///         return clock.now().seconds
///     }
///     #expect(fired == 3600)
/// }
/// ```
///
/// - Parameters:
///   - autoJump: whether the clock jumps when the loop is idle (false: only `clock.advance` moves it).
///   - debug: the loop's debug mode (nil: from `ASYNCIO_DEBUG`).
///   - body: the test's main coroutine, given the loop and its clock.
/// - Returns: what `body` returns.
/// - Throws: what `body` throws.
///
/// Mirrors CPython's `test_asyncio.utils.TestLoop` and trio's `MockClock(autojump_threshold=0)`.
public func withTestLoop<Value: Sendable>(
    autoJump: Bool = true,
    debug: Bool? = nil,
    _ body: @escaping @Sendable (isolated EventLoop, VirtualClock) async throws -> Value
) async throws -> Value {
    let clock = VirtualClock(autoJump: autoJump)
    return try await EventLoopThread.run(clock: clock, debug: debug) { loop in
        try await body(loop, clock)
    }
}

/// Waits until every other task and callback on the loop is blocked: nothing is left in the ready
/// queue but the caller.
///
/// Use it instead of a sleep to let "everything that can happen now" happen: a chain of callbacks
/// and task steps however long, each scheduling the next, has run to its end when this returns.
/// Tasks are then all waiting on something: a Future, a timer, I/O or another thread.
///
/// Sound on a `VirtualClock`, whose time does not move while work is ready (the waiting caller is
/// always ready, so an auto-jumping clock does not jump either). Not counted: work another thread
/// has queued but the loop has not picked up yet, and I/O readiness not yet polled; a program that
/// yields forever makes this wait forever.
///
/// - Throws: `CancelledError` if the calling task is cancelled; `AsyncIOError.loopState` if no
///   loop runs on this thread.
///
/// Mirrors trio's `wait_all_tasks_blocked()` (with no cushion).
public func waitAllTasksBlocked(on loop: isolated EventLoop) async throws {
    // Each sleep(.zero) puts the caller at the back of the ready queue; when it runs again and
    // finds nothing queued behind it, nothing else was runnable.
    repeat {
        try await sleep(.zero)
    } while loop.readyCount > 0
}

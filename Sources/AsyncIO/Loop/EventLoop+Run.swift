// Theory of operation
//
// One iteration of the loop (`LoopCore.runOnce`, the only place callbacks and task steps run) is
// asyncio's `_run_once`:
//
//   1. Decide how long to block: not at all if something is ready, a stop is pending, or another
//      thread queued work; else until the earliest live timer; else forever.
//   2. `epoll_wait` (nanosecond timeout through `epoll_pwait2`), then dispatch each ready fd inline:
//      a transport reads and calls its protocol at once, as libuv and SwiftNIO do. The wake-up
//      eventfd is drained here.
//   3. Move what other threads queued (`callSoonThreadSafe`, jobs enqueued from other threads) into
//      the ready queue.
//   4. Move every timer due by now into the ready queue, in (deadline, sequence) order.
//   5. Run exactly the entries that are in the ready queue now, FIFO. What they schedule —
//      callbacks, woken tasks, resolved Futures' callbacks — lands behind them and runs in the next
//      iteration, so a callback that reschedules itself cannot starve I/O.
//
// Swift jobs and callbacks share the one ready queue, so a task woken by a Future and a callback
// scheduled at the same moment run in the order they were scheduled. A job enqueued from the loop
// thread is appended directly (no lock, no syscall); from another thread it goes through the inbox,
// which writes the eventfd only when it goes from empty to non-empty.
//
// The loop stops after the iteration in which `stop()` was called; callbacks scheduled by that
// iteration stay queued for the next run (asyncio's behaviour).
//
// Blocking run calls refuse to run inside a Swift task: a loop parked in epoll_wait on one of the
// cooperative pool's threads (one per core, two here) would starve every other Swift task.

extension EventLoop {
    /// Runs the loop until `stop()` is called. Mirrors `loop.run_forever()`.
    ///
    /// - Throws: `AsyncIOError.loopState` if the loop is closed or already running, if another loop
    ///   runs on this thread, or if called from inside a Swift task.
    public nonisolated func runForever() throws(AsyncIOError) {
        try enterRun()
        defer { exitRun() }
        core.runUntilStopped()
    }

    /// Runs `body` as a task on this loop, blocking the calling thread until it completes, and
    /// returns its result. Mirrors `loop.run_until_complete(coro)`.
    ///
    /// - Throws: `body`'s error; `CancelledError` if the task was cancelled;
    ///   `AsyncIOError.loopState` for the misuses `runForever` refuses, or if `stop()` ended the run
    ///   before the task completed.
    public nonisolated func runUntilComplete<Value>(
        _ body: @escaping (isolated EventLoop) async throws -> Value
    ) throws -> Value {
        try enterRun()
        defer { exitRun() }
        // SAFETY: `task` and `body` are created and used on this thread only: the closure below runs
        // synchronously on it (the loop is claimed by this thread, so assumeIsolated holds), and the
        // loop runs the task on this same thread until we return.
        nonisolated(unsafe) var task: LoopTask<Value>?
        nonisolated(unsafe) let operation = body
        assumeIsolated { loop in
            // Not eager, whatever the task factory says: the loop is not running yet (asyncio starts
            // a task eagerly only on a running loop).
            let created = loop.createTask(eagerStart: false) { try await operation(loop) }
            created.addDoneCallback { _ in loop.core.requestStop() }
            task = created
        }
        core.runUntilStopped()
        guard let task, task.isDone else {
            throw AsyncIOError.loopState("Event loop stopped before Future completed.")
        }
        return try task.result()
    }

    /// Stops the loop after the current iteration. Safe from any thread. Mirrors `loop.stop()`.
    public nonisolated func stop() {
        core.requestStop()
    }

    /// Closes the loop: drops what is still scheduled, reports tasks still pending, releases the
    /// epoll and eventfd descriptors and shuts the default executor down without waiting.
    ///
    /// Closing twice does nothing. Mirrors `loop.close()`.
    /// - Throws: `AsyncIOError.loopState` if the loop is running.
    public nonisolated func close() throws(AsyncIOError) {
        guard !core.isClosed else { return }
        guard core.claimThread() else { throw AsyncIOError.loopState("Cannot close a running event loop") }
        defer { core.releaseThread() }
        let pending = core.close()
        for task in pending.tasks {
            core.reportException(message: "Task was destroyed but it is pending!", source: "\(task)")
        }
        core.taskSites.removeAll()
        core.defaultExecutor?.shutdown(wait: false)
        core.defaultExecutor = nil
    }

    private nonisolated func enterRun() throws(AsyncIOError) {
        guard !core.isClosed else { throw AsyncIOError.loopState("Event loop is closed") }
        guard withUnsafeCurrentTask(body: { $0 == nil }) else {
            throw AsyncIOError.loopState(
                "Cannot run an event loop from inside a Swift task: it would block a thread of the cooperative pool. "
                    + "Run it from synchronous code or on a thread of its own (EventLoopThread)."
            )
        }
        guard runningLoopSlot.value == nil else {
            throw AsyncIOError.loopState("Cannot run the event loop while another loop is running")
        }
        guard core.claimThread() else { throw AsyncIOError.loopState("This event loop is already running") }
        runningLoopSlot.value = self
    }

    private nonisolated func exitRun() {
        runningLoopSlot.value = nil
        core.releaseThread()
    }
}

import Synchronization

/// A single-threaded event loop: it blocks on socket readiness (epoll), then runs callbacks,
/// timers and the Swift tasks scheduled on it, one at a time, on the thread that runs it.
///
/// `EventLoop` is an actor whose executor is the loop itself. Code isolated to it — the body of a
/// `LoopTask`, a callback given to `callSoon` — runs on the loop thread and may touch non-Sendable
/// objects that belong to the loop without locks. Tasks created on it also prefer it as their task
/// executor, so nonisolated async code they call stays on the loop thread too.
///
/// The loop runs on the thread that calls `runForever` or `runUntilComplete` (or `run { … }`).
/// Those calls block, so they must not be made from inside a Swift task (a loop parked in
/// `epoll_wait` on one of Swift's few cooperative threads would starve them): doing so throws.
///
/// Mirrors asyncio's `AbstractEventLoop` (the selector loop on Linux).
public actor EventLoop {
    nonisolated let core: LoopCore
    private static let taskCounter = Atomic<Int>(0)

    /// Creates a loop that reads time from `clock` (the monotonic clock unless a test injects one).
    ///
    /// Mirrors `asyncio.new_event_loop()`; see also `newEventLoop()`.
    public init(clock: any LoopClock = MonotonicClock.shared) throws(SystemError) {
        core = try LoopCore(clock: clock)
        core.facade = self
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { core.asUnownedSerialExecutor() }

    /// The loop as a Swift task executor, for `Task(executorPreference:)` and task groups' `addTask`.
    public nonisolated var taskExecutor: any TaskExecutor { core.taskExecutor }

    // MARK: - State

    /// True while the loop runs. Mirrors `is_running()`.
    public nonisolated var isRunning: Bool { core.isRunning }

    /// True once the loop was closed. Mirrors `is_closed()`.
    public nonisolated var isClosed: Bool { core.isClosed }

    /// The loop's current time on its clock. Mirrors `loop.time()` (as an instant, not a float).
    public nonisolated var time: LoopInstant { core.clock.now() }

    /// Debug mode: slow callbacks are logged with where they were scheduled. Mirrors `get_debug()`.
    ///
    /// Set it before the loop runs or from the loop. `PYTHONASYNCIODEBUG`'s counterpart is the
    /// `ASYNCIO_DEBUG` environment variable, read by `newEventLoop()` and `run`.
    public var debug: Bool {
        get { core.debug }
        set { core.debug = newValue }
    }

    /// Callbacks and task steps that run longer than this are logged in debug mode (100 ms).
    ///
    /// Mirrors `loop.slow_callback_duration`.
    public var slowCallbackDuration: Duration {
        get { core.slowCallbackDuration }
        set { core.slowCallbackDuration = newValue }
    }

    // MARK: - Scheduling callbacks

    /// Schedules `callback` to run in the next iteration, after those scheduled before it (FIFO).
    ///
    /// An error thrown by the callback goes to the exception handler; the loop goes on.
    /// - Returns: a handle that can cancel it. Mirrors `loop.call_soon()`.
    @discardableResult
    public func callSoon(
        _ callback: consuming @escaping () throws -> Void,
        fileID: String = #fileID,
        line: Int = #line
    ) -> Handle {
        let handle = Handle(core: core, callback: callback)
        if core.debug { handle.site = CallSite(fileID: fileID, line: line) }
        core.callSoon(handle)
        return handle
    }

    /// Schedules `callback` to run `delay` from now (at once if `delay` is not positive).
    ///
    /// Timers with the same deadline run in the order they were scheduled.
    /// - Returns: a handle that can cancel it. Mirrors `loop.call_later()`.
    @discardableResult
    public func callLater(
        _ delay: Duration,
        _ callback: @escaping () throws -> Void,
        fileID: String = #fileID,
        line: Int = #line
    ) -> Handle {
        callAt(core.clock.now() + delay, callback, fileID: fileID, line: line)
    }

    /// Schedules `callback` to run at `when` on the loop's clock (see `time`).
    ///
    /// - Returns: a handle that can cancel it. Mirrors `loop.call_at()`.
    @discardableResult
    public func callAt(
        _ when: LoopInstant,
        _ callback: @escaping () throws -> Void,
        fileID: String = #fileID,
        line: Int = #line
    ) -> Handle {
        let handle = Handle(core: core, deadline: when.nanoseconds, callback: callback)
        if core.debug { handle.site = CallSite(fileID: fileID, line: line) }
        core.callAt(handle)
        return handle
    }

    /// Schedules `callback` from any thread, waking the loop if it sleeps.
    ///
    /// The one scheduling call that is safe from another thread (with `stop()` and
    /// `runCoroutineThreadSafe`).
    /// - Returns: a handle that can cancel it from any thread.
    /// - Throws: `AsyncIOError.loopState` if the loop is closed. Mirrors `call_soon_threadsafe()`.
    @discardableResult
    public nonisolated func callSoonThreadSafe(
        _ callback: consuming @escaping @Sendable () throws -> Void
    ) throws(AsyncIOError) -> Handle {
        guard !core.isClosed else { throw AsyncIOError.loopState("Event loop is closed") }
        let handle = Handle(core: core, callback: callback)
        core.pushThreadSafe(.handle(handle))
        return handle
    }

    // MARK: - Futures and tasks

    /// Creates a pending Future bound to this loop. Mirrors `loop.create_future()`.
    public func createFuture<Value>(of type: Value.Type = Value.self) -> Future<Value> {
        Future(core: core)
    }

    /// Wraps `body` in a `LoopTask` and schedules it to run on this loop, through the loop's task
    /// factory if one is set (`setTaskFactory`).
    ///
    /// The task starts in the next iteration, or, with `eagerStart`, runs at once until its first
    /// suspension (Python 3.12's eager tasks; a task that finishes without suspending never goes
    /// through the loop). The task sees the task-local values of the code that creates it, as an
    /// asyncio task runs in a copy of its creator's `contextvars`.
    ///
    /// - Parameters:
    ///   - name: the task's name (default `Task-N`).
    ///   - eagerStart: start the task synchronously; nil leaves it to the task factory (without
    ///     one: false).
    ///   - fileID: where the task is made, shown in debug mode and by the call graph (leave the
    ///     default).
    ///   - line: the line where the task is made (leave the default).
    ///   - body: the coroutine. Written inside code isolated to the loop, it is isolated to the loop
    ///     too and may capture and touch loop-bound, non-Sendable state.
    /// - Returns: the task, a Future of `body`'s result. Mirrors `loop.create_task()`.
    @discardableResult
    public func createTask<Value>(
        name: String? = nil,
        eagerStart: Bool? = nil,
        fileID: String = #fileID,
        line: Int = #line,
        _ body: @escaping () async throws -> Value
    ) -> LoopTask<Value> {
        guard let factory = core.taskFactory else {
            return LoopTask(on: self, name: name, eagerStart: eagerStart ?? false, fileID: fileID, line: line, body)
        }
        let task = factory.makeTask(on: self, name: name, eagerStart: eagerStart, body)
        // Where the task was made is where `createTask` was called, not inside the factory.
        if core.debug, !task.isDone { core.taskSites[ObjectIdentifier(task)] = CallSite(fileID: fileID, line: line) }
        return task
    }

    /// Registers `task` and starts it: the second half of `LoopTask(on:…)`.
    func startTask<Value>(_ task: LoopTask<Value>, eagerStart: Bool, _ body: @escaping () async throws -> Value) {
        core.unstartedTasks[ObjectIdentifier(task)] = task
        // SAFETY: `task` and `body` belong to this loop's region (this method is isolated to the
        // loop, so whoever passed `body` is too) and are only touched inside `drive`, which runs
        // isolated to this same loop.
        let transfer = UnsafeTransfer((task, body))
        // The Swift task is not named after the LoopTask: the runtime would copy the name into the
        // task's allocator, taking room the task's frames need (see `LoopTask.drive`). `Task.init`
        // copies the creator's task-local values into it.
        let start = {
            Task(executorPreference: self.core.taskExecutor) { [self] in
                await transfer.value.0.drive(transfer.value.1, on: self)
            }
        }
        if eagerStart {
            // Python 3.12's eager tasks: the first step runs now, nested in this call, up to the
            // task's first suspension. (`Task.immediate` would not start it synchronously here:
            // the new task prefers the loop as task executor and its first job is nonisolated.)
            core.runJobEnqueued { _ = start() }
        } else {
            _ = start()
        }
    }

    /// The next default task number (`Task-N`), counted over every loop as asyncio does.
    nonisolated static func nextTaskNumber() -> Int {
        taskCounter.add(1, ordering: .relaxed).newValue
    }

    /// The tasks of this loop that are not done yet. Mirrors `asyncio.all_tasks()`.
    public func allTasks() -> [any AnyLoopTask] {
        core.pendingTasks
    }

    // MARK: - Errors

    /// Replaces the exception handler; nil restores the default, which logs.
    ///
    /// The handler receives errors that nobody else will see: a callback that threw, a task whose
    /// exception was never retrieved, a task still pending at close. Mirrors
    /// `set_exception_handler()`.
    public nonisolated func setExceptionHandler(_ handler: ExceptionHandler?) {
        core.exceptionHandler.withLock { $0 = handler }
    }

    /// The exception handler `setExceptionHandler` installed; nil while the default one is in use.
    ///
    /// Mirrors `get_exception_handler()`.
    public nonisolated func getExceptionHandler() -> ExceptionHandler? {
        core.exceptionHandler.withLock { $0 }
    }

    /// Calls the current exception handler. Mirrors `call_exception_handler()`.
    public nonisolated func callExceptionHandler(_ context: ExceptionContext) {
        core.reportException(message: context.message, error: context.error, source: context.source)
    }

    /// Calls the default exception handler (logs). Mirrors `default_exception_handler()`.
    public nonisolated func defaultExceptionHandler(_ context: ExceptionContext) {
        core.defaultExceptionHandler(context)
    }
}

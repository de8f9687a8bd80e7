/// What every `LoopTask` is, whatever its result type: asyncio's `Task` seen from `currentTask()`
/// and `allTasks()`.
public protocol AnyLoopTask: AnyObject {
    /// The task's name. Mirrors `get_name()`.
    var name: String { get }
    /// Renames the task. Mirrors `set_name()`.
    func setName(_ name: String)
    var isDone: Bool { get }
    var isCancelled: Bool { get }
    /// Requests cancellation; see `LoopTask.cancel(message:)`.
    @discardableResult func cancel(message: String?) -> Bool
    /// The number of pending cancellation requests. Mirrors `cancelling()`.
    func cancelling() -> Int
    /// Takes back one cancellation request. Mirrors `uncancel()`.
    @discardableResult func uncancel() -> Int
}

/// A LoopTask seen by the code it runs: its asyncio cancellation state, whatever its result type.
///
/// The loop maps each running LoopTask's Swift task to it (`LoopCore.runningTasks`), so that an
/// `await` on a loop Future knows which task waits (to cancel the Future when the task is
/// cancelled, as asyncio does). Child tasks and unstructured tasks are other Swift tasks, so they
/// are not found there: only the task's own code sees it.
///
/// Not a `@TaskLocal`: binding one takes `TaskLocal.withValue`, whose operation is a plain (hence
/// `@concurrent`) async closure; entering and leaving it cost two extra executor hops per task.
/// Not a separate state object either: one object per task is what a suspended task costs least.
protocol RunningLoopTask: AnyLoopTask {
    var core: LoopCore { get }
    /// A cancellation was requested while the task was not waiting on a Future: its next await on
    /// the loop throws it.
    var mustCancel: Bool { get }
    /// The Future the task is suspended on, cancelled when the task is.
    var waitingOn: (any FutureCancelling)? { get set }
    /// Throws the pending cancellation, once.
    func takeCancelRequest() throws(CancelledError)
    /// The last step of a wait on `object`: forgets it, and throws a cancellation requested while
    /// the task was being resumed (asyncio's must-cancel, which wins over the wait's outcome).
    func stoppedWaiting(on object: AnyObject) throws(CancelledError)
}

extension LoopCore {
    /// The tasks of this loop that are not done yet.
    var pendingTasks: [any RunningLoopTask] {
        Array(unstartedTasks.values) + Array(runningTasks.values)
    }

    /// Moves `task` from the unstarted tasks to the running ones, at its first step.
    @inline(never)
    func started(_ task: some RunningLoopTask, as swiftTask: UInt?) {
        unstartedTasks[ObjectIdentifier(task)] = nil
        // A burst of tasks created at once grows the table; do not keep that room once they started.
        if unstartedTasks.isEmpty && unstartedTasks.capacity > 64 { unstartedTasks = [:] }
        if let swiftTask { runningTasks.insert(task, for: swiftTask) }
    }

    /// The LoopTask running the calling code, if it is one of this loop's. Loop thread only.
    @inline(__always)
    func currentTask() -> (any RunningLoopTask)? {
        guard !runningTasks.isEmpty else { return nil }
        guard let swiftTask = currentSwiftTaskAddress() else { return nil }
        return runningTasks[swiftTask]
    }
}

// MARK: - Waiting: the steps every wait on the loop shares (a Future, a WaitPoint, `sleep(0)`)

extension LoopCore {
    /// The LoopTask about to wait (nil outside one), after taking its pending cancellation: the
    /// first step of every wait. Out of line, like the other steps, so that an awaiting task's
    /// frame (which stays in its allocator while it waits) holds none of its temporaries.
    @inline(never)
    func taskAboutToWait() throws(CancelledError) -> (any RunningLoopTask)? {
        guard let task = currentTask() else { return nil }
        try task.takeCancelRequest()
        return task
    }

    /// Suspends a task that is not one of this loop's LoopTasks, where Swift cancellation may
    /// arrive (nobody holds a LoopTask's Swift `Task`), until the continuation given to `park` is
    /// resumed. `park` runs on the loop thread; so does `cancel`, when the task is cancelled the
    /// Swift way.
    ///
    /// The handler's operation is a closure, and a closure formed here is not `nonsending`: it
    /// runs on the task's preferred executor, or on Swift's global one when the task has no
    /// preference (a plain `Task { … }` isolated to the loop). So it only hands its continuation
    /// to the loop, at once when it happens to run there; if the loop is closed, it resumes it.
    ///
    /// Not inlined: the cancellation handler would make the frame of every awaiting LoopTask
    /// bigger, and that frame lives in the task's allocator for as long as the task waits.
    @inline(never)
    func suspendOutsideLoopTask(
        park: UnsafeTransfer<(UnsafeContinuation<Void, Never>) -> Void>,
        onCancel cancel: UnsafeTransfer<() -> Void>
    ) async {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                if isOnLoopThread {
                    park.value(continuation)
                } else if !callSoonThreadSafe({ park.value(continuation) }) {
                    continuation.resume()  // the loop is closed: nothing will wake this wait
                }
            }
        } onCancel: {
            // Swift cancellation arrives on the canceller's thread: hop to the loop first.
            callSoonThreadSafe { cancel.value() }
        }
    }
}

/// Suspends the calling task and hands its continuation to `park`: the suspension of every wait
/// on the loop.
///
/// `withUnsafeContinuation(isolation:)` switches to its isolation before it makes the continuation
/// and again once resumed; each switch asks the runtime for the task's preferred executor, under
/// the task's status lock, even when it stays on the loop. Here the continuation is made where the
/// caller runs (always the loop: every job of a loop runs isolated to it) and resumes there, so
/// only the caller's own switch after the call is left: one fewer per message in an echo server.
@inline(__always)
func suspendOnLoop(_ park: (UnsafeContinuation<Void, Never>) -> Void) async {
    await _unsafeInheritExecutor_withUnsafeContinuation(park)
}

/// A Future that drives an async function on its loop: asyncio's `Task`.
///
/// Created with `EventLoop.createTask`. The function runs on the loop thread, isolated to the loop,
/// with the loop as its executor preference, so it never leaves the thread between awaits. The task
/// completes with the function's result or error; a `CancelledError` (or Swift's
/// `CancellationError`) escaping the function marks it cancelled.
///
/// Cancellation is asyncio's, one-shot: `cancel(message:)` cancels the Future the task waits on, so
/// that `await` throws `CancelledError(message)`; the task may catch it and go on.
///
/// Mirrors `asyncio.Task`. Named `LoopTask` so as not to shadow `Swift.Task`.
public final class LoopTask<Value>: Future<Value>, RunningLoopTask {
    /// The task's name: the one it was created with, or `Task-N`. Mirrors `get_name()`.
    public private(set) var name: String
    var cancelRequests = 0
    var mustCancel = false
    var cancelMessage: String?
    var waitingOn: (any FutureCancelling)?

    init(core: LoopCore, name: String) {
        self.name = name
        super.init(core: core)
    }

    /// Creates a task that runs `body` on `loop` and starts it, without the loop's task factory:
    /// the constructor a `TaskFactory` calls. Elsewhere, use `EventLoop.createTask`.
    ///
    /// - Parameters:
    ///   - loop: the loop the task runs on.
    ///   - name: the task's name (default `Task-N`).
    ///   - eagerStart: run the body at once, up to its first suspension, instead of in the loop's
    ///     next iteration.
    ///   - body: the task's work, isolated to the loop.
    ///
    /// Mirrors `asyncio.Task(coro, loop=loop, name=name, eager_start=eager_start)`.
    public convenience init(
        on loop: isolated EventLoop,
        name: String? = nil,
        eagerStart: Bool = false,
        fileID: String = #fileID,
        line: Int = #line,
        _ body: @escaping () async throws -> Value
    ) {
        self.init(core: loop.core, name: name ?? "Task-\(EventLoop.nextTaskNumber())")
        if core.debug { core.taskSites[ObjectIdentifier(self)] = CallSite(fileID: fileID, line: line) }
        loop.startTask(self, eagerStart: eagerStart, body)
    }

    /// Requests that the task be cancelled.
    ///
    /// If the task waits on a Future, that Future is cancelled and the task's `await` throws
    /// `CancelledError(message)`. Otherwise its next `await` on the loop throws it. A task that
    /// never awaits on the loop cannot be cancelled. Cancelling a task that already failed counts
    /// as looking at its error, as for a Future.
    ///
    /// - Returns: false if the task is already done. Mirrors `Task.cancel(msg=None)`.
    @discardableResult
    public override func cancel(message: String? = nil) -> Bool {
        guard !isDone else {
            retrieved = true  // asyncio clears its "log the traceback" flag first
            return false
        }
        cancelRequests += 1
        if let waitingOn, waitingOn.cancel(message: message) {
            // The task is woken with CancelledError by that Future.
            return true
        }
        mustCancel = true
        cancelMessage = message
        return true
    }

    /// Renames the task (its `description` and the loop's reports show the new name).
    ///
    /// Mirrors `set_name()`.
    public func setName(_ name: String) {
        self.name = name
    }

    public func cancelling() -> Int { cancelRequests }

    @discardableResult
    public func uncancel() -> Int {
        if cancelRequests > 0 {
            cancelRequests -= 1
            if cancelRequests == 0 { mustCancel = false }
        }
        return cancelRequests
    }

    @inline(__always)
    func takeCancelRequest() throws(CancelledError) {
        guard mustCancel else { return }
        mustCancel = false
        throw CancelledError(message: cancelMessage)
    }

    func stoppedWaiting(on object: AnyObject) throws(CancelledError) {
        // Here, not through the protocol's `waitingOn` getter: that copy cost a retain and a release.
        if waitingOn === object { waitingOn = nil }
        try takeCancelRequest()
    }

    /// Tasks complete themselves. Mirrors asyncio, where `Task.set_result` raises.
    public override func setResult(_ value: Value) throws(AsyncIOError) {
        throw AsyncIOError.invalidState("Task does not support setResult")
    }

    /// Tasks complete themselves. Mirrors asyncio, where `Task.set_exception` raises.
    public override func setException(_ error: any Error) throws(AsyncIOError) {
        throw AsyncIOError.invalidState("Task does not support setException")
    }

    /// Shows where the task was created, in debug mode.
    public override var description: String {
        let site = core.taskSites.isEmpty ? nil : core.taskSites[ObjectIdentifier(self)]
        return "<LoopTask \(name) \(stateName)\(site.map { " created at \($0)" } ?? "")>"
    }

    // MARK: - Running

    /// Runs the task's function to its end and completes the task. Runs isolated to the loop.
    ///
    /// Kept small: its frame lives in the task's allocator for as long as the task, and frames
    /// that outgrow the allocator's first slab (about 1 KB) make the runtime malloc another. So
    /// every other step is an out-of-line synchronous call, whose temporaries (generic, hence
    /// sized at run time here) are on the thread's stack, not in this frame.
    @inline(__always)
    func drive(_ body: () async throws -> Value, on loop: isolated EventLoop) async {
        do {
            try start()
            finish(returning: try await body())
        } catch {
            finish(throwing: error)
        }
    }

    /// Registers the task as running; throws if it was cancelled before its first step (asyncio
    /// throws into the coroutine before it runs a line, so the body never starts).
    @inline(never)
    private func start() throws(CancelledError) {
        // The Swift task's address is a key while this very task runs `drive` (`forget` removes it).
        core.started(self, as: currentSwiftTaskAddress())
        try takeCancelRequest()
    }

    @inline(never)
    private func finish(returning value: consuming Value) {
        // Cancelled after its last await: asyncio marks such a task cancelled.
        complete(mustCancel ? .cancelled(cancelMessage) : .succeeded(value))
        forget()
    }

    @inline(never)
    private func finish(throwing error: any Error) {
        switch error {
        case let error as CancelledError: complete(.cancelled(error.message))
        case is CancellationError: complete(.cancelled(nil))
        default: complete(.failed(error))
        }
        forget()
    }

    /// Drops what the loop keeps of a running task, from the task's own last step.
    private func forget() {
        if let swiftTask = currentSwiftTaskAddress() { _ = core.runningTasks.remove(swiftTask) }
        waitingOn = nil
        if !core.taskSites.isEmpty { core.taskSites.removeValue(forKey: ObjectIdentifier(self)) }
    }
}

/// The task running the calling code, if it is a `LoopTask`. Mirrors `asyncio.current_task()`.
public func currentTask() -> (any AnyLoopTask)? {
    currentLoopTask()
}

/// The LoopTask running the calling code on this thread's running loop, if any.
func currentLoopTask() -> (any RunningLoopTask)? {
    runningLoopIfAny()?.core.currentTask()
}

/// What every `LoopTask` is, whatever its result type: asyncio's `Task` seen from `currentTask()`
/// and `allTasks()`.
public protocol AnyLoopTask: AnyObject {
    /// The task's name. Mirrors `get_name()`.
    var name: String { get }
    var isDone: Bool { get }
    var isCancelled: Bool { get }
    /// Requests cancellation; see `LoopTask.cancel(message:)`.
    @discardableResult func cancel(message: String?) -> Bool
    /// The number of pending cancellation requests. Mirrors `cancelling()`.
    func cancelling() -> Int
    /// Takes back one cancellation request. Mirrors `uncancel()`.
    @discardableResult func uncancel() -> Int
}

/// The cancellation state of one task, reachable from the code the task runs.
///
/// The loop maps each running LoopTask's Swift task to its state (`LoopCore.taskStates`), so that
/// an `await` on a loop Future knows which task waits (to cancel the Future when the task is
/// cancelled, as asyncio does). Child tasks and unstructured tasks are other Swift tasks, so they
/// are not found there: only the task's own code sees its state.
///
/// Not a `@TaskLocal`: binding one takes `TaskLocal.withValue`, whose operation is a plain (hence
/// `@concurrent`) async closure; entering and leaving it cost two extra executor hops per task.
final class LoopTaskState {
    /// The state of the LoopTask running the calling code on this thread's loop, if any.
    static var current: LoopTaskState? {
        runningLoopIfAny()?.core.currentTaskState()
    }

    let core: LoopCore
    /// The task this state belongs to.
    // SAFETY: the task owns its state, and the state is reachable only through the task or, while
    // the task's `drive` runs (holding the task), through `LoopCore.taskStates`; so the task is
    // alive whenever this is read. `unowned(unsafe)` spares a weak reference's side table.
    unowned(unsafe) var task: (any AnyLoopTask)?
    var cancelRequests = 0
    var mustCancel = false
    var cancelMessage: String?
    /// The Future the task is suspended on, cancelled when the task is.
    var waitingOn: (any FutureCancelling)?
    /// The task's own Swift task: the key of `LoopCore.taskStates` while the task runs.
    var swiftTask: UnsafeCurrentTask?
    /// Only awaits outside a LoopTask's own root need a Swift cancellation handler: nobody holds
    /// the Swift `Task` of a LoopTask, so nothing can cancel it the Swift way.
    let mayBeCancelledBySwift = false

    init(core: LoopCore) { self.core = core }

    /// Throws the pending cancellation, once.
    @inline(__always)
    func takeCancelRequest() throws(CancelledError) {
        guard mustCancel else { return }
        mustCancel = false
        throw CancelledError(message: cancelMessage)
    }
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
public final class LoopTask<Value>: Future<Value>, AnyLoopTask {
    public let name: String
    let taskState: LoopTaskState
    /// Where the task was created; kept in debug mode.
    var site: CallSite?

    init(core: LoopCore, name: String) {
        self.name = name
        taskState = LoopTaskState(core: core)
        super.init(core: core)
        taskState.task = self
    }

    /// Requests that the task be cancelled.
    ///
    /// If the task waits on a Future, that Future is cancelled and the task's `await` throws
    /// `CancelledError(message)`. Otherwise its next `await` on the loop throws it. A task that
    /// never awaits on the loop cannot be cancelled.
    ///
    /// - Returns: false if the task is already done. Mirrors `Task.cancel(msg=None)`.
    @discardableResult
    public override func cancel(message: String? = nil) -> Bool {
        guard !isDone else { return false }
        taskState.cancelRequests += 1
        if let waitingOn = taskState.waitingOn, waitingOn.cancel(message: message) {
            // The task is woken with CancelledError by that Future.
            return true
        }
        taskState.mustCancel = true
        taskState.cancelMessage = message
        return true
    }

    public func cancelling() -> Int { taskState.cancelRequests }

    @discardableResult
    public func uncancel() -> Int {
        if taskState.cancelRequests > 0 {
            taskState.cancelRequests -= 1
            if taskState.cancelRequests == 0 { taskState.mustCancel = false }
        }
        return taskState.cancelRequests
    }

    /// Tasks complete themselves. Mirrors asyncio, where `Task.set_result` raises.
    public override func setResult(_ value: Value) throws(AsyncIOError) {
        throw AsyncIOError.invalidState("Task does not support setResult")
    }

    /// Tasks complete themselves. Mirrors asyncio, where `Task.set_exception` raises.
    public override func setException(_ error: any Error) throws(AsyncIOError) {
        throw AsyncIOError.invalidState("Task does not support setException")
    }

    /// Runs the task's function to its end and completes the task. Runs isolated to the loop.
    func drive(
        _ body: @escaping () async throws -> Value,
        on loop: isolated EventLoop
    ) async {
        // SAFETY: the UnsafeCurrentTask is kept only as a key while this very task runs `drive`,
        // and removed before `drive` returns; it is never used to act on the task.
        withUnsafeCurrentTask { swiftTask in
            taskState.swiftTask = swiftTask
            if let swiftTask { loop.core.taskStates[swiftTask] = taskState }
        }
        do {
            // Cancelled before its first step: asyncio throws into the coroutine before it runs a
            // line, so the body never starts.
            try taskState.takeCancelRequest()
            let value = try await body()
            if taskState.mustCancel {
                // Cancelled after its last await: asyncio marks such a task cancelled.
                complete(.cancelled(taskState.cancelMessage))
            } else {
                complete(.succeeded(value))
            }
        } catch let error as CancelledError {
            complete(.cancelled(error.message))
        } catch is CancellationError {
            complete(.cancelled(nil))
        } catch {
            complete(.failed(error))
        }
        if let swiftTask = taskState.swiftTask { loop.core.taskStates[swiftTask] = nil }
        taskState.swiftTask = nil
        taskState.waitingOn = nil
        loop.core.pendingTasks.removeValue(forKey: ObjectIdentifier(self))
    }

    public override var description: String { "<LoopTask \(name) \(stateName)>" }
}

/// The task running the calling code, if it is a `LoopTask`. Mirrors `asyncio.current_task()`.
public func currentTask() -> (any AnyLoopTask)? {
    LoopTaskState.current?.task
}

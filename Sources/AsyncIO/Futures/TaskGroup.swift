// Theory of operation
//
// `withLoopTaskGroup` is CPython's `async with TaskGroup() as group:` (Lib/asyncio/taskgroups.py),
// rule for rule. The body runs in the calling task (the parent); children are LoopTasks.
//
// - A child fails: its error is recorded; the first failure aborts the group (every pending child
//   is cancelled) and cancels the parent once, remembering that it did (`parentCancelRequested`),
//   so that the body's current await throws `CancelledError` and the body unwinds.
// - The body ends (returns or throws): the parent waits until every child is done. A
//   `CancelledError` seen while waiting aborts the group too, unless it is already aborting.
// - Then the group takes its own cancellation request back with `uncancel()`. If that leaves the
//   parent with none, the body's `CancelledError` was the group's and is dropped; otherwise the
//   cancellation came from outside and propagates — unless children failed: errors win, and the
//   parent is re-cancelled (`uncancel` + `cancel`) so that the outside request is not lost.
// - Child errors, then a body error other than cancellation, are thrown together as one
//   `ExceptionGroup` — unless one of them is an `ExitingError` (`KeyboardInterrupt`): the first
//   such error is thrown alone, and every other error goes to the exception handler (gh-135736).

/// Several errors thrown together: asyncio's `ExceptionGroup`.
///
/// `withLoopTaskGroup` throws one with the error of every child that failed (and the body's, if
/// it threw something other than a cancellation), in the order they happened.
///
/// Mirrors Python's `BaseExceptionGroup` as raised by `asyncio.TaskGroup`.
public struct ExceptionGroup: Error, CustomStringConvertible {
    /// What the errors have in common, e.g. "unhandled errors in a TaskGroup".
    public var message: String
    /// The errors, never empty.
    public var errors: [any Error]

    public init(_ message: String, _ errors: [any Error]) {
        self.message = message
        self.errors = errors
    }

    public var description: String {
        let count = errors.count
        return "\(message) (\(count) sub-exception\(count == 1 ? "" : "s")): \(errors)"
    }
}

/// An error that ends the program rather than an operation: what Python's `KeyboardInterrupt` and
/// `SystemExit` are among its `BaseException`s.
///
/// `withLoopTaskGroup` lets the first such error (from its body or from a child) out alone, never
/// wrapped in an `ExceptionGroup`, so that `catch is KeyboardInterrupt` still matches; the other
/// errors of the group go to the loop's exception handler. `KeyboardInterrupt` conforms. There is
/// no `SystemExit` (a Swift program ends with `exit()`); conform an error of your own to get the
/// same treatment.
///
/// Mirrors asyncio's special case for `(SystemExit, KeyboardInterrupt)`.
public protocol ExitingError: Error {}

extension KeyboardInterrupt: ExitingError {}

/// A scope that owns tasks: none outlives it, and the first failure stops them all.
///
/// Obtained from `withLoopTaskGroup`. Create children with `createTask`; the scope waits for
/// every one of them. The first child to fail cancels the others and the body, and every child's
/// error comes back together in one `ExceptionGroup`. Cancelling the task running the scope
/// cancels the children too.
///
/// Mirrors `asyncio.TaskGroup`. Named `LoopTaskGroup` so as not to shadow `Swift.TaskGroup`.
/// Deviation: misuse (`createTask` on a finished or aborting group) throws
/// `AsyncIOError.invalidState` where asyncio raises `RuntimeError`.
public final class LoopTaskGroup {
    private let loop: EventLoop
    private let parent: any AnyLoopTask
    /// Pending children, with their creation number so that they are cancelled in that order.
    private var tasks: [ObjectIdentifier: (number: Int, task: any AnyLoopTask)] = [:]
    private var created = 0
    private var errors: [any Error] = []
    /// The first `ExitingError` seen, from a child or the body: thrown alone at exit.
    private var exitingError: (any Error)?
    private var exiting = false
    private var aborting = false
    private var parentCancelRequested = false
    private var onCompleted: Future<Void>?

    init(loop: EventLoop, parent: any AnyLoopTask) {
        self.loop = loop
        self.parent = parent
    }

    /// Creates a child task that the group waits for.
    ///
    /// The group's rules hold for an eager child exactly as for one that starts in the next
    /// iteration: a child that fails before its first suspension aborts the group from the loop's
    /// next iteration (not inside this call), and a child that finishes at once is simply done.
    ///
    /// - Parameters:
    ///   - name: the task's name (default `Task-N`).
    ///   - eagerStart: run the child at once, up to its first suspension; nil leaves it to the
    ///     loop's task factory (without one: false).
    ///   - fileID: where the task is made, shown in debug mode (leave the default).
    ///   - line: the line where the task is made (leave the default).
    ///   - body: the child's work. It runs on the loop, isolated to it like the body creating it.
    /// - Returns: the task, e.g. to read its result after the group is done.
    /// - Throws: `AsyncIOError.invalidState` if the group has finished or is shutting down after
    ///   a failure. Mirrors `TaskGroup.create_task()`.
    @discardableResult
    public func createTask<Value>(
        name: String? = nil,
        eagerStart: Bool? = nil,
        fileID: String = #fileID,
        line: Int = #line,
        _ body: @escaping () async throws -> Value
    ) throws(AsyncIOError) -> LoopTask<Value> {
        if exiting && tasks.isEmpty { throw AsyncIOError.invalidState("LoopTaskGroup is finished") }
        if aborting { throw AsyncIOError.invalidState("LoopTaskGroup is shutting down") }
        let task = loop.createTaskOnLoopThread(name: name, eagerStart: eagerStart, fileID: fileID, line: line, body)
        created += 1
        tasks[ObjectIdentifier(task)] = (created, task)
        // Registered even if the task is already done, so its error is seen in order (gh-128550).
        task.addDoneCallback { [self] task in taskDone(task) }
        // An eager child may have made the group abort before it joined `tasks` (gh-155418).
        if aborting && !task.isDone { task.cancel(message: nil) }
        return task
    }

    // MARK: - What the call graph reads (`CallGraph.swift`)

    /// The task running the group's body.
    var parentTask: AnyObject { parent }
    /// The Future the parent waits on at the group's end, while it waits there.
    var waiter: AnyObject? { onCompleted }
    /// The pending children, in creation order.
    var pendingChildren: [AnyObject] {
        tasks.values.sorted { $0.number < $1.number }.map { $0.task as AnyObject }
    }

    /// Cancels every pending child, in creation order.
    private func abort() {
        aborting = true
        for entry in tasks.values.sorted(by: { $0.number < $1.number }) where !entry.task.isDone {
            entry.task.cancel(message: nil)
        }
    }

    /// A child finished: asyncio's `_on_task_done`.
    private func taskDone<Value>(_ task: Future<Value>) {
        tasks.removeValue(forKey: ObjectIdentifier(task))
        if let onCompleted, tasks.isEmpty, !onCompleted.isDone {
            onCompleted.complete(.succeeded(()))
        }
        guard !task.isCancelled, let error = task.takeFailure() else { return }
        if error is any ExitingError, exitingError == nil {
            exitingError = error
        } else {
            errors.append(error)
        }
        guard !parent.isDone else {
            loop.core.reportException(
                message: "Task has errored out but its parent task is already completed",
                error: error,
                source: "\(task)"
            )
            return
        }
        if !aborting && !parentCancelRequested {
            // Stop the body where it waits; `exit` takes this cancellation back.
            abort()
            parentCancelRequested = true
            parent.cancel(message: nil)
        }
    }

    /// Waits for the children and decides what the scope throws: asyncio's `__aexit__`.
    func exit(bodyError: (any Error)?) async throws {
        exiting = true
        let exitingFromBody = exitingError == nil && bodyError is any ExitingError
        if exitingFromBody { exitingError = bodyError }
        var propagatedCancellation = bodyError.flatMap { isCancellation($0) ? $0 : nil }
        if bodyError != nil && !aborting {
            // The parent is being cancelled, or the body failed: stop the children.
            abort()
        }
        // Loop: the waiter is cancelled each time the parent is, and we must still wait.
        var pendingCancellation: (any Error)?
        while !tasks.isEmpty {
            let waiter = onCompleted ?? Future<Void>(core: loop.core)
            onCompleted = waiter
            do {
                try await waiter.value
            } catch {
                pendingCancellation = error
                if !aborting {
                    // The parent was cancelled from outside while the body had finished.
                    propagatedCancellation = error
                    abort()
                }
            }
            onCompleted = nil
        }
        if let exitingError {
            // It ends the program: let it out alone, and report the errors it leaves behind
            // rather than lose them (CPython gh-135736).
            if parentCancelRequested { parent.uncancel() }
            var dropped = errors
            if let bodyError, !exitingFromBody, !isCancellation(bodyError) { dropped.append(bodyError) }
            for error in dropped {
                loop.core.reportException(
                    message: "TaskGroup task exception was not propagated because the TaskGroup body is ending with "
                        + "\(exitingError)",
                    error: error
                )
            }
            throw exitingError
        }
        if parentCancelRequested {
            if parent.uncancel() == 0 {
                // The only cancellation was ours: do not let it escape.
                propagatedCancellation = nil
            } else if propagatedCancellation == nil {
                // Another one arrived while we waited: it is not ours to drop (CPython gh-155433).
                propagatedCancellation = pendingCancellation
            }
        }
        if let propagatedCancellation, errors.isEmpty {
            throw propagatedCancellation
        }
        if let bodyError, !isCancellation(bodyError) {
            errors.append(bodyError)
        }
        guard !errors.isEmpty else { return }
        if parent.cancelling() > 0 {
            // Cancelled from outside as well: keep that request alive for the parent's next await.
            parent.uncancel()
            parent.cancel(message: nil)
        }
        throw ExceptionGroup("unhandled errors in a TaskGroup", errors)
    }
}

/// Runs `body` with a new `LoopTaskGroup` and waits for every task it created.
///
/// ```swift
/// try await withLoopTaskGroup { group in
///     let user = try group.createTask { try await fetchUser() }
///     try group.createTask { try await warmCache() }
/// }
/// ```
///
/// - Parameter body: runs in the calling task; creates children with `group.createTask`.
/// - Returns: what `body` returns, once every child is done.
/// - Throws: `ExceptionGroup` with every child error (and the body's) if any child or the body
///   failed; the first `ExitingError` (`KeyboardInterrupt`) alone if the body or a child threw one,
///   the other errors going to the exception handler; `CancelledError` if the calling task was
///   cancelled from outside;
///   `AsyncIOError.loopState` if the caller is not a `LoopTask`.
///
/// Mirrors `async with asyncio.TaskGroup() as group:`.
@discardableResult
public func withLoopTaskGroup<Value>(_ body: (LoopTaskGroup) async throws -> Value) async throws -> Value {
    let loop = try loopForAwait()
    guard let parent = loop.core.currentTask() else {
        throw AsyncIOError.loopState("LoopTaskGroup should be used inside a task")
    }
    let group = LoopTaskGroup(loop: loop, parent: parent)
    // Open for the call graph until the scope ends; nested scopes close in reverse order.
    loop.core.taskGroups.append(group)
    defer {
        if let index = loop.core.taskGroups.lastIndex(where: { $0 === group }) {
            loop.core.taskGroups.remove(at: index)
        }
    }
    let outcome: Result<Value, any Error>
    do {
        outcome = .success(try await body(group))
    } catch {
        outcome = .failure(error)
    }
    if case .failure(let error) = outcome {
        try await group.exit(bodyError: error)
    } else {
        try await group.exit(bodyError: nil)
    }
    return try outcome.get()
}

extension EventLoop {
    /// Creates a task from nonisolated code that runs on this loop's thread (a group, a combinator).
    nonisolated func createTaskOnLoopThread<Value>(
        name: String?,
        eagerStart: Bool? = nil,
        fileID: String = #fileID,
        line: Int = #line,
        _ body: @escaping () async throws -> Value
    ) -> LoopTask<Value> {
        // SAFETY: the caller runs on this loop's thread (it holds loop-bound, non-Sendable objects,
        // and `assumeIsolated` checks the thread), and `body` and the task are only used there.
        let body = UnsafeTransfer(body)
        return assumeIsolated { loop in
            UnsafeTransfer(
                loop.createTask(name: name, eagerStart: eagerStart, fileID: fileID, line: line, body.value)
            )
        }.value
    }
}

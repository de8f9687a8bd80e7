// Theory of operation: the call graph (asyncio 3.14's `capture_call_graph`, `python -m asyncio pstree`)
//
// asyncio records, on every Future, the tasks awaiting it (`future_add_to_awaited_by`), and walks
// each suspended coroutine's frames. Swift cannot walk a suspended task's async frames, and a set
// per Future would cost every Future and every await. So the graph is made, when asked for, of what
// the loop keeps anyway:
// - a LoopTask suspended on a Future or a WaitPoint records it in `waitingOn` (cancellation needs
//   it), so "task T awaits F" costs nothing more;
// - a combinator's waiter (gather, wait, shield, waitFor's cancel-and-wait) is a Future no task
//   made; it is an `AwaitingCombinator`, which knows what it waits for (a field of its own, set
//   once: no table, no callback);
// - a live task group is in `LoopCore.taskGroups` (added and removed by `withLoopTaskGroup`), so
//   its children count as awaited by its parent from their creation on, as asyncio records them.
// "Who awaits X" is then a scan of the pending tasks: T awaits X when X is T's `waitingOn`, or is
// reached from it through combinators, or is a child of a group T runs. It is read on the loop
// thread, where every one of those fields is written: no lock, nothing on the hot paths.

import Glibc

// MARK: - The graph

/// One entry of a call stack in a call graph: a place where a task is suspended or was created.
///
/// Mirrors asyncio's `FrameCallGraphEntry(frame)`. Deviation: Swift cannot read a suspended task's
/// frames, so an entry is what the loop knows: the combinator or Future the task awaits
/// (`gather()`, `Future.value`, no file), the task groups it runs, and where it was created (file
/// and line, in debug mode).
public struct FrameCallGraphEntry: Sendable, Hashable, CustomStringConvertible {
    /// The function: `gather()`, `withLoopTaskGroup`, `Future.value`, `task body`.
    public let function: String
    /// The file (`#fileID`), when known.
    public let fileID: String?
    /// The line in `fileID`, when known.
    public let line: Int?

    /// Creates an entry; the loop makes them, this is for tests and tools.
    ///
    /// - Parameters:
    ///   - function: the function's name.
    ///   - fileID: the file, if known.
    ///   - line: the line, if known.
    public init(function: String, fileID: String? = nil, line: Int? = nil) {
        self.function = function
        self.fileID = fileID
        self.line = line
    }

    /// `File 'Module/File.swift', line 12, in async task body`, or `async gather()` with no file.
    public var description: String {
        guard let fileID, let line else { return "async \(function)" }
        return "File '\(fileID)', line \(line), in async \(function)"
    }
}

/// A Future or task, what it is suspended in, and, recursively, the tasks awaiting it.
///
/// Returned by `captureCallGraph`; `description` is what `formatCallGraph` and `printCallGraph`
/// show. Holds the Future itself, so it stays on the Future's loop, as the Future does.
///
/// Mirrors asyncio's `FutureCallGraph(future, call_stack, awaited_by)`.
public struct FutureCallGraph: CustomStringConvertible {
    /// The `Future` or `LoopTask`.
    public let future: AnyObject
    /// Where it is suspended, innermost entry first (empty for a plain Future).
    public let callStack: [FrameCallGraphEntry]
    /// The graphs of the tasks awaiting it, directly or through a combinator or a task group.
    public let awaitedBy: [FutureCallGraph]

    /// The graph as asyncio's `format_call_graph` renders it:
    ///
    /// ```text
    /// * Task(name='child', id=0x7f0c5c00a2e0)
    ///   + Call stack:
    ///   |   async Future.value
    ///   + Awaited by:
    ///       * Task(name='parent', id=0x7f0c5c009f60)
    ///         + Call stack:
    ///         |   async withLoopTaskGroup
    /// ```
    public var description: String {
        var lines: [String] = []
        render(into: &lines, level: 0)
        return lines.joined(separator: "\n")
    }

    private func render(into lines: inout [String], level: Int) {
        let indent = String(repeating: "    ", count: level)
        if let task = future as? any AnyLoopTask {
            lines.append("\(indent)* Task(name='\(task.name)', id=\(hexIdentity(future)))")
        } else {
            lines.append("\(indent)* Future(id=\(hexIdentity(future)))")
        }
        if !callStack.isEmpty {
            lines.append("\(indent)  + Call stack:")
            for entry in callStack { lines.append("\(indent)  |   \(entry)") }
        }
        if !awaitedBy.isEmpty {
            lines.append("\(indent)  + Awaited by:")
            for parent in awaitedBy { parent.render(into: &lines, level: level + 1) }
        }
    }
}

/// `0x…`: an object's address, as asyncio prints `id()`.
func hexIdentity(_ object: AnyObject) -> String {
    "0x" + String(UInt(bitPattern: ObjectIdentifier(object)), radix: 16)
}

// MARK: - Combinators' waiters

/// A Future a combinator waits on for its caller, which knows what it waits for: how a call graph
/// sees through `gather`, `wait`, `shield` and `waitFor` to the Futures below.
protocol AwaitingCombinator: AnyObject {
    /// The combinator, as the awaiting task's call stack shows it: `gather()`.
    var combinatorName: String { get }
    /// What it waits for, in order: Futures, tasks, other combinators' waiters.
    var awaitedObjects: [AnyObject] { get }
}

/// The waiter of `wait`, `shield` and `waitFor`: a Future that also names what it waits for.
final class CombinatorFuture<Value>: Future<Value>, AwaitingCombinator {
    let combinatorName: String
    let awaitedObjects: [AnyObject]

    init(core: LoopCore, combinator: String, awaiting awaited: [AnyObject]) {
        combinatorName = combinator
        awaitedObjects = awaited
        super.init(core: core)
    }
}

extension GatheringFuture: AwaitingCombinator {
    var combinatorName: String { "gather()" }
    var awaitedObjects: [AnyObject] { children.map { $0 as AnyObject } }
}

// MARK: - Building the graph

extension LoopCore {
    /// The groups run by `task`, innermost (latest) first.
    private func groups(runBy task: AnyObject) -> [LoopTaskGroup] {
        taskGroups.reversed().filter { $0.parentTask === task }
    }

    /// The group whose end `waiter` is (the parent waits there for the children), if any.
    private func group(endingWith waiter: AnyObject) -> LoopTaskGroup? {
        taskGroups.first { $0.waiter === waiter }
    }

    /// What `object` stands for when awaited: itself, or, for a combinator's waiter (or a group's
    /// end), what it waits for, recursively; tasks and plain Futures end the walk.
    private func reached(from object: AnyObject, into result: inout [AnyObject]) {
        if let combinator = object as? any AwaitingCombinator {
            for awaited in combinator.awaitedObjects { reached(from: awaited, into: &result) }
        } else if let group = group(endingWith: object) {
            result.append(contentsOf: group.pendingChildren)
        } else {
            result.append(object)
        }
    }

    /// Everything `task` awaits: what its wait reaches, and the children of the groups it runs.
    private func awaitedObjects(of task: any RunningLoopTask) -> [AnyObject] {
        var result: [AnyObject] = []
        if let waitingOn = task.waitingOn { reached(from: waitingOn, into: &result) }
        for group in groups(runBy: task) { result.append(contentsOf: group.pendingChildren) }
        return result
    }

    /// The pending tasks awaiting `object`, in a stable order (creation order where known).
    func tasksAwaiting(_ object: AnyObject) -> [any RunningLoopTask] {
        pendingTasksInOrder.filter { task in awaitedObjects(of: task).contains { $0 === object } }
    }

    /// The pending tasks, unstarted ones after the running ones, each set by name: the tables are
    /// hashed, and a report that changes order from one print to the next is hard to read.
    var pendingTasksInOrder: [any RunningLoopTask] {
        pendingTasks.sorted { ($0.name, hexIdentity($0)) < ($1.name, hexIdentity($1)) }
    }

    /// Where `task` is suspended, innermost first: what it awaits, the groups it runs, where it was
    /// created (debug mode).
    func callStack(of task: any RunningLoopTask) -> [FrameCallGraphEntry] {
        var stack: [FrameCallGraphEntry] = []
        let waitingOn = task.waitingOn
        if let waitingOn, group(endingWith: waitingOn) == nil {
            stack.append(FrameCallGraphEntry(function: awaitName(of: waitingOn)))
        }
        for group in groups(runBy: task) {
            let ending = waitingOn != nil && group.waiter === waitingOn
            stack.append(
                FrameCallGraphEntry(
                    function: ending ? "withLoopTaskGroup (waiting for its tasks)" : "withLoopTaskGroup"
                )
            )
        }
        if let site = taskSites[ObjectIdentifier(task)] {
            stack.append(FrameCallGraphEntry(function: "task body", fileID: site.fileID, line: site.line))
        }
        return stack
    }

    /// The frame a wait on `object` shows: the combinator's name, or what is awaited.
    func awaitName(of object: AnyObject) -> String {
        if let combinator = object as? any AwaitingCombinator { return combinator.combinatorName }
        if object is any AnyLoopTask { return "LoopTask.value" }
        if object is WaitPoint { return "WaitPoint.wait()" }
        return "Future.value"
    }

    /// The call graph of `object`: its call stack (a task's) and, recursively, the tasks awaiting
    /// it. `path` holds the nodes above, so that a cycle of tasks awaiting each other ends.
    func callGraph(of object: AnyObject, limit: Int?, path: [ObjectIdentifier] = []) -> FutureCallGraph {
        var stack: [FrameCallGraphEntry] = []
        if let task = object as? any RunningLoopTask, limit != 0 {
            stack = callStack(of: task)
            // asyncio keeps the outermost entries for a positive limit, the innermost for a negative one.
            if let limit, limit > 0, stack.count > limit { stack = Array(stack.suffix(limit)) }
            if let limit, limit < 0, stack.count > -limit { stack = Array(stack.prefix(-limit)) }
        }
        let here = path + [ObjectIdentifier(object)]
        let parents = tasksAwaiting(object).filter { !here.contains(ObjectIdentifier($0)) }
        return FutureCallGraph(
            future: object,
            callStack: stack,
            awaitedBy: parents.map { callGraph(of: $0, limit: limit, path: here) }
        )
    }
}

// MARK: - The task tree (`python -m asyncio pstree`)

extension LoopCore {
    /// Every pending task as a tree, roots first (tasks no other task awaits), each task's awaited
    /// tasks and Futures under the frame it awaits them in: `python -m asyncio pstree PID`,
    /// printed from inside.
    func formatTaskTree() -> String {
        let tasks = pendingTasksInOrder
        var awaitedTasks = Set<ObjectIdentifier>()
        for task in tasks {
            for object in awaitedObjects(of: task) where object is any RunningLoopTask {
                awaitedTasks.insert(ObjectIdentifier(object))
            }
        }
        var lines = ["asyncio task tree (pid \(getpid()), \(tasks.count) pending task\(tasks.count == 1 ? "" : "s")):"]
        var shown = Set<ObjectIdentifier>()
        let roots = tasks.filter { !awaitedTasks.contains(ObjectIdentifier($0)) }
        for (index, root) in roots.enumerated() {
            showTask(root, prefix: "", last: index == roots.count - 1, shown: &shown, lines: &lines)
        }
        // Tasks that await each other in a cycle have no root: show what is left, marked.
        let left = tasks.filter { !shown.contains(ObjectIdentifier($0)) }
        if !left.isEmpty {
            lines.append("tasks awaiting each other in a cycle:")
            for (index, task) in left.enumerated() where !shown.contains(ObjectIdentifier(task)) {
                showTask(task, prefix: "", last: index == left.count - 1, shown: &shown, lines: &lines)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One node of the tree: a task and its frames (outermost first, each under the one before),
    /// or, below a frame, a task, a plain Future, or a nested combinator.
    private enum TreeNode {
        case task(any RunningLoopTask)
        case frame(String, children: [TreeNode])
        case future(AnyObject)
    }

    private func showTask(
        _ task: any RunningLoopTask,
        prefix: String,
        last: Bool,
        shown: inout Set<ObjectIdentifier>,
        lines: inout [String]
    ) {
        show(.task(task), prefix: prefix, last: last, shown: &shown, lines: &lines)
    }

    private func show(
        _ node: TreeNode,
        prefix: String,
        last: Bool,
        shown: inout Set<ObjectIdentifier>,
        lines: inout [String]
    ) {
        let branch = last ? "└── " : "├── "
        let childPrefix = prefix + (last ? "    " : "│   ")
        switch node {
        case .task(let task):
            guard shown.insert(ObjectIdentifier(task)).inserted else {
                lines.append("\(prefix)\(branch)(T) \(task.name) (shown above)")
                return
            }
            lines.append("\(prefix)\(branch)(T) \(task.name)\(stateNote(of: task))")
            if let frame = frames(of: task) {
                show(frame, prefix: childPrefix, last: true, shown: &shown, lines: &lines)
            }
        case .frame(let name, let children):
            lines.append("\(prefix)\(branch) \(name)")
            for (index, child) in children.enumerated() {
                show(child, prefix: childPrefix, last: index == children.count - 1, shown: &shown, lines: &lines)
            }
        case .future(let object):
            let state = (object as? any CombinedFuture).map { $0.isDone ? "done" : "pending" } ?? "waiting"
            let kind = object is WaitPoint ? "WaitPoint" : "Future"
            lines.append("\(prefix)\(branch)(F) \(kind)(id=\(hexIdentity(object)), \(state))")
        }
    }

    /// A task's frames as one chain, outermost first: where it was created (debug mode), the
    /// groups it runs (their children below each), then what it awaits (that below it).
    private func frames(of task: any RunningLoopTask) -> TreeNode? {
        let waitingOn = task.waitingOn
        var innermost: TreeNode?
        if let waitingOn, group(endingWith: waitingOn) == nil {
            innermost = .frame(awaitName(of: waitingOn), children: awaitedNodes(of: waitingOn))
        }
        for group in groups(runBy: task) {
            let ending = waitingOn != nil && group.waiter === waitingOn
            var children = group.pendingChildren.compactMap { ($0 as? any RunningLoopTask).map(TreeNode.task) }
            if let inner = innermost { children.append(inner) }
            innermost = .frame(
                ending ? "withLoopTaskGroup (waiting for its tasks)" : "withLoopTaskGroup",
                children: children
            )
        }
        if let site = taskSites[ObjectIdentifier(task)] {
            innermost = .frame("task body \(site)", children: innermost.map { [$0] } ?? [])
        }
        return innermost
    }

    /// What a wait on `object` shows below its frame.
    private func awaitedNodes(of object: AnyObject) -> [TreeNode] {
        if let combinator = object as? any AwaitingCombinator {
            return combinator.awaitedObjects.map { awaited in
                if let task = awaited as? any RunningLoopTask { return .task(task) }
                if awaited is any AwaitingCombinator || group(endingWith: awaited) != nil {
                    return .frame(awaitName(of: awaited), children: awaitedNodes(of: awaited))
                }
                return .future(awaited)
            }
        }
        if let group = group(endingWith: object) {
            return group.pendingChildren.compactMap { ($0 as? any RunningLoopTask).map(TreeNode.task) }
        }
        if let task = object as? any RunningLoopTask { return [.task(task)] }
        return [.future(object)]
    }

    /// What the tree says of a task besides its frames: not started yet, being cancelled, or
    /// suspended somewhere the loop does not see.
    private func stateNote(of task: any RunningLoopTask) -> String {
        var notes: [String] = []
        if unstartedTasks[ObjectIdentifier(task)] != nil {
            notes.append("not started")
        } else if task === currentTask() {
            notes.append("running")
        } else if task.waitingOn == nil && groups(runBy: task).isEmpty {
            notes.append("not awaiting a loop Future: sleep(0), toThread, or a Swift await")
        }
        if task.cancelling() > 0 { notes.append("cancelling") }
        return notes.isEmpty ? "" : " [\(notes.joined(separator: ", "))]"
    }
}

// MARK: - Public API

/// Captures the call graph of the current task: where it is, and the tasks awaiting it, through
/// `gather`, `wait`, `waitFor`, `shield`, task groups and plain awaits.
///
/// - Parameter limit: keep at most `abs(limit)` entries of each call stack: the outermost for a
///   positive limit, the innermost for a negative one; 0 keeps none, only the "awaited by" part;
///   nil keeps all.
/// - Returns: nil outside a `LoopTask` (asyncio raises `RuntimeError` with no running loop).
///
/// Mirrors `asyncio.capture_call_graph(future=None, *, depth=1, limit=None)`; see
/// `FrameCallGraphEntry` for what a call stack holds (no `depth`: there are no frames to skip).
public func captureCallGraph(limit: Int? = nil) -> FutureCallGraph? {
    guard let core = runningLoopIfAny()?.core, let task = core.currentTask() else { return nil }
    return core.callGraph(of: task, limit: limit)
}

/// Captures the call graph of `future` (a `Future` or a `LoopTask`): where it is suspended, and
/// the tasks awaiting it.
///
/// Call it on the Future's loop thread (where the Future lives). See `captureCallGraph(limit:)`.
///
/// - Parameters:
///   - future: the Future or task to describe.
///   - limit: as for `captureCallGraph(limit:)`.
/// - Returns: the graph. Mirrors `asyncio.capture_call_graph(future)`.
public func captureCallGraph<Value>(_ future: Future<Value>, limit: Int? = nil) -> FutureCallGraph {
    future.core.callGraph(of: future, limit: limit)
}

/// Captures the call graph of `task`, a task seen without its result type (`allTasks()`).
///
/// - Parameters:
///   - task: the task to describe.
///   - limit: as for `captureCallGraph(limit:)`.
/// - Returns: the graph; nil if `task` is not a `LoopTask`. Mirrors `asyncio.capture_call_graph(task)`.
@_disfavoredOverload
public func captureCallGraph(_ task: any AnyLoopTask, limit: Int? = nil) -> FutureCallGraph? {
    guard let running = task as? any RunningLoopTask else { return nil }
    return running.core.callGraph(of: running, limit: limit)
}

/// The call graph of the current task as text (`FutureCallGraph.description`); empty outside a
/// task.
///
/// - Parameter limit: as for `captureCallGraph(limit:)`.
/// - Returns: the text, lines without a final newline. Mirrors `asyncio.format_call_graph()`.
public func formatCallGraph(limit: Int? = nil) -> String {
    captureCallGraph(limit: limit)?.description ?? ""
}

/// The call graph of `future` as text (`FutureCallGraph.description`).
///
/// - Parameters:
///   - future: the Future or task to describe.
///   - limit: as for `captureCallGraph(limit:)`.
/// - Returns: the text. Mirrors `asyncio.format_call_graph(future)`.
public func formatCallGraph<Value>(_ future: Future<Value>, limit: Int? = nil) -> String {
    captureCallGraph(future, limit: limit).description
}

/// Prints the call graph of the current task to standard output; prints an empty line outside a
/// task, as asyncio does.
///
/// - Parameter limit: as for `captureCallGraph(limit:)`.
///
/// Mirrors `asyncio.print_call_graph()`. Deviation: no `file=`; use `formatCallGraph` and write
/// the text where it should go.
public func printCallGraph(limit: Int? = nil) {
    print(formatCallGraph(limit: limit))
}

/// Prints the call graph of `future` to standard output.
///
/// - Parameters:
///   - future: the Future or task to describe.
///   - limit: as for `captureCallGraph(limit:)`.
///
/// Mirrors `asyncio.print_call_graph(future)`; see `printCallGraph(limit:)`.
public func printCallGraph<Value>(_ future: Future<Value>, limit: Int? = nil) {
    print(formatCallGraph(future, limit: limit))
}

extension EventLoop {
    /// Every pending task of this loop as a tree: each task's name and state, the frames it is
    /// suspended in, and below them the tasks and Futures it awaits. What `python -m asyncio
    /// pstree PID` shows, from inside the program.
    ///
    /// - Returns: the tree, one line per node, ending with a newline.
    public func taskTree() -> String {
        core.formatTaskTree()
    }

    /// Prints the task tree (`taskTree()`) to standard error whenever `signal` arrives
    /// (`kill -USR1 PID`): a way to see, from outside, what a program that hangs waits for.
    ///
    /// Opt-in: without it SIGUSR1 keeps its default action, which ends the process. Stop it with
    /// `removeSignalHandler(_:)`. The loop prints the tree in its next iteration, so a loop blocked
    /// in a callback that never returns prints nothing (attach a debugger for that).
    ///
    /// - Parameter signal: the signal to answer (default SIGUSR1).
    /// - Throws: what `addSignalHandler(_:_:)` throws.
    public func printTaskTreeOnSignal(_ signal: Int32 = SIGUSR1) throws {
        let core = core
        try addSignalHandler(signal) {
            // One write(2) per chunk, past stdio's buffer, so that the tree comes out whole.
            var bytes = Array(core.formatTaskTree().utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes {
                    Glibc.write(2, $0.baseAddress! + offset, $0.count - offset)
                }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { break }
                offset += written
            }
        }
    }
}

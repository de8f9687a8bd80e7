// Theory of operation: the call graph (asyncio 3.14's `capture_call_graph`, `python -m asyncio pstree`)
//
// Swift cannot walk a suspended task's async frames, so the graph is made of what the loop already
// knows, plus one table:
// - a LoopTask suspended on a Future (or a WaitPoint) records it in `waitingOn` (cancellation needs
//   it), so "task T awaits F" costs nothing more;
// - a combinator's waiter (gather, wait, shield, a task group's wait for its children) is a Future
//   no task made; `LoopCore.awaitEdges` maps it to its label and the Futures it waits for, from its
//   creation until it is done. That is asyncio's `future_add_to_awaited_by`, kept on the loop.
// A graph is read on the loop thread, where every one of those fields is written: no lock.

import Glibc

/// One Future or task in a call graph and, recursively, what awaits it.
///
/// Mirrors asyncio's `FutureCallGraph(future, call_stack, awaited_by)`. Deviation: Swift cannot
/// read a suspended task's frames, so `callStack` holds what the loop knows instead: where the task
/// was created (in debug mode) and what it awaits.
public struct FutureCallGraph: CustomStringConvertible, Sendable {
    /// The Future or task, as `description` shows it (`<LoopTask worker pending>`), or the
    /// combinator (`gather`, `wait`, `shield`, `TaskGroup`) for a waiter no task made.
    public let future: String
    /// The task's name, nil for a plain Future or a combinator.
    public let taskName: String?
    /// What the loop knows of the node's frames: "created at File.swift:12", "awaits …".
    public let callStack: [String]
    /// The tasks and combinators awaiting this one.
    public let awaitedBy: [FutureCallGraph]

    /// The graph as `printCallGraph` prints it (asyncio's `format_call_graph`).
    public var description: String {
        var lines: [String] = []
        format(into: &lines, indent: "")
        return lines.joined(separator: "\n")
    }

    private func format(into lines: inout [String], indent: String) {
        lines.append("\(indent)* \(future)")
        if !callStack.isEmpty {
            lines.append("\(indent)  + Call stack:")
            for frame in callStack { lines.append("\(indent)  |   \(frame)") }
        }
        if !awaitedBy.isEmpty {
            lines.append("\(indent)  + Awaited by:")
            for node in awaitedBy { node.format(into: &lines, indent: indent + "     ") }
        }
    }
}

/// What a combinator's waiter waits for (see `LoopCore.awaitEdges`).
struct AwaitEdge {
    let label: String
    let awaited: [AnyObject]
}

extension LoopCore {
    /// Records that `waiter`, made by the combinator `label`, waits for `awaited`, until `waiter`
    /// is done. Loop thread only.
    func noteAwaits(_ waiter: Future<some Any>, label: String, _ awaited: [AnyObject]) {
        guard !waiter.isDone else { return }
        let key = ObjectIdentifier(waiter)
        awaitEdges[key] = AwaitEdge(label: label, awaited: awaited)
        waiter.onDone { [unowned self] in self.awaitEdges[key] = nil }
    }

    /// What `object` (a Future, a WaitPoint) is, in one line.
    func describeAwaitable(_ object: AnyObject) -> String {
        if let task = object as? any AnyLoopTask { return "<LoopTask \(task.name)>" }
        if let edge = awaitEdges[ObjectIdentifier(object)] {
            return "\(edge.label)(\(edge.awaited.map(describeAwaitable).joined(separator: ", ")))"
        }
        if object is WaitPoint { return "a WaitPoint" }
        return (object as? any CustomStringConvertible)?.description ?? "\(type(of: object))"
    }

    /// The tasks `object` waits for, through combinators (a gather of a shield of a task: that task).
    func tasksAwaited(by object: AnyObject) -> [any RunningLoopTask] {
        if let task = object as? any RunningLoopTask { return [task] }
        guard let edge = awaitEdges[ObjectIdentifier(object)] else { return [] }
        return edge.awaited.flatMap { tasksAwaited(by: $0) }
    }

    /// The call graph node of `object`: what awaits it (tasks waiting on it directly, or on a
    /// combinator that waits for it), `limit` levels up.
    func callGraph(of object: AnyObject, limit: Int) -> FutureCallGraph {
        var awaitedBy: [FutureCallGraph] = []
        if limit > 0 {
            for task in pendingTasks where task.waitingOn === object {
                awaitedBy.append(callGraph(of: task, limit: limit - 1))
            }
            for (key, edge) in awaitEdges where edge.awaited.contains(where: { $0 === object }) {
                // The waiter is a Future no task made; find it among what tasks wait on.
                if let waiter = pendingTasks.lazy.compactMap({ $0.waitingOn }).first(where: { ObjectIdentifier($0) == key })
                {
                    awaitedBy.append(callGraph(of: waiter, limit: limit - 1))
                } else {
                    awaitedBy.append(FutureCallGraph(future: edge.label, taskName: nil, callStack: [], awaitedBy: []))
                }
            }
        }
        guard let task = object as? any RunningLoopTask else {
            let label = awaitEdges[ObjectIdentifier(object)]?.label
            return FutureCallGraph(
                future: label ?? describeAwaitable(object),
                taskName: nil,
                callStack: [],
                awaitedBy: awaitedBy
            )
        }
        var stack: [String] = []
        if let site = taskSites[ObjectIdentifier(task)] { stack.append("created at \(site)") }
        if let waitingOn = task.waitingOn { stack.append("awaits \(describeAwaitable(waitingOn))") }
        return FutureCallGraph(
            future: "\(task)",
            taskName: task.name,
            callStack: stack,
            awaitedBy: awaitedBy
        )
    }

    /// Every pending task as a tree, roots first (tasks no other task waits for), each task's
    /// children being the tasks it awaits: `python -m asyncio pstree PID`, printed from inside.
    func formatTaskTree() -> String {
        let tasks = pendingTasks.sorted { $0.name < $1.name }
        var awaitedTasks = Set<ObjectIdentifier>()
        var children: [ObjectIdentifier: [any RunningLoopTask]] = [:]
        for task in tasks {
            guard let waitingOn = task.waitingOn else { continue }
            let awaited = tasksAwaited(by: waitingOn)
            children[ObjectIdentifier(task)] = awaited
            for child in awaited { awaitedTasks.insert(ObjectIdentifier(child)) }
        }
        var lines = ["asyncio task tree (pid \(getpid()), \(tasks.count) pending tasks):"]
        var shown = Set<ObjectIdentifier>()
        func show(_ task: any RunningLoopTask, prefix: String, last: Bool, root: Bool) {
            let branch = root ? "" : (last ? "└── " : "├── ")
            let id = ObjectIdentifier(task)
            var line = "\(prefix)\(branch)\(task.name) [\(state(of: task))]"
            if let site = taskSites[id] { line += " created at \(site)" }
            lines.append(line)
            guard shown.insert(id).inserted else { return }
            let next = children[id] ?? []
            let childPrefix = root ? prefix : prefix + (last ? "    " : "│   ")
            for (index, child) in next.enumerated() {
                show(child, prefix: childPrefix, last: index == next.count - 1, root: false)
            }
        }
        for task in tasks where !awaitedTasks.contains(ObjectIdentifier(task)) {
            show(task, prefix: "", last: true, root: true)
        }
        // A cycle of tasks awaiting each other has no root: show what is left.
        for task in tasks where !shown.contains(ObjectIdentifier(task)) {
            show(task, prefix: "", last: true, root: true)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A task's state in the tree: what it awaits, or why it awaits nothing.
    private func state(of task: any RunningLoopTask) -> String {
        let cancelling = task.cancelling() > 0 ? ", cancelling" : ""
        if unstartedTasks[ObjectIdentifier(task)] != nil { return "pending, not started\(cancelling)" }
        guard let waitingOn = task.waitingOn else {
            return "running or suspended outside a Future (sleep(0), a thread, a Swift await)\(cancelling)"
        }
        return "awaiting \(describeAwaitable(waitingOn))\(cancelling)"
    }
}

/// Captures the call graph of `task`, or of the current task: what awaits it, through `gather`,
/// `wait`, `waitFor`, `shield`, task groups and plain awaits, up to `limit` levels.
///
/// Call it on the task's loop (from a task or a callback). Returns nil when there is no task to
/// describe. Mirrors `asyncio.capture_call_graph(future=None, *, limit=None)`.
public func captureCallGraph(_ task: (any AnyLoopTask)? = nil, limit: Int = 64) -> FutureCallGraph? {
    guard let loop = runningLoopIfAny() else { return nil }
    guard let object: AnyObject = task ?? loop.core.currentTask() else { return nil }
    return loop.core.callGraph(of: object, limit: limit)
}

/// Prints the call graph of `task`, or of the current task, to standard output.
///
/// Mirrors `asyncio.print_call_graph(future=None, *, file=None, limit=None)`.
public func printCallGraph(_ task: (any AnyLoopTask)? = nil, limit: Int = 64) {
    if let graph = captureCallGraph(task, limit: limit) { print(graph) }
}

extension EventLoop {
    /// Every pending task of this loop as a tree: each task's name, its state and what it awaits,
    /// the tasks it awaits below it. What `python -m asyncio pstree PID` shows.
    public func taskTree() -> String {
        core.formatTaskTree()
    }

    /// Prints the task tree to standard error whenever `signal` arrives (`kill -USR1 PID`): a way
    /// to see what a hanging program waits for, from outside it. Opt-in; stop it with
    /// `removeSignalHandler(signal)`.
    ///
    /// - Throws: what `addSignalHandler` throws.
    public func printTaskTreeOnSignal(_ signal: Int32 = SIGUSR1) throws {
        let core = core
        // One write(2), past stdio's buffer, so that the tree comes out whole and at once.
        try addSignalHandler(signal) { _ = core.formatTaskTree().withCString { Glibc.write(2, $0, strlen($0)) } }
    }
}

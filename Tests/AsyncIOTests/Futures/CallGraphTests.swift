import AsyncIO
import AsyncIOTesting
import Glibc
import Testing

/// `0x…`, as the call graph prints an object's identity.
private func id(_ object: AnyObject) -> String {
    "0x" + String(UInt(bitPattern: ObjectIdentifier(object)), radix: 16)
}

/// The call graph (asyncio 3.14): what awaits a task, through every combinator, and the task tree.
@Suite struct CallGraphTests {
    @Test func aTaskIsAwaitedThroughGatherWaitWaitForShieldAndPlainAwaits() async throws {
        let (graph, expected) = try await EventLoopThread.run(clock: VirtualClock(), debug: false) { loop in
            currentTask()?.setName("test")
            let never = loop.createFuture(of: Void.self)
            let leaf = loop.createTask(name: "leaf") { try await never.value }
            let plain = loop.createTask(name: "plain") { try await leaf.value }
            let gathering = loop.createTask(name: "gathering") { _ = try await gather([leaf]) }
            let waiting = loop.createTask(name: "waiting") { _ = try await wait([leaf]) }
            let bounded = loop.createTask(name: "bounded") { try await waitFor(leaf, timeout: .seconds(60)) }
            let shielding = loop.createTask(name: "shielding") { try await shield(leaf).value }
            try await sleep(.seconds(1))
            let graph = formatCallGraph(leaf)
            let expected = [
                "* Task(name='leaf', id=\(id(leaf)))",
                "  + Call stack:",
                "  |   async Future.value",
                "  + Awaited by:",
                "    * Task(name='bounded', id=\(id(bounded)))",
                "      + Call stack:",
                "      |   async LoopTask.value",
                "    * Task(name='gathering', id=\(id(gathering)))",
                "      + Call stack:",
                "      |   async gather()",
                "    * Task(name='plain', id=\(id(plain)))",
                "      + Call stack:",
                "      |   async LoopTask.value",
                "    * Task(name='shielding', id=\(id(shielding)))",
                "      + Call stack:",
                "      |   async shield()",
                "    * Task(name='waiting', id=\(id(waiting)))",
                "      + Call stack:",
                "      |   async wait()",
            ]
            for task in [plain, gathering, waiting, bounded, shielding, leaf] { task.cancel() }
            try await sleep(.seconds(1))
            return (graph, expected.joined(separator: "\n"))
        }
        #expect(graph == expected)
    }

    @Test func aPlainFutureIsAwaitedThroughNestedCombinators() async throws {
        let (graph, expected) = try await EventLoopThread.run(clock: VirtualClock(), debug: false) { loop in
            currentTask()?.setName("test")
            let never = loop.createFuture(of: Int.self)
            // gather of a shield of the Future: the task awaiting the gather awaits the Future.
            let outer = loop.createTask(name: "outer") { _ = try await gather([shield(never)]) }
            try await sleep(.seconds(1))
            let graph = formatCallGraph(never)
            let expected = [
                "* Future(id=\(id(never)))",
                "  + Awaited by:",
                "    * Task(name='outer', id=\(id(outer)))",
                "      + Call stack:",
                "      |   async gather()",
            ]
            outer.cancel()
            try await sleep(.seconds(1))
            return (graph, expected.joined(separator: "\n"))
        }
        #expect(graph == expected)
    }

    @Test func groupChildrenAreAwaitedByTheParentFromTheirCreationOn() async throws {
        let graphs = try await EventLoopThread.run(clock: VirtualClock(), debug: false) { loop in
            currentTask()?.setName("test")
            let never = loop.createFuture(of: Void.self)
            let release = loop.createFuture(of: Void.self)
            var child: LoopTask<Void>?
            let parent = loop.createTask(name: "parent") {
                try await withLoopTaskGroup { group in
                    child = try group.createTask(name: "child") { try await never.value }
                    try await release.value  // the body still runs: the child is awaited already
                }
            }
            try await sleep(.seconds(1))
            let inBody = child.map { formatCallGraph($0) } ?? "no child"
            try release.setResult(())
            try await sleep(.seconds(1))
            let atEnd = child.map { formatCallGraph($0) } ?? "no child"
            let tree = loop.taskTree()
            parent.cancel()
            try await sleep(.seconds(1))
            let noLongerAwaited = child.map { formatCallGraph($0) } ?? "no child"
            return [inBody, atEnd, tree, noLongerAwaited, id(parent), child.map(id) ?? "", id(never)]
        }
        let (parent, child, never) = (graphs[4], graphs[5], graphs[6])
        // The child's graph, with the parent's call stack below it.
        func childAwaited(byParentIn parentStack: [String]) -> String {
            let head = [
                "* Task(name='child', id=\(child))", "  + Call stack:", "  |   async Future.value", "  + Awaited by:",
                "    * Task(name='parent', id=\(parent))", "      + Call stack:",
            ]
            return (head + parentStack.map { "      |   async \($0)" }).joined(separator: "\n")
        }
        #expect(graphs[0] == childAwaited(byParentIn: ["Future.value", "withLoopTaskGroup"]))
        #expect(graphs[1] == childAwaited(byParentIn: ["withLoopTaskGroup (waiting for its tasks)"]))
        let treeLines = graphs[2].split(separator: "\n").dropFirst().map(String.init)
        #expect(
            treeLines == [
                "├── (T) parent",
                "│   └──  withLoopTaskGroup (waiting for its tasks)",
                "│       └── (T) child",
                "│           └──  Future.value",
                "│               └── (F) Future(id=\(never), pending)",
                "└── (T) test [running]",
            ]
        )
        // The task is done: nobody awaits it, and it awaits nothing.
        #expect(graphs[3] == "* Task(name='child', id=\(child))")
    }

    @Test func theCurrentTaskSeesItsAwaiters() async throws {
        let (graph, expected, outside) = try await EventLoopThread.run(clock: VirtualClock(), debug: false) { loop in
            currentTask()?.setName("test")
            let inner = loop.createTask(name: "inner") {
                try await sleep(.seconds(1))
                return formatCallGraph()
            }
            let outer = loop.createTask(name: "outer") { try await inner.value }
            let graph = try await outer.value
            let expected = [
                // Running: it awaits nothing while it captures its own graph.
                "* Task(name='inner', id=\(id(inner)))",
                "  + Awaited by:",
                "    * Task(name='outer', id=\(id(outer)))",
                "      + Call stack:",
                "      |   async LoopTask.value",
                "      + Awaited by:",
                "        * Task(name='test', id=\(id(currentTask()!)))",
                "          + Call stack:",
                "          |   async LoopTask.value",
            ]
            var outside = "not run"
            loop.callSoon { outside = formatCallGraph() }
            try await sleep(.seconds(1))
            return (graph, expected.joined(separator: "\n"), outside)
        }
        #expect(graph == expected)
        #expect(outside == "")  // no current task: asyncio's capture returns None
    }

    @Test func debugModeAddsWhereTheTaskWasCreatedAndLimitCutsTheStack() async throws {
        let graphs = try await EventLoopThread.run(clock: VirtualClock(), debug: true) { loop in
            let never = loop.createFuture(of: Void.self)
            let line = #line + 1
            let task = loop.createTask(name: "worker") { try await withLoopTaskGroup { _ in try await never.value } }
            try await sleep(.seconds(1))
            let graphs = [nil, 0, 1, -1, 5].map { formatCallGraph(task, limit: $0) }
            task.cancel()
            try await sleep(.seconds(1))
            return graphs + ["\(line)"]
        }
        let site = "File 'AsyncIOTests/CallGraphTests.swift', line \(graphs[5]), in async task body"
        let body = graphs[0].split(separator: "\n").dropFirst().map(String.init)
        #expect(
            body == ["  + Call stack:", "  |   async Future.value", "  |   async withLoopTaskGroup", "  |   \(site)"]
        )
        #expect(graphs[1].split(separator: "\n").count == 1)  // limit 0: no call stack
        #expect(graphs[2].hasSuffix("  + Call stack:\n  |   \(site)"))  // the outermost entry
        #expect(graphs[3].hasSuffix("  + Call stack:\n  |   async Future.value"))  // the innermost
        #expect(graphs[4] == graphs[0])
    }

    @Test func theTaskTreeShowsStatesFramesAndFutures() async throws {
        let (tree, expected) = try await EventLoopThread.run(clock: VirtualClock(), debug: false) { loop in
            currentTask()?.setName("test")
            let reply = loop.createFuture(of: Int.self)
            let point = WaitPoint(loop: loop)
            let fetch = loop.createTask(name: "fetch") { try await shield(reply).value }
            let reader = loop.createTask(name: "reader") { try await point.wait() }
            let main = loop.createTask(name: "main") { _ = try await gather(fetch, reader) }
            let late = loop.createTask(name: "late") {}
            try await sleep(.seconds(1))
            let unstarted = loop.createTask(name: "unstarted") {}
            let tree = loop.taskTree()
            let expected = [
                "asyncio task tree (pid \(getpid()), 5 pending tasks):",
                "├── (T) main",
                "│   └──  gather()",
                "│       ├── (T) fetch",
                "│       │   └──  shield()",
                "│       │       └── (F) Future(id=\(id(reply)), pending)",
                "│       └── (T) reader",
                "│           └──  WaitPoint.wait()",
                "│               └── (F) WaitPoint(id=\(id(point)), waiting)",
                "├── (T) test [running]",
                "└── (T) unstarted [not started]",
            ]
            _ = late
            main.cancel()
            try await sleep(.seconds(1))
            _ = unstarted
            return (tree, expected.joined(separator: "\n") + "\n")
        }
        #expect(tree == expected)
    }
}

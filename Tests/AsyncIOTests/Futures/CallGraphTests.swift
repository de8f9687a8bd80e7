import AsyncIO
import AsyncIOTesting
import Testing

/// The call graph (asyncio 3.14): what awaits a task, through every combinator, and the task tree.
@Suite struct CallGraphTests {
    @Test func aTaskIsAwaitedThroughGatherWaitWaitForShieldGroupsAndPlainAwaits() async throws {
        let graphs = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let never = loop.createFuture(of: Void.self)
            let leaf = loop.createTask(name: "leaf") { try await never.value }
            let plain = loop.createTask(name: "plain") { try await leaf.value }
            let gathering = loop.createTask(name: "gathering") { _ = try await gather([leaf]) }
            let waiting = loop.createTask(name: "waiting") { _ = try await wait([leaf]) }
            let bounded = loop.createTask(name: "bounded") { try await waitFor(leaf, timeout: .seconds(60)) }
            let shielding = loop.createTask(name: "shielding") { try await shield(leaf).value }
            let grouping = loop.createTask(name: "grouping") {
                try await withLoopTaskGroup { group in
                    try group.createTask(name: "child") { try await never.value }
                }
            }
            try await sleep(.seconds(1))
            let leafGraph = captureCallGraph(leaf)
            let tree = loop.taskTree()
            let child = loop.allTasks().first { $0.name == "child" }
            let childGraph = captureCallGraph(child)
            for task in [plain, gathering, waiting, bounded, shielding, grouping] as [any AnyLoopTask] {
                task.cancel(message: nil)
            }
            leaf.cancel(message: nil)
            try await sleep(.seconds(1))
            return (leafGraph?.description ?? "none", childGraph?.description ?? "none", tree)
        }
        let leaf = graphs.0.split(separator: "\n").map(String.init)
        #expect(leaf.first == "* <LoopTask leaf pending>")
        #expect(leaf.contains("  |   awaits <Future pending>"))
        // Each awaiting task appears under "Awaited by", directly or under its combinator.
        for name in ["plain", "bounded"] {
            #expect(leaf.contains("       * <LoopTask \(name) pending>"), "\(name) in \(leaf)")
        }
        for (combinator, name) in [("gather", "gathering"), ("wait", "waiting"), ("shield", "shielding")] {
            let index = leaf.firstIndex(of: "       * \(combinator)")
            #expect(index != nil, "\(combinator) in \(leaf)")
            #expect(leaf.contains("            * <LoopTask \(name) pending>"), "\(name) in \(leaf)")
        }
        let child = graphs.1.split(separator: "\n").map(String.init)
        #expect(child.contains("       * TaskGroup"))
        #expect(child.contains("            * <LoopTask grouping pending>"))
        #expect(graphs.2.contains("grouping [awaiting TaskGroup(<LoopTask child>)]\n└── child [awaiting <Future pending>]"))
        #expect(graphs.2.contains("plain [awaiting <LoopTask leaf>]\n└── leaf [awaiting <Future pending>]"))
    }

    @Test func outsideATaskThereIsNoGraph() async throws {
        let graph = try await EventLoopThread.run { _ in captureCallGraph() }
        #expect(graph == nil)
    }
}

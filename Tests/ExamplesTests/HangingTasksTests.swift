import Foundation
import Glibc
import Testing

/// `HangingTasks`: SIGUSR1 makes a hanging program print its task tree to stderr.
@Suite struct HangingTasksTests {
    @Test func sigusr1PrintsEveryTaskWithWhatItAwaits() async throws {
        let runner = try ExampleProcess("HangingTasks", arguments: [])
        #expect(try await runner.waitForOutput(containing: "ready"))
        runner.send(SIGUSR1)
        var waited = 0
        while !runner.errors.contains("worker-2"), waited < 10_000 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 10
        }
        let tree = runner.errors
        runner.send(SIGTERM)
        #expect(try await runner.waitForExit() == .exited(128 + SIGTERM))
        let lines = tree.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("asyncio task tree (pid \(runner.pid), 5 pending tasks)") == true)
        #expect(lines.contains("main [awaiting gather(<LoopTask fetch>, <LoopTask workers>)]"))
        #expect(lines.contains { $0.hasPrefix("├── fetch [awaiting shield(<Future") })
        #expect(lines.contains("└── workers [awaiting TaskGroup(<LoopTask worker-1>, <LoopTask worker-2>)]"))
        #expect(lines.contains { $0.hasPrefix("    ├── worker-1 [awaiting <Future") })
        #expect(lines.contains { $0.hasPrefix("    └── worker-2 [awaiting <Future") })
    }
}

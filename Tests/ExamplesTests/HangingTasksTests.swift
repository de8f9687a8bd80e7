import Foundation
import Glibc
import Testing

/// `HangingTasks`: SIGUSR1 makes a hanging program print its task tree to stderr.
@Suite struct HangingTasksTests {
    @Test func sigusr1PrintsEveryTaskWithWhatItAwaits() async throws {
        let runner = try ExampleProcess("HangingTasks", arguments: [])
        #expect(try await runner.waitForOutput(containing: "ready", seconds: 60))
        #expect(try await runner.waitUntilCatching([SIGUSR1]))
        runner.send(SIGUSR1)
        // The tree ends with the last worker's Future; wait for it (the loop prints it in one go).
        let deadline = Date().addingTimeInterval(60)
        while !runner.errors.contains("                        └── (F) Future("), Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let tree = runner.errors
        runner.send(SIGTERM)
        #expect(try await runner.waitForExit(seconds: 60) == .exited(128 + SIGTERM))
        let lines = tree.split(separator: "\n").map(String.init)
        let expected = [
            "asyncio task tree (pid \(runner.pid), 5 pending tasks):",
            "└── (T) main",
            "    └──  gather()",
            "        ├── (T) fetch",
            "        │   └──  shield()",
            "        │       └── (F) Future(id=0x",
            "        └── (T) workers",
            "            └──  withLoopTaskGroup (waiting for its tasks)",
            "                ├── (T) worker-1",
            "                │   └──  Future.value",
            "                │       └── (F) Future(id=0x",
            "                └── (T) worker-2",
            "                    └──  Future.value",
            "                        └── (F) Future(id=0x",
        ]
        #expect(lines.count == expected.count, "\(tree)")
        for (line, start) in zip(lines, expected) {
            #expect(line.hasPrefix(start), "\(line) in\n\(tree)")
        }
        #expect(lines.filter { $0.hasSuffix(", pending)") }.count == 3)
    }
}

import Foundation
import Glibc
import Testing

/// `RunCommand` on real commands: interleaved output, exit status, a missing command, signals.
@Suite struct RunCommandSmokeTests {
    /// The whole suite runs in parallel with the subprocess tests (500 children, 100 MiB through
    /// `cat`) on two cores: a debug RunCommand can take more than the usual 10 s to start and end.
    static let deadline = 30.0

    @Test func printsBothStreamsLineByLineAndExitsWithTheCommandsStatus() async throws {
        let script = "echo one; echo two >&2; sleep 0.1; printf 'three\\nno newline'; exit 3"
        let runner = try ExampleProcess("RunCommand", arguments: ["sh", "-c", script])
        #expect(try await runner.waitForExit(seconds: Self.deadline) == .exited(3))
        let lines = runner.printed.split(separator: "\n").map(String.init)
        #expect(Set(lines) == ["out: one", "err: two", "out: three", "out: no newline"])
        #expect(lines.firstIndex(of: "out: one")! < lines.firstIndex(of: "out: three")!)
    }

    @Test func aMissingCommandExits127() async throws {
        let runner = try ExampleProcess("RunCommand", arguments: ["no-such-command-anywhere"])
        #expect(try await runner.waitForExit(seconds: Self.deadline) == .exited(127))
    }

    @Test func sigtermIsPassedOnAndReportedAsTheShellsDo() async throws {
        let runner = try ExampleProcess("RunCommand", arguments: ["sh", "-c", "echo ready; exec sleep 30"])
        #expect(try await runner.waitForOutput(containing: "out: ready"))
        runner.send(SIGTERM)
        #expect(try await runner.waitForExit(seconds: Self.deadline) == .exited(128 + SIGTERM))
    }
}

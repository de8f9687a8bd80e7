import Glibc
import Testing

/// The two programs of the core issue: the talk's "asyncio 101" and "Undoing callbacks".
@Suite struct CoreExamplesTests {
    @Test func helloPrintsHelloOncePerSecondAndStopsAfterTheCountGiven() async throws {
        let hello = try ExampleProcess("Hello", arguments: ["2"])
        let exit = try await hello.waitForExit(seconds: 60)
        #expect(exit == .exited(0))
        #expect(hello.printed == "hello!\nhello!\n")
    }

    /// Issue 12: Ctrl-C in a `try run { … }` program crashed (exit status 132, a backtrace, and
    /// with stdout piped, everything printed before was lost); SIGTERM killed it, output lost too.
    @Test(arguments: [SIGINT, SIGTERM])
    func helloWithItsOutputPipedStopsCleanlyOnASignal(_ signal: Int32) async throws {
        let hello = try ExampleProcess("Hello", arguments: [])
        #expect(try await hello.waitUntilCatching([SIGINT, SIGTERM]))
        hello.send(signal)
        let exit = try await hello.waitForExit(seconds: 60)
        #expect(exit == .exited(signal == SIGINT ? 130 : 143))
        // The first line is printed before the loop first waits, so before the signal is handled;
        // stdout is a pipe (block-buffered), so it shows only if the program flushed it.
        #expect(hello.printed.hasPrefix("hello!\n"))
        #expect(hello.errors == (signal == SIGINT ? "KeyboardInterrupt\n" : "Terminated\n"))
    }

    @Test func undoingCallbacksAwaitsCallbackAPIsFromTheLoopAndFromAThread() async throws {
        let program = try ExampleProcess("UndoingCallbacks", arguments: [])
        let exit = try await program.waitForExit(seconds: 60)
        #expect(exit == .exited(0))
        #expect(
            program.printed.split(separator: "\n") == [
                "on the loop:        ada was born in 1815",
                "from a thread:      ada was born in 1815",
                "on the loop:        bob: no such user: bob",
                "from a thread:      bob: no such user: bob",
                "concurrently:       ada 1815, grace 1906",
            ]
        )
    }
}

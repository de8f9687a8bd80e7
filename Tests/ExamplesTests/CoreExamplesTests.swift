import Testing

/// The two programs of the core issue: the talk's "asyncio 101" and "Undoing callbacks".
@Suite struct CoreExamplesTests {
    @Test func helloPrintsHelloOncePerSecondAndStopsAfterTheCountGiven() async throws {
        let hello = try ExampleProcess("Hello", arguments: ["2"])
        let exit = try await hello.waitForExit(seconds: 60)
        #expect(exit == .exited(0))
        #expect(hello.printed == "hello!\nhello!\n")
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

import AsyncIO
import AsyncIOTesting
import Testing

@Suite struct TestLoopTests {
    @Test func withTestLoopRunsSleepsOnVirtualTimeInDeadlineOrder() async throws {
        let events = try await withTestLoop { loop, clock in
            var events: [String] = []
            for seconds in [3600, 60, 1] {
                loop.createTask {
                    try await sleep(.seconds(seconds))
                    events.append("\(seconds)s at \(clock.now().seconds)")
                }
            }
            try await sleep(.seconds(7200))
            return events
        }
        #expect(events == ["1s at 1.0", "60s at 60.0", "3600s at 3600.0"])
    }

    @Test func waitAllTasksBlockedLetsEveryChainOfWorkRunWithoutMovingTime() async throws {
        let events = try await withTestLoop { loop, clock in
            var events: [String] = []
            let gate = loop.createFuture(of: Void.self)
            // A chain of five callbacks, each scheduling the next.
            scheduleChain(of: 5, on: loop) { events.append("chain done") }
            loop.createTask {
                for _ in 0..<10 { try await sleep(.zero) }
                events.append("yielding task done")
                try await gate.value
                events.append("gated task done")
            }
            loop.createTask {
                try await sleep(.seconds(1))
                events.append("timer task done")
            }
            try await waitAllTasksBlocked(on: loop)
            events.append("all blocked at \(clock.now().seconds)s, ready \(loop.readyCount)")
            try gate.setResult(())
            try await waitAllTasksBlocked(on: loop)
            try await sleep(.seconds(2))
            return events
        }
        #expect(
            events == [
                "chain done", "yielding task done", "all blocked at 0.0s, ready 0", "gated task done",
                "timer task done",
            ]
        )
    }

    @Test func withoutAutoJumpOnlyAdvanceMovesTheClock() async throws {
        let events = try await withTestLoop(autoJump: false) { loop, clock in
            var events: [String] = []
            loop.callLater(.seconds(10)) { events.append("timer at \(clock.now().seconds)") }
            try await waitAllTasksBlocked(on: loop)
            events.append("before advance: \(clock.now().seconds)")
            clock.advance(by: .seconds(10))
            try await waitAllTasksBlocked(on: loop)
            return events
        }
        #expect(events == ["before advance: 0.0", "timer at 10.0"])
    }
}

/// Schedules `count` callbacks one after another (each schedules the next), then calls `done`.
private func scheduleChain(of count: Int, on loop: isolated EventLoop, _ done: @escaping () -> Void) {
    guard count > 0 else {
        done()
        return
    }
    loop.callSoon { scheduleChain(of: count - 1, on: loop, done) }
}

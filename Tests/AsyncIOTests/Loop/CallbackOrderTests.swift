import AsyncIO
import AsyncIOTesting
import Testing

@Suite struct CallbackOrderTests {
    @Test func callSoonRunsCallbacksInFIFOOrderInTheNextIteration() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            loop.callSoon { events.append("a") }
            loop.callSoon {
                events.append("b")
                loop.callSoon { events.append("d (scheduled by b)") }
            }
            loop.callSoon { events.append("c") }
            try await sleep(.zero)
            try await sleep(.zero)
            return events
        }
        #expect(events == ["a", "b", "c", "d (scheduled by b)"])
    }

    @Test func callbacksScheduledDuringAnIterationRunInTheNextOne() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let start = loop.statistics.iterations
            func iteration() -> Int { loop.statistics.iterations - start }
            loop.callSoon {
                events.append("first in iteration \(iteration())")
                loop.callSoon {
                    events.append("second in iteration \(iteration())")
                    loop.callSoon { events.append("third in iteration \(iteration())") }
                }
            }
            for _ in 0..<4 { try await sleep(.zero) }
            return events
        }
        #expect(events == ["first in iteration 1", "second in iteration 2", "third in iteration 3"])
    }

    @Test func timersFireByDeadlineAndTiesInSchedulingOrder() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            loop.callLater(.seconds(2)) { events.append("2s") }
            loop.callLater(.seconds(1)) { events.append("1s first") }
            loop.callAt(loop.time + .seconds(1)) { events.append("1s second (callAt)") }
            loop.callLater(.seconds(1)) { events.append("1s third") }
            let cancelled = loop.callLater(.milliseconds(500)) { events.append("cancelled") }
            cancelled.cancel()
            try await sleep(.seconds(3))
            return events
        }
        #expect(events == ["1s first", "1s second (callAt)", "1s third", "2s"])
    }

    @Test func cancelledHandlesNeverRun() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let soon = loop.callSoon { events.append("cancelled soon") }
            loop.callSoon { events.append("kept") }
            let timer = loop.callLater(.seconds(1)) { events.append("cancelled timer") }
            // Cancelled by a callback that runs earlier in the same iteration.
            var later: Handle?
            loop.callSoon { later?.cancel() }
            later = loop.callSoon { events.append("cancelled by an earlier callback") }
            loop.callSoon { events.append("after") }
            soon.cancel()
            timer.cancel()
            try await sleep(.seconds(2))
            return events + ["\(soon.isCancelled) \(timer.isCancelled)"]
        }
        #expect(events == ["kept", "after", "true true"])
    }

    @Test(arguments: [Duration.zero, .seconds(-1), .nanoseconds(-5)])
    func callLaterWithANonPositiveDelayRunsInTheNextIteration(delay: Duration) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock(autoJump: false)) { loop in
            var events: [String] = []
            let handle = loop.callLater(delay) { events.append("timer") }
            loop.callSoon { events.append("soon") }
            try await sleep(.zero)
            // Due timers join the ready queue behind what was already scheduled, as in asyncio.
            events.append("main resumed")
            try await sleep(.zero)
            return events + ["when <= now: \(handle.when! <= loop.time)"]
        }
        #expect(events == ["soon", "main resumed", "timer", "when <= now: true"])
    }

    @Test func timersScheduledOutOfOrderFireInDeadlineOrderOnVirtualTime() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            for delay in [5, 1, 4, 2, 3] {
                loop.callLater(.seconds(delay)) { events.append("\(delay)s at \(loop.time.seconds)") }
            }
            try await sleep(.seconds(10))
            return events
        }
        #expect(events == ["1s at 1.0", "2s at 2.0", "3s at 3.0", "4s at 4.0", "5s at 5.0"])
    }
}

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

    @Test func timersFireByDeadlineAndTiesInSchedulingOrder() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            loop.callLater(.seconds(2)) { events.append("2s") }
            loop.callLater(.seconds(1)) { events.append("1s first") }
            loop.callLater(.seconds(1)) { events.append("1s second") }
            let cancelled = loop.callLater(.milliseconds(500)) { events.append("cancelled") }
            cancelled.cancel()
            try await sleep(.seconds(3))
            return events
        }
        #expect(events == ["1s first", "1s second", "2s"])
    }
}

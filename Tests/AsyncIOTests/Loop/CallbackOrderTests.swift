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

    @Test func aBurstOfDueTimersFiresByDeadlineAndTiesInSchedulingOrder() async throws {
        // Thousands due at once (the loop sorts such a burst instead of popping the heap), with
        // ties, cancelled ones, and timers not due yet that must stay in order behind them.
        let (fired, expected) = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var fired: [Int] = []
            var schedule: [(deadline: Int64, index: Int)] = []
            let base = loop.time.nanoseconds
            var generator = SystemRandomNumberGenerator()
            for index in 0..<5000 {
                // Most in the past (due now), a fifth in the next second; 300 distinct values: ties.
                let offset = Int64(Int.random(in: 0..<300, using: &generator)) * 1_000_000
                let deadline = index % 5 == 0 ? base + 1_000_000 + offset : base - offset
                let handle = loop.callAt(LoopInstant(nanoseconds: deadline)) { fired.append(index) }
                if index % 7 == 0 {
                    handle.cancel()
                } else {
                    schedule.append((deadline, index))
                }
            }
            try await sleep(.seconds(2))
            let expected = schedule.sorted { ($0.deadline, $0.index) < ($1.deadline, $1.index) }.map(\.index)
            return (fired, expected)
        }
        #expect(fired.count == expected.count)
        #expect(fired == expected)
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

    /// Thousands of timers over a few deadlines (many ties), most of them cancelled (so the queue
    /// compacts), some from inside callbacks: the rest fire in (deadline, scheduling) order, and
    /// no cancelled one fires. The heap's layout and its hole-based moves are what is checked.
    @Test func manyTimersWithTiesAndMassCancellationFireInOrder() async throws {
        var generator = SystemRandomNumberGenerator()
        let deadlines = (0..<3000).map { _ in Int.random(in: 1...40, using: &generator) }
        let cancelledIndices = Set((0..<3000).filter { _ in Int.random(in: 0..<4, using: &generator) != 0 })
        let fired = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var fired: [Int] = []
            var handles: [Handle] = []
            for (index, milliseconds) in deadlines.enumerated() {
                handles.append(loop.callLater(.milliseconds(milliseconds)) { fired.append(index) })
            }
            for index in cancelledIndices.sorted() where index.isMultiple(of: 2) { handles[index].cancel() }
            // The other half is cancelled by a callback that runs before any of them is due.
            loop.callSoon { for index in cancelledIndices where !index.isMultiple(of: 2) { handles[index].cancel() } }
            try await sleep(.milliseconds(50))
            return fired
        }
        let expected = deadlines.indices.filter { !cancelledIndices.contains($0) }
            .sorted { (deadlines[$0], $0) < (deadlines[$1], $1) }
        #expect(fired == expected)
    }

    /// A cancelled timer's closure is let go of when it is cancelled on the loop thread, or when the
    /// queue drops it (cancelled from another thread); if letting go of it runs a deinit that
    /// schedules another timer, that timer fires too.
    @Test func aDroppedTimerClosureMaySchedule() async throws {
        final class OnDeinit {
            let body: () -> Void
            init(_ body: @escaping () -> Void) { self.body = body }
            deinit { body() }
        }
        let firedAfterDrop = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var firedAfterDrop = 0
            var cancelElsewhere: [Handle] = []
            for index in 0..<200 {
                let rescheduler = OnDeinit { loop.callLater(.milliseconds(1)) { firedAfterDrop += 1 } }
                let handle = loop.callLater(.seconds(1)) { _ = rescheduler }
                if index.isMultiple(of: 2) { handle.cancel() } else { cancelElsewhere.append(handle) }
            }
            let handles = cancelElsewhere
            await Task.detached { for handle in handles { handle.cancel() } }.value
            try await sleep(.seconds(2))
            return firedAfterDrop
        }
        #expect(firedAfterDrop == 200)
    }
}

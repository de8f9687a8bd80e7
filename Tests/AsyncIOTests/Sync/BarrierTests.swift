import AsyncIO
import Testing

@Suite struct BarrierTests {
    @Test func threePartiesPassTogetherWithTheirArrivalIndices() async throws {
        let events = try await runStory { loop in
            let barrier = try Barrier(parties: 3)
            var events: [String] = []
            var tasks: [LoopTask<Void>] = []
            for (name, delay) in [("a", 1), ("b", 2), ("c", 3)] {
                tasks.append(
                    loop.createTask {
                        try await sleep(.seconds(delay))
                        events.append("\(name) arrives, \(barrier.nWaiting) waiting")
                        let index = try await barrier.wait()
                        events.append("\(name) passes with index \(index)")
                    }
                )
            }
            for task in tasks { try await task.value }
            events.append("nWaiting \(barrier.nWaiting), broken \(barrier.isBroken)")
            return events
        }
        #expect(
            events == [
                "a arrives, 0 waiting", "b arrives, 1 waiting", "c arrives, 2 waiting",
                "c passes with index 2", "a passes with index 0", "b passes with index 1",
                "nWaiting 0, broken false",
            ]
        )
    }

    @Test func theBarrierCanBeUsedForSeveralRounds() async throws {
        let indices = try await runStory { loop in
            let barrier = try Barrier(parties: 2)
            var indices: [Int] = []
            let other = loop.createTask {
                for _ in 1...3 { indices.append(try await barrier.wait()) }
            }
            for _ in 1...3 {
                try await sleep(.seconds(1))
                indices.append(try await barrier.wait())
            }
            try await other.value
            return indices
        }
        #expect(indices == [1, 0, 1, 0, 1, 0])
    }

    @Test func abortBreaksTheBarrierForWaitersAndLaterCallers() async throws {
        let events = try await runStory { loop in
            let barrier = try Barrier(parties: 3)
            var events: [String] = []
            var tasks: [LoopTask<Void>] = []
            for name in ["a", "b"] {
                tasks.append(
                    loop.createTask {
                        do {
                            _ = try await barrier.wait()
                        } catch {
                            events.append("\(name): \(error)")
                        }
                    }
                )
            }
            try await settle()
            try await barrier.abort()
            for task in tasks { try await task.value }
            events.append("broken \(barrier.isBroken)")
            do {
                _ = try await barrier.wait()
            } catch {
                events.append("later wait: \(error)")
            }
            return events
        }
        #expect(
            events == [
                "a: BrokenBarrierError", "b: BrokenBarrierError", "broken true", "later wait: BrokenBarrierError",
            ]
        )
    }

    @Test func resetSendsWaitersAwayAndMakesTheBarrierUsableAgain() async throws {
        let events = try await runStory { loop in
            let barrier = try Barrier(parties: 2)
            var events: [String] = []
            try await barrier.abort()
            try await barrier.reset()
            events.append("after reset of a broken barrier: broken \(barrier.isBroken)")
            let waiter = loop.createTask {
                do {
                    _ = try await barrier.wait()
                } catch {
                    events.append("waiter: \(error)")
                }
            }
            try await settle()
            try await barrier.reset()
            try await waiter.value
            events.append("broken \(barrier.isBroken), nWaiting \(barrier.nWaiting)")
            let partner = loop.createTask { try await barrier.wait() }
            let mine = try await barrier.wait()
            events.append("new round: indices \(mine) and \(try await partner.value)")
            return events
        }
        #expect(
            events == [
                "after reset of a broken barrier: broken false", "waiter: BrokenBarrierError",
                "broken false, nWaiting 0", "new round: indices 0 and 1",
            ]
        )
    }

    @Test func fewerThanOnePartyIsRejected() {
        #expect(throws: AsyncIOError.invalidArgument("parties must be >= 1")) { try Barrier(parties: 0) }
    }
}

import AsyncIO
import Testing

@Suite struct SemaphoreTests {
    @Test func permitsAreGrantedInFIFOOrder() async throws {
        let events = try await runStory { loop in
            let semaphore = try Semaphore(value: 2)
            var events: [String] = []
            var tasks: [LoopTask<Void>] = []
            for (name, hold) in [("a", 3), ("b", 1), ("c", 1), ("d", 1)] {
                tasks.append(
                    loop.createTask {
                        try await semaphore.withPermit {
                            events.append("\(name) in")
                            try await sleep(.seconds(hold))
                            events.append("\(name) out")
                        }
                    }
                )
            }
            for task in tasks { try await task.value }
            events.append("value \(semaphore.value)")
            return events
        }
        #expect(
            events == [
                "a in", "b in", "b out", "c in", "c out", "d in", "a out", "d out", "value 2",
            ]
        )
    }

    @Test func aNewcomerQueuesBehindAWokenWaiterEvenWithAPermitFree() async throws {
        let events = try await runStory { loop in
            let semaphore = try Semaphore(value: 0)
            var events: [String] = []
            let waiter = loop.createTask {
                try await semaphore.acquire()
                events.append("waiter acquired")
            }
            try await settle()
            semaphore.release()
            semaphore.release()
            // One permit went to the waiter (not yet run), one is free; FIFO still holds.
            events.append("value \(semaphore.value), locked \(semaphore.isLocked)")
            try await semaphore.acquire()
            events.append("main acquired, value \(semaphore.value)")
            try await waiter.value
            return events
        }
        #expect(events == ["value 1, locked true", "waiter acquired", "main acquired, value 0"])
    }

    @Test func aWaiterCancelledAfterItsWakeUpGivesThePermitToTheNext() async throws {
        let events = try await runStory { loop in
            let semaphore = try Semaphore(value: 0)
            var events: [String] = []
            let first = loop.createTask { try await semaphore.acquire() }
            let second = loop.createTask {
                try await semaphore.acquire()
                events.append("second acquired")
            }
            try await settle()
            semaphore.release()  // hands the permit to `first`...
            first.cancel()  // ...which is cancelled before it runs.
            events.append("first: \(try await outcome(of: first))")
            try await second.value
            events.append("value \(semaphore.value), waiting \(semaphore.statistics.tasksWaiting)")
            return events
        }
        #expect(events == ["second acquired", "first: CancelledError", "value 0, waiting 0"])
    }

    @Test func boundedSemaphoreRefusesToBeReleasedTooOften() async throws {
        let events = try await runStory { _ -> [String] in
            let semaphore = try BoundedSemaphore(value: 1)
            var events: [String] = []
            try await semaphore.acquire()
            try semaphore.release()
            do throws(AsyncIOError) {
                try semaphore.release()
            } catch {
                events.append("\(error)")
                events.append("matches: \(error == .calledTooManyTimes("BoundedSemaphore.release"))")
            }
            events.append("value \(semaphore.value)")
            return events
        }
        #expect(
            events == ["ValueError: BoundedSemaphore.release called too many times", "matches: true", "value 1"]
        )
    }

    @Test func aNegativeInitialValueIsRejected() {
        #expect(throws: AsyncIOError.invalidArgument("Semaphore initial value must be >= 0")) {
            try Semaphore(value: -1)
        }
        #expect(throws: AsyncIOError.invalidArgument("BoundedSemaphore initial value must be >= 0")) {
            try BoundedSemaphore(value: -1)
        }
    }
}

import AsyncIO
import Testing

@Suite struct EventTests {
    @Test func setWakesEveryWaiterInTheOrderTheyWaited() async throws {
        let events = try await runStory { loop in
            let event = Event()
            var events: [String] = []
            var tasks: [LoopTask<Void>] = []
            for name in ["a", "b", "c"] {
                tasks.append(
                    loop.createTask {
                        try await event.wait()
                        events.append("\(name) woke")
                    }
                )
            }
            try await settle()
            events.append("set with \(event.statistics.tasksWaiting) waiting")
            event.set()
            for task in tasks { try await task.value }
            events.append("isSet \(event.isSet), waiting \(event.statistics.tasksWaiting)")
            return events
        }
        #expect(events == ["set with 3 waiting", "a woke", "b woke", "c woke", "isSet true, waiting 0"])
    }

    @Test func waitReturnsAtOnceWhileSetAndBlocksAfterClear() async throws {
        let events = try await runStory { loop in
            let event = Event()
            var events: [String] = []
            event.set()
            try await event.wait()
            events.append("passed while set")
            event.clear()
            let waiter = loop.createTask {
                try await event.wait()
                events.append("waiter woke")
            }
            try await sleep(.seconds(5))
            events.append("after 5 s: waiter done \(waiter.isDone)")
            event.set()
            try await waiter.value
            return events
        }
        #expect(events == ["passed while set", "after 5 s: waiter done false", "waiter woke"])
    }

    @Test func aWaiterWokenBySetReturnsEvenIfClearedBeforeItRuns() async throws {
        let events = try await runStory { loop in
            let event = Event()
            var events: [String] = []
            let waiter = loop.createTask {
                try await event.wait()
                events.append("waiter woke, isSet \(event.isSet)")
            }
            try await settle()
            event.set()
            event.clear()
            try await waiter.value
            return events
        }
        #expect(events == ["waiter woke, isSet false"])
    }

    @Test func aCancelledWaiterLeavesAndOthersStillWake() async throws {
        let events = try await runStory { loop in
            let event = Event()
            var events: [String] = []
            let cancelled = loop.createTask { try await event.wait() }
            let other = loop.createTask {
                try await event.wait()
                events.append("other woke")
            }
            try await settle()
            cancelled.cancel()
            events.append("cancelled: \(try await outcome(of: cancelled)), waiting \(event.statistics.tasksWaiting)")
            event.set()
            try await other.value
            return events
        }
        #expect(events == ["cancelled: CancelledError, waiting 1", "other woke"])
    }
}

import AsyncIO
import Testing

@Suite struct QueueCancellationTests {
    @Test func aGetterCancelledAfterItsWakeUpPassesItToTheNextGetter() async throws {
        let events = try await runStory { loop in
            let queue = Queue<String>()
            var events: [String] = []
            let first = loop.createTask { try await queue.get() }
            let second = loop.createTask { events.append("second got \(try await queue.get())") }
            try await settle()
            try queue.putNowait("item")  // wakes `first`...
            first.cancel()  // ...which is cancelled before it runs.
            events.append("first: \(try await outcome(of: first))")
            try await second.value
            events.append("count \(queue.count), getters \(queue.statistics.tasksWaitingToGet)")
            return events
        }
        #expect(events == ["second got item", "first: CancelledError", "count 0, getters 0"])
    }

    @Test func aPutterCancelledAfterItsWakeUpPassesItToTheNextPutter() async throws {
        let events = try await runStory { loop in
            let queue = Queue<String>(maxsize: 1)
            var events: [String] = []
            try queue.putNowait("old")
            let first = loop.createTask { try await queue.put("first") }
            let second = loop.createTask {
                try await queue.put("second")
                events.append("second put")
            }
            try await settle()
            events.append("got \(try queue.getNowait())")  // wakes `first`...
            first.cancel()  // ...which is cancelled before it runs.
            events.append("first: \(try await outcome(of: first))")
            try await second.value
            events.append("queue holds \(try queue.getNowait())")
            return events
        }
        #expect(events == ["got old", "second put", "first: CancelledError", "queue holds second"])
    }

    @Test func aGetterCancelledWhileWaitingTakesNoItem() async throws {
        let events = try await runStory { loop in
            let queue = Queue<Int>()
            var events: [String] = []
            let getter = loop.createTask { try await queue.get() }
            try await settle()
            getter.cancel()
            events.append("getter: \(try await outcome(of: getter))")
            try queue.putNowait(7)
            events.append("count \(queue.count), getters \(queue.statistics.tasksWaitingToGet)")
            return events
        }
        #expect(events == ["getter: CancelledError", "count 1, getters 0"])
    }
}

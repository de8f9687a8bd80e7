import AsyncIO
import Testing

@Suite struct QueueOrderTests {
    /// A job ordered by priority only, so that equal priorities test the tie order.
    struct Job: Comparable, Sendable, CustomStringConvertible {
        var priority: Int
        var name: String
        static func < (lhs: Job, rhs: Job) -> Bool { lhs.priority < rhs.priority }
        var description: String { "\(priority)\(name)" }
    }

    @Test func priorityQueueGivesTheSmallestFirstAndTiesInArrivalOrder() async throws {
        let order = try await runStory { _ in
            let queue = PriorityQueue<Job>()
            let jobs = [(3, "a"), (1, "b"), (2, "c"), (1, "d"), (3, "e"), (0, "f"), (1, "g")]
            for (priority, name) in jobs { try queue.putNowait(Job(priority: priority, name: name)) }
            var order: [String] = []
            while !queue.isEmpty { order.append("\(try await queue.get())") }
            return order
        }
        #expect(order == ["0f", "1b", "1d", "1g", "2c", "3a", "3e"])
    }

    @Test(arguments: [[5, 3, 8, 1, 9, 2, 7], Array((0..<50).reversed()), [4, 4, 1, 1, 3]])
    func priorityQueueSortsAnyInput(input: [Int]) async throws {
        let output = try await runStory { _ in
            let queue = PriorityQueue<Int>()
            for item in input { try queue.putNowait(item) }
            var output: [Int] = []
            while !queue.isEmpty { output.append(try queue.getNowait()) }
            return output
        }
        #expect(output == input.sorted())
    }

    @Test func lifoQueueGivesTheNewestFirst() async throws {
        let order = try await runStory { _ in
            let queue = LifoQueue<String>(maxsize: 3)
            for item in ["a", "b", "c"] { try queue.putNowait(item) }
            let description = "\(queue)"
            var order: [String] = [description]
            while !queue.isEmpty { order.append(try await queue.get()) }
            return order
        }
        #expect(order == [#"<LifoQueue<String> maxsize=3 items=["c", "b", "a"] tasks=3>"#, "c", "b", "a"])
    }

    @Test func aPriorityQueueIsAQueue() async throws {
        let wasFull = try await runStory { _ in
            let queue: Queue<Int> = PriorityQueue<Int>(maxsize: 1)
            try queue.putNowait(1)
            let full = queue.isFull
            _ = try queue.getNowait()
            try queue.taskDone()
            try await queue.join()
            return full
        }
        #expect(wasFull)
    }
}

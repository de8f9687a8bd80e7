import AsyncIO
import Testing

@Suite struct QueueTests {
    @Test func itemsComeOutInTheOrderTheyWentIn() async throws {
        let items = try await runStory { _ in
            let queue = Queue<String>()
            for item in ["a", "b", "c"] { try queue.putNowait(item) }
            var items: [String] = []
            while !queue.isEmpty { items.append(try await queue.get()) }
            return items
        }
        #expect(items == ["a", "b", "c"])
    }

    @Test func putWaitsWhileTheQueueIsFull() async throws {
        let events = try await runStory { loop in
            let queue = Queue<Int>(maxsize: 2)
            var events: [String] = []
            let producer = loop.createTask {
                for item in 1...4 {
                    try await queue.put(item)
                    events.append("put \(item) (count \(queue.count), full \(queue.isFull))")
                }
            }
            try await sleep(.seconds(1))
            events.append("consumer starts, \(queue.statistics.tasksWaitingToPut) putter waiting")
            for _ in 1...4 {
                events.append("got \(try await queue.get())")
                try await sleep(.seconds(1))
            }
            try await producer.value
            return events
        }
        #expect(
            events == [
                "put 1 (count 1, full false)", "put 2 (count 2, full true)",
                "consumer starts, 1 putter waiting", "got 1", "put 3 (count 2, full true)",
                "got 2", "put 4 (count 2, full true)", "got 3", "got 4",
            ]
        )
    }

    @Test func getWaitsForAnItemAndGettersAreServedInOrder() async throws {
        let events = try await runStory { loop in
            let queue = Queue<String>()
            var events: [String] = []
            var tasks: [LoopTask<Void>] = []
            for name in ["g1", "g2"] {
                tasks.append(loop.createTask { events.append("\(name) got \(try await queue.get())") })
            }
            try await settle()
            try queue.putNowait("x")
            try queue.putNowait("y")
            for task in tasks { try await task.value }
            return events
        }
        #expect(events == ["g1 got x", "g2 got y"])
    }

    @Test func nowaitOperationsThrowTypedErrors() async throws {
        let errors = try await runStory { _ -> [AsyncIOError] in
            let queue = Queue<Int>(maxsize: 1)
            var errors: [AsyncIOError] = []
            do throws(AsyncIOError) { _ = try queue.getNowait() } catch { errors.append(error) }
            try queue.putNowait(1)
            do throws(AsyncIOError) { try queue.putNowait(2) } catch { errors.append(error) }
            return errors
        }
        #expect(errors == [.queueEmpty, .queueFull])
    }

    @Test func joinWaitsUntilEveryItemIsMarkedDone() async throws {
        let events = try await runStory { loop in
            let queue = Queue<Int>()
            var events: [String] = []
            for item in 1...2 { try queue.putNowait(item) }
            let worker = loop.createTask {
                while true {
                    let item = try await queue.get()
                    try await sleep(.seconds(1))
                    events.append("done \(item)")
                    try queue.taskDone()
                }
            }
            try await queue.join()
            events.append("joined, unfinished \(queue.statistics.unfinishedTasks)")
            worker.cancel()
            events.append("worker: \(try await outcome(of: worker))")
            // Nothing unfinished: join returns at once.
            try await queue.join()
            events.append("joined again")
            return events
        }
        #expect(events == ["done 1", "done 2", "joined, unfinished 0", "worker: CancelledError", "joined again"])
    }

    @Test func taskDoneCalledTooOftenThrows() async throws {
        let error = try await runStory { _ -> AsyncIOError? in
            let queue = Queue<Int>()
            try queue.putNowait(1)
            _ = try queue.getNowait()
            try queue.taskDone()
            do throws(AsyncIOError) {
                try queue.taskDone()
                return nil
            } catch {
                return error
            }
        }
        #expect(error == .calledTooManyTimes("Queue.taskDone"))
    }

    @Test func unboundedQueueIsNeverFull() async throws {
        let full = try await runStory { _ in
            let queue = Queue<Int>(maxsize: 0)
            for item in 0..<1000 { try queue.putNowait(item) }
            return queue.isFull
        }
        #expect(full == false)
    }
}

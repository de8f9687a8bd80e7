import AsyncIO
import Testing

@Suite struct QueueShutdownTests {
    @Test func afterShutdownPutsFailAndGetsDrainTheQueueThenFail() async throws {
        let events = try await runStory { _ in
            let queue = Queue<Int>()
            var events: [String] = []
            try queue.putNowait(1)
            try queue.putNowait(2)
            queue.shutdown()
            do throws(AsyncIOError) { try queue.putNowait(3) } catch { events.append("putNowait: \(error)") }
            do { try await queue.put(3) } catch { events.append("put: \(error)") }
            events.append("got \(try await queue.get())")
            events.append("got \(try queue.getNowait())")
            do { _ = try await queue.get() } catch { events.append("get: \(error)") }
            do throws(AsyncIOError) { _ = try queue.getNowait() } catch { events.append("getNowait: \(error)") }
            events.append("unfinished \(queue.statistics.unfinishedTasks)")
            return events
        }
        #expect(
            events == [
                "putNowait: QueueShutDown", "put: QueueShutDown", "got 1", "got 2", "get: QueueShutDown",
                "getNowait: QueueShutDown", "unfinished 2",
            ]
        )
    }

    @Test func shutdownWakesBlockedGettersAndPutters() async throws {
        let events = try await runStory { loop in
            let empty = Queue<Int>()
            let full = Queue<Int>(maxsize: 1)
            try full.putNowait(0)
            var events: [String] = []
            let getter = loop.createTask {
                do { _ = try await empty.get() } catch { events.append("getter: \(error)") }
            }
            let putter = loop.createTask {
                do { try await full.put(1) } catch { events.append("putter: \(error)") }
            }
            try await settle()
            empty.shutdown()
            full.shutdown()
            try await getter.value
            try await putter.value
            events.append("full still holds \(full.count)")
            return events
        }
        #expect(events == ["getter: QueueShutDown", "putter: QueueShutDown", "full still holds 1"])
    }

    @Test func immediateShutdownDiscardsItemsAndReleasesJoin() async throws {
        let events = try await runStory { loop in
            let queue = Queue<Int>(maxsize: 2)
            var events: [String] = []
            try queue.putNowait(1)
            try queue.putNowait(2)
            let joiner = loop.createTask {
                try await queue.join()
                events.append("join returned")
            }
            let putter = loop.createTask {
                do { try await queue.put(3) } catch { events.append("putter: \(error)") }
            }
            try await settle()
            queue.shutdown(immediate: true)
            events.append("count \(queue.count), unfinished \(queue.statistics.unfinishedTasks)")
            do { _ = try await queue.get() } catch { events.append("get: \(error)") }
            try await joiner.value
            try await putter.value
            return events
        }
        #expect(
            events == [
                "count 0, unfinished 0", "get: QueueShutDown", "join returned", "putter: QueueShutDown",
            ]
        )
    }

    @Test func immediateShutdownKeepsJoinWaitingForItemsAlreadyTaken() async throws {
        let events = try await runStory { loop in
            let queue = Queue<Int>()
            var events: [String] = []
            try queue.putNowait(1)
            try queue.putNowait(2)
            _ = try queue.getNowait()  // taken, not yet done
            let joiner = loop.createTask {
                try await queue.join()
                events.append("join returned")
            }
            try await settle()
            queue.shutdown(immediate: true)
            try await settle()
            events.append("unfinished \(queue.statistics.unfinishedTasks), joined \(joiner.isDone)")
            try queue.taskDone()
            try await joiner.value
            return events
        }
        #expect(events == ["unfinished 1, joined false", "join returned"])
    }
}

import AsyncIO
import Testing

@Suite struct ConditionTests {
    @Test func notifyOneWakesOneWaiterInFIFOOrder() async throws {
        let events = try await runStory { loop in
            let condition = Condition()
            var events: [String] = []
            var tasks: [LoopTask<Void>] = []
            for name in ["a", "b", "c"] {
                tasks.append(
                    loop.createTask {
                        try await condition.withLock {
                            try await condition.wait()
                            events.append("\(name) notified, locked \(condition.isLocked)")
                        }
                    }
                )
            }
            try await settle()
            for round in 1...3 {
                events.append("notify #\(round)")
                try await condition.withLock { try condition.notify() }
                try await settle()
            }
            for task in tasks { try await task.value }
            return events
        }
        #expect(
            events == [
                "notify #1", "a notified, locked true", "notify #2", "b notified, locked true",
                "notify #3", "c notified, locked true",
            ]
        )
    }

    @Test func notifyAllWakesEveryWaiterOneAtATimeUnderTheLock() async throws {
        let events = try await runStory { loop in
            let condition = Condition()
            var events: [String] = []
            var tasks: [LoopTask<Void>] = []
            for name in ["a", "b", "c"] {
                tasks.append(
                    loop.createTask {
                        try await condition.withLock {
                            try await condition.wait()
                            events.append("\(name) in")
                            try await sleep(.seconds(1))
                            events.append("\(name) out")
                        }
                    }
                )
            }
            try await settle()
            try await condition.withLock {
                events.append("notifyAll with \(condition.statistics.tasksWaiting) waiting")
                try condition.notifyAll()
            }
            for task in tasks { try await task.value }
            return events
        }
        #expect(events == ["notifyAll with 3 waiting", "a in", "a out", "b in", "b out", "c in", "c out"])
    }

    /// Regression: the woken waiters hop between executors while re-acquiring the lock, so one
    /// of them suspends on the lock's Future only after it was completed. The core's
    /// `waitUntilDone` used to append the continuation anyway and strand that task forever.
    @Test func waitersNotifiedTogetherAllReacquireTheLock() async throws {
        let events = try await runStory { loop in
            let condition = Condition()
            var events: [String] = []
            var tasks: [LoopTask<Void>] = []
            for name in ["a", "b", "c"] {
                tasks.append(
                    loop.createTask {
                        try await condition.withLock {
                            try await condition.wait()
                            events.append("\(name) woke")
                        }
                    }
                )
            }
            try await settle()
            try await condition.withLock { try condition.notifyAll() }
            for task in tasks { try await task.value }
            events.append("locked \(condition.isLocked)")
            return events
        }
        #expect(events == ["a woke", "b woke", "c woke", "locked false"])
    }

    @Test func waitForChecksThePredicateAfterEachNotification() async throws {
        let events = try await runStory { loop in
            let condition = Condition()
            var events: [String] = []
            var items = 0
            let consumer = loop.createTask {
                try await condition.withLock {
                    try await condition.waitFor {
                        events.append("check items=\(items)")
                        return items >= 2
                    }
                    events.append("consumer sees \(items)")
                }
            }
            for _ in 1...2 {
                try await settle()
                try await condition.withLock {
                    items += 1
                    try condition.notify()
                }
            }
            try await consumer.value
            return events
        }
        #expect(events == ["check items=0", "check items=1", "check items=2", "consumer sees 2"])
    }

    @Test func waitingOrNotifyingWithoutTheLockThrows() async throws {
        let errors = try await runStory { _ -> [String] in
            let condition = Condition()
            var errors: [String] = []
            do { try await condition.wait() } catch { errors.append("wait: \(error)") }
            do throws(AsyncIOError) { try condition.notify() } catch { errors.append("notify: \(error)") }
            do throws(AsyncIOError) { try condition.notifyAll() } catch { errors.append("notifyAll: \(error)") }
            return errors
        }
        #expect(
            errors == [
                "wait: RuntimeError: Lock is not acquired.", "notify: RuntimeError: Lock is not acquired.",
                "notifyAll: RuntimeError: Lock is not acquired.",
            ]
        )
    }

    @Test func aCancelledWaiterReacquiresTheLockBeforeThrowing() async throws {
        let events = try await runStory { loop in
            let condition = Condition()
            var events: [String] = []
            let waiter = loop.createTask {
                try await condition.acquire()
                do {
                    try await condition.wait()
                } catch {
                    events.append("waiter caught \(error), locked \(condition.isLocked)")
                    try condition.release()
                    throw error
                }
            }
            try await settle()
            try await condition.acquire()
            waiter.cancel()
            try await settle()
            events.append("main holds the lock; waiter done \(waiter.isDone)")
            try condition.release()
            events.append("waiter: \(try await outcome(of: waiter))")
            return events
        }
        #expect(
            events == [
                "main holds the lock; waiter done false", "waiter caught CancelledError, locked true",
                "waiter: CancelledError",
            ]
        )
    }

    @Test func aNotificationLostToACancellationGoesToTheNextWaiter() async throws {
        let events = try await runStory { loop in
            let condition = Condition()
            var events: [String] = []
            let first = loop.createTask {
                try await condition.withLock { try await condition.wait() }
            }
            let second = loop.createTask {
                try await condition.withLock {
                    try await condition.wait()
                    events.append("second notified")
                }
            }
            try await settle()
            try await condition.withLock {
                try condition.notify(1)  // wakes `first`...
                first.cancel()  // ...which is cancelled before it runs.
            }
            events.append("first: \(try await outcome(of: first))")
            try await second.value
            return events
        }
        #expect(events == ["second notified", "first: CancelledError"])
    }

    @Test func conditionsCanShareALock() async throws {
        let events = try await runStory { _ in
            let lock = Lock()
            let a = Condition(lock: lock)
            let b = Condition(lock: lock)
            try await a.acquire()
            let events = ["b sees locked \(b.isLocked)"]
            try b.release()
            return events + ["a sees locked \(a.isLocked)"]
        }
        #expect(events == ["b sees locked true", "a sees locked false"])
    }
}

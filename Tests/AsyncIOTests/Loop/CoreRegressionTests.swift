import AsyncIO
import AsyncIOTesting
import Testing

/// Bugs found reviewing the core; each test failed before its fix.
@Suite struct CoreRegressionTests {
    @Test func stopBeforeRunForeverRunsOneIterationThenReturns() async throws {
        let events = try await onPlainThread { () throws -> [String] in
            let loop = try EventLoop(clock: VirtualClock())
            let log = EventLog<String>()
            try loop.callSoonThreadSafe { log.append("scheduled before") }
            loop.stop()
            try loop.runForever()
            log.append("runForever returned")
            try loop.close()
            return log.events
        }
        #expect(events == ["scheduled before", "runForever returned"])
    }

    @Test func sleepZeroResumesInSchedulingOrderAmongCallbacks() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            loop.callSoon { events.append("callback scheduled before the yield") }
            loop.createTask {
                // Runs in the same iteration as the yield below, after it: asyncio runs the
                // yielding task first in the next iteration.
                events.append("other task runs")
                loop.callSoon { events.append("callback scheduled after the yield") }
            }
            try await sleep(.zero)  // lets the other task start
            events.append("yield 1 done")
            try await sleep(.zero)
            events.append("yield 2 done")
            try await sleep(.zero)
            return events
        }
        #expect(
            events == [
                "callback scheduled before the yield", "other task runs", "yield 1 done",
                "callback scheduled after the yield", "yield 2 done",
            ]
        )
    }

    @Test func taskCancelledBeforeItsFirstStepNeverRunsItsBody() async throws {
        let outcome = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let task = loop.createTask {
                events.append("body ran")
                try await sleep(.seconds(1))
                return 1
            }
            task.cancel(message: "early")
            var message: String?
            do { _ = try await task.value } catch let error as CancelledError { message = error.message }
            return [events.joined(), "\(task.isCancelled)", message ?? "nil"]
        }
        #expect(outcome == ["", "true", "early"])
    }

    @Test func cancellingASubmittedCoroutineBeforeTheLoopPicksItUpCancelsTheTask() async throws {
        let events = try await onPlainThread { () throws -> [String] in
            let loop = try EventLoop(clock: VirtualClock())
            let log = EventLog<String>()
            let submitted = try loop.runCoroutineThreadSafe { _ in
                log.append("body ran")
                try await sleep(.seconds(1))
                log.append("body finished")
                return 1
            }
            #expect(submitted.cancel())
            try loop.runUntilComplete { loop in
                try await sleep(.seconds(5))
                log.append("pending tasks: \(loop.allTasks().count)")
            }
            try loop.close()
            return log.events
        }
        // As in asyncio, the task's first step runs before the cancellation (which hops through
        // call_soon_threadsafe) reaches it; its first await then throws CancelledError.
        #expect(events == ["body ran", "pending tasks: 1"])  // the one pending task is the main task
    }
}

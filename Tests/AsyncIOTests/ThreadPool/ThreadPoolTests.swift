import AsyncIO
import AsyncIOTesting
import Foundation
import Testing

@Suite struct ThreadPoolTests {
    @Test func toThreadRunsTheWorkOffTheLoopAndReturnsItsResult() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let loopThread = currentThread()
            var events: [String] = []
            loop.callSoon { events.append("the loop keeps running") }
            let (value, workerThread) = try await toThread { (21 * 2, currentThread()) }
            events.append("value \(value), off the loop: \(workerThread != loopThread)")
            do {
                _ = try await toThread { () throws -> Int in throw TaggedError(tag: "in thread") }
            } catch {
                events.append("error \(error)")
            }
            return events
        }
        #expect(events == ["the loop keeps running", "value 42, off the loop: true", "error in thread"])
    }

    /// Issue 12: `submit` started a thread only when no worker was idle, and did not reserve the
    /// idle one, so four jobs submitted at once could queue behind a single worker. Each job here
    /// waits until all four run at the same time; run one after another, they would time out.
    @Test func fourJobsSubmittedAtOnceRunAtTheSameTime() async throws {
        let rounds = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var together = 0
            for _ in 0..<20 {
                // A new pool, and one job first, so that it has one worker idle when the four arrive.
                let pool = ThreadPoolExecutor(maxWorkers: 4)
                defer { pool.shutdown(wait: false) }
                loop.setDefaultExecutor(pool)
                _ = try await toThread { 0 }
                let meeting = ThreadMeeting(parties: 4)
                let met = try await gather((0..<4).map { _ in { try await toThread { meeting.arrive() } } })
                if met.allSatisfy({ $0 }) { together += 1 }
            }
            return together
        }
        #expect(rounds == 20)
    }

    @Test func runInExecutorUsesTheGivenPoolInFIFOOrder() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let pool = ThreadPoolExecutor(maxWorkers: 1)
            let order = EventLog<Int>()
            let futures = (0..<5).map { index in loop.runInExecutor(pool) { order.append(index) } }
            for future in futures { try await future.value }
            pool.shutdown()
            let afterShutdown = loop.runInExecutor(pool) { 1 }
            var events = ["order \(order.events)"]
            do { _ = try await afterShutdown.value } catch { events.append("after shutdown: \(error)") }
            return events
        }
        #expect(
            events == [
                "order [0, 1, 2, 3, 4]", "after shutdown: RuntimeError: cannot schedule new futures after shutdown",
            ]
        )
    }

    @Test func theDefaultExecutorCanBeReplacedAndShutDown() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let pool = ThreadPoolExecutor(maxWorkers: 2)
            loop.setDefaultExecutor(pool)
            events.append("default pool: \(try await loop.runInExecutor { 1 }.value)")
            await loop.shutdownDefaultExecutor()
            do {
                _ = try await toThread { 2 }
            } catch {
                events.append("toThread: \(error)")
            }
            do {
                _ = try await loop.runInExecutor { 3 }.value
            } catch {
                events.append("runInExecutor: \(error)")
            }
            do {
                try pool.submit {}
            } catch {
                events.append("the pool itself is shut down: \(error)")
            }
            return events
        }
        #expect(
            events == [
                "default pool: 1",
                "toThread: RuntimeError: Executor shutdown has been called",
                "runInExecutor: RuntimeError: Executor shutdown has been called",
                "the pool itself is shut down: RuntimeError: cannot schedule new futures after shutdown",
            ]
        )
    }

    @Test func toThreadWithoutARunningLoopIsALoopStateError() async throws {
        await #expect(throws: AsyncIOError.self) { _ = try await toThread { 1 } }
    }
}

@Suite struct ConcurrentFutureTests {
    @Test func runCoroutineThreadSafeReturnsTheResultToABlockingThread() async throws {
        let thread = try EventLoopThread(clock: VirtualClock())
        defer { thread.shutdown() }
        let results = try await onPlainThread { () throws -> [String] in
            let value = try thread.loop.runCoroutineThreadSafe { _ in
                try await sleep(.seconds(5))
                return "slept"
            }
            let failing = try thread.loop.runCoroutineThreadSafe { _ -> Int in throw TaggedError() }
            var results = [try value.result(timeout: .seconds(30))]
            do { _ = try failing.result(timeout: .seconds(30)) } catch { results.append("\(error)") }
            return results
        }
        #expect(results == ["slept", "boom"])
    }

    @Test func resultTimesOutWhenNothingCompletesIt() async throws {
        let outcome = try await onPlainThread { () -> String in
            let future = ConcurrentFuture<Int>()
            do {
                _ = try future.result(timeout: .milliseconds(1))
                return "completed"
            } catch {
                return "\(error) done=\(future.isDone)"
            }
        }
        #expect(outcome == "TimeoutError done=false")
    }

    @Test func wrapFutureBridgesAConcurrentFutureToTheLoopBothWays() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let completedElsewhere = ConcurrentFuture<Int>()
            let wrapped = loop.wrapFuture(completedElsewhere)
            _ = try await toThread { completedElsewhere.complete(.success(7)) }
            events.append("wrapped value \(try await wrapped.value)")
            let abandoned = ConcurrentFuture<Int>()
            let wrappedAbandoned = loop.wrapFuture(abandoned)
            wrappedAbandoned.cancel()
            try await sleep(.zero)
            events.append("cancelling the loop future cancels the other: \(abandoned.isCancelled)")
            events.append("completing it later is refused: \(!abandoned.complete(.success(1)))")
            return events
        }
        #expect(
            events == [
                "wrapped value 7", "cancelling the loop future cancels the other: true",
                "completing it later is refused: true",
            ]
        )
    }

    @Test func doneCallbacksRunOnceWhetherAddedBeforeOrAfterCompletion() async throws {
        let log = EventLog<String>()
        let future = ConcurrentFuture<Int>()
        future.addDoneCallback { log.append("before: \((try? $0.result()) ?? -1)") }
        #expect(future.complete(.success(3)))
        #expect(!future.complete(.success(4)))
        #expect(!future.cancel())
        future.addDoneCallback { log.append("after: \((try? $0.result()) ?? -1)") }
        #expect(log.events == ["before: 3", "after: 3"])
    }
}

@Suite struct RunnerTests {
    @Test func runCancelsAndAwaitsTasksLeftBehindSoTheirCleanupRuns() async throws {
        let events = try await onPlainThread { () throws -> [String] in
            let log = EventLog<String>()
            let value = try run { loop in
                loop.createTask(name: "left behind") {
                    defer { log.append("defer ran") }
                    do {
                        try await sleep(.seconds(3600))
                    } catch {
                        log.append("left behind sees \(error)")
                        throw error
                    }
                }
                try await sleep(.zero)
                return "main done"
            }
            log.append(value)
            return log.events
        }
        #expect(events == ["left behind sees CancelledError", "defer ran", "main done"])
    }

    @Test func runReturnsTheMainResultAndRethrowsItsError() async throws {
        let outcome = try await onPlainThread { () throws -> [String] in
            var outcome = [try run { _ in "ok" }]
            do { _ = try run { _ -> Int in throw TaggedError() } } catch { outcome.append("\(error)") }
            return outcome
        }
        #expect(outcome == ["ok", "boom"])
    }

    @Test func aRunnerRunsSeveralMainTasksOnOneLoopThenCloses() async throws {
        let outcome = try await onPlainThread { () throws -> [String] in
            let runner = Runner(clock: VirtualClock())
            let loop = try runner.getLoop()
            let first: Void = try runner.run { _ in try await sleep(.seconds(1)) }
            let time = try runner.run { loop in loop.time.seconds }
            try runner.close()
            var outcome = ["\(first == ()) \(time) closed=\(loop.isClosed)"]
            do { _ = try runner.run { _ in 1 } } catch { outcome.append("\(error)") }
            return outcome
        }
        #expect(outcome == ["true 1.0 closed=true", "RuntimeError: Runner is closed"])
    }

    @Test func eventLoopThreadShutdownCancelsWhatIsLeftAndClosesTheLoop() async throws {
        let thread = try EventLoopThread(clock: VirtualClock())
        let log = EventLog<String>()
        _ = try await thread.run { loop in
            // Waits on a Future nobody completes (a sleep would end at once: the idle virtual clock
            // jumps to its deadline).
            let never = loop.createFuture(of: Int.self)
            loop.createTask {
                do { _ = try await never.value } catch { log.append("cancelled at shutdown: \(error)") }
            }
            try await sleep(.zero)
        }
        thread.shutdown()
        #expect(log.events == ["cancelled at shutdown: CancelledError"])
        #expect(thread.loop.isClosed)
        #expect(throws: AsyncIOError.self) { _ = try thread.submit { _ in 1 } }
    }
}

/// A rendezvous of `parties` threads, with a deadline: `arrive()` blocks until all of them arrived.
final class ThreadMeeting: @unchecked Sendable {
    // SAFETY: `arrived` is only touched with `condition` locked.
    private let condition = NSCondition()
    private var arrived = 0
    private let parties: Int

    init(parties: Int) { self.parties = parties }

    /// True if every party arrived within 10 seconds.
    func arrive() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        let deadline = Date().addingTimeInterval(10)
        while arrived < parties {
            if !condition.wait(until: deadline) { return arrived >= parties }
        }
        return true
    }
}

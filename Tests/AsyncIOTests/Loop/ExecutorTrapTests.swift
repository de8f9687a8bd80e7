import AsyncIO
import AsyncIOTesting
import Glibc
import Testing

/// The thread the calling code runs on.
func currentThread() -> UInt { UInt(pthread_self()) }

/// A plain nonisolated async function: `nonisolated(nonsending)` under this package's settings.
func threadOfNonisolatedCall() async -> UInt { currentThread() }

/// An explicitly concurrent function: leaves the actor, but runs on the task's executor preference.
@concurrent func threadOfConcurrentCall() async -> UInt { currentThread() }

/// The spike's traps (issue #2, section 3), pinned by counting the loop's jobs, never by time.
@Suite struct ExecutorTrapTests {
    @Test func nonisolatedAndConcurrentAsyncCallsFromALoopTaskStayOnTheLoopThread() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let loopThread = currentThread()
            let jobs = loop.statistics.jobs
            let nonisolated = await threadOfNonisolatedCall()
            let jobsForNonisolated = loop.statistics.jobs - jobs
            let concurrent = await threadOfConcurrentCall()
            let inner = loop.createTask { await threadOfConcurrentCall() }
            let fromTask = try await inner.value
            return [
                "nonisolated on loop: \(nonisolated == loopThread), jobs \(jobsForNonisolated)",
                "@concurrent on loop: \(concurrent == loopThread)",
                "@concurrent in created task on loop: \(fromTask == loopThread)",
            ]
        }
        #expect(
            events == [
                "nonisolated on loop: true, jobs 0", "@concurrent on loop: true",
                "@concurrent in created task on loop: true",
            ]
        )
    }

    @Test func taskGroupChildrenOfALoopTaskRunOnTheLoopThread() async throws {
        let allOnLoop = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let loopThread = currentThread()
            let threads = await withTaskGroup(of: [UInt].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let first = currentThread()
                        let second = await threadOfConcurrentCall()
                        return [first, second]
                    }
                }
                var threads: [UInt] = []
                for await pair in group { threads += pair }
                return threads
            }
            return threads.count == 16 && threads.allSatisfy { $0 == loopThread }
        }
        #expect(allOnLoop)
    }

    @Test func sleepZeroCostsExactlyOneJob() async throws {
        let jobs = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let before = loop.statistics.jobs
            for _ in 0..<1_000 { try await sleep(.zero) }
            return loop.statistics.jobs - before
        }
        #expect(jobs == 1_000)
    }

    @Test func startingAndAwaitingATaskCostsOneJobEach() async throws {
        let jobs = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let before = loop.statistics.jobs
            let task = loop.createTask { 1 }
            let afterCreate = loop.statistics.jobs - before
            _ = try await task.value
            return [afterCreate, loop.statistics.jobs - before]
        }
        // One job to start the task, one to resume this task when it completes.
        #expect(jobs == [1, 2])
    }

    @Test func aFuturePingPongCostsOneJobPerSwitch() async throws {
        let rounds = 1_000
        let jobs = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let toPong = (0..<rounds).map { _ in loop.createFuture(of: Int.self) }
            let toPing = (0..<rounds).map { _ in loop.createFuture(of: Int.self) }
            let pong = loop.createTask {
                for round in 0..<rounds {
                    let value = try await toPong[round].value
                    try toPing[round].setResult(value + 1)
                }
            }
            try await sleep(.zero)  // pong starts and waits
            let before = loop.statistics.jobs
            for round in 0..<rounds {
                try toPong[round].setResult(round)
                _ = try await toPing[round].value
            }
            let switches = loop.statistics.jobs - before
            try await pong.value
            return switches
        }
        // Each round: pong resumes once, ping resumes once.
        #expect(jobs == 2 * rounds)
    }

    @Test func cancellingFromAnotherThreadIsDeliveredOnTheLoopThread() async throws {
        let thread = try EventLoopThread(clock: VirtualClock())
        defer { thread.shutdown() }
        let log = EventLog<String>()
        let started = ConcurrentFuture<UInt>()
        let submitted = try thread.submit { loop in
            let loopThread = currentThread()
            let awaited = loop.createFuture(of: Int.self)
            awaited.addDoneCallback { future in
                log.append("awaited future cancelled: \(future.isCancelled), on loop: \(currentThread() == loopThread)")
            }
            started.complete(.success(loopThread))
            do {
                _ = try await awaited.value
            } catch let error as CancelledError {
                log.append("task sees \(error) on loop: \(currentThread() == loopThread)")
                throw error
            }
        }
        let loopThread = try await started.value
        let canceller = try await onPlainThread { () -> UInt in
            submitted.cancel()
            return currentThread()
        }
        #expect(canceller != loopThread)
        await #expect(throws: CancelledError.self) { try await submitted.value }
        // The loop has run the cancellation by now; a round trip makes sure its callbacks ran too.
        _ = try await thread.run { _ in try await sleep(.zero) }
        #expect(
            log.events == [
                "awaited future cancelled: true, on loop: true",  // its callback was added first
                "task sees CancelledError on loop: true",
            ]
        )
    }
}

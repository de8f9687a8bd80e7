import AsyncIO
import AsyncIOTesting
import Testing

@Suite struct WaitTests {
    // MARK: - wait

    /// Three tasks: "ok" succeeds at 1 s, "bad" fails at 2 s, "late" succeeds at 3 s.
    static let modes: [(ReturnWhen, [String])] = [
        (.firstCompleted, ["done [ok] pending [bad, late] t=1.0s"]),
        (.firstException, ["done [ok, bad] pending [late] t=2.0s"]),
        (.allCompleted, ["done [ok, bad, late] pending [] t=3.0s"]),
    ]

    @Test(arguments: modes)
    func waitReturnsWhenItsConditionHolds(mode: ReturnWhen, expected: [String]) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let tasks = Self.threeTasks(loop)
            let (done, pending) = try await wait(tasks, returnWhen: mode)
            let event = "done \(Self.names(done, in: tasks)) pending \(Self.names(pending, in: tasks)) \(loop.now)"
            _ = try? await gather(tasks, returnExceptions: true)
            return [event]
        }
        #expect(events == expected)
    }

    @Test(arguments: [ReturnWhen.firstCompleted, .firstException, .allCompleted])
    func waitTimesOutWithoutThrowingInEveryMode(mode: ReturnWhen) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let tasks = Self.threeTasks(loop)
            let (done, pending) = try await wait(tasks, timeout: .milliseconds(500), returnWhen: mode)
            let event = "done \(done.count) pending \(pending.count) \(loop.now)"
            _ = try? await gather(tasks, returnExceptions: true)
            return [event, "cancelled \(tasks.filter(\.isCancelled).count)"]
        }
        #expect(events == ["done 0 pending 3 t=0.5s", "cancelled 0"])
    }

    @Test func waitWithATimeoutReturnsWhatFinishedInTime() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let tasks = Self.threeTasks(loop)
            let (done, pending) = try await wait(tasks, timeout: .milliseconds(2500))
            let event = "done \(Self.names(done, in: tasks)) pending \(Self.names(pending, in: tasks)) \(loop.now)"
            _ = try? await gather(tasks, returnExceptions: true)
            return [event]
        }
        #expect(events == ["done [ok, bad] pending [late] t=2.5s"])
    }

    @Test func waitOnNoFuturesIsAnInvalidArgument() async throws {
        let error = try await EventLoopThread.run(clock: VirtualClock()) { _ in
            do {
                _ = try await wait([Future<Int>]())
                return "returned"
            } catch {
                return "\(error)"
            }
        }
        #expect(error == "ValueError: Set of Tasks/Futures is empty.")
    }

    /// The names of `futures`, which are some of `threeTasks`.
    static func names(_ futures: [Future<Int>], in tasks: [Future<Int>]) -> String {
        let names = ["ok", "bad", "late"]
        return "[" + futures.map { future in names[tasks.firstIndex { $0 === future }!] }.joined(separator: ", ") + "]"
    }

    /// "ok" at 1 s, "bad" fails at 2 s, "late" at 3 s; as plain Futures so that `wait` gets one type.
    static func threeTasks(_ loop: isolated EventLoop) -> [Future<Int>] {
        [
            loop.createTask(name: "ok") {
                try await sleep(.seconds(1))
                return 1
            },
            loop.createTask(name: "bad") { () async throws -> Int in
                try await sleep(.seconds(2))
                throw Boom("bad")
            },
            loop.createTask(name: "late") {
                try await sleep(.seconds(3))
                return 3
            },
        ]
    }

    // MARK: - waitFor

    @Test func waitForReturnsTheResultInTime() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let task = loop.createTask {
                try await sleep(.seconds(1))
                return "result"
            }
            let value = try await waitFor(task, timeout: .seconds(5))
            return [value, loop.now]
        }
        #expect(events == ["result", "t=1.0s"])
    }

    @Test func waitForTimeoutCancelsTheInnerTaskAndThrowsTimeout() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let inner = loop.createTask {
                do {
                    try await sleep(.seconds(10))
                } catch {
                    events.append("inner got \(error) \(loop.now)")
                    throw error
                }
            }
            do {
                try await waitFor(inner, timeout: .seconds(1))
            } catch {
                events.append("waitFor threw \(error) \(loop.now)")
            }
            events.append("inner cancelled: \(inner.isCancelled), cancelling: \(currentTask()!.cancelling())")
            return events
        }
        #expect(
            events == [
                "inner got CancelledError t=1.0s", "waitFor threw TimeoutError t=1.0s",
                "inner cancelled: true, cancelling: 0",
            ]
        )
    }

    @Test func waitForWithZeroTimeoutCancelsAPendingFutureAtOnce() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let future = loop.createFuture(of: Int.self)
            do {
                _ = try await waitFor(future, timeout: .zero)
                return ["returned"]
            } catch {
                return ["\(error)", "cancelled: \(future.isCancelled)", loop.now]
            }
        }
        #expect(events == ["TimeoutError", "cancelled: true", "t=0.0s"])
    }

    @Test func waitForAClosureTimesOutInTheCallingTask() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            do {
                try await waitFor(timeout: .seconds(1)) {
                    events.append("body runs in the caller: \(currentTask() != nil)")
                    try await sleep(.seconds(10))
                }
            } catch {
                events.append("threw \(error) \(loop.now)")
            }
            return events
        }
        #expect(events == ["body runs in the caller: true", "threw TimeoutError t=1.0s"])
    }

    /// asyncio's `wait_for(coro, timeout)` with a timeout of zero or less wraps the coroutine in a
    /// task, cancels it before it starts and raises `TimeoutError`: the coroutine never runs.
    @Test(arguments: [Duration.zero, .seconds(-1)])
    func waitForAClosureWithNoTimeLeftNeverRunsIt(timeout: Duration) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            do {
                let value = try await waitFor(timeout: timeout) {
                    events.append("body ran")
                    return "body's value"
                }
                events.append("returned \(value)")
            } catch {
                events.append("threw \(error) \(loop.now)")
            }
            events.append("cancelling: \(currentTask()!.cancelling())")
            return events
        }
        #expect(events == ["threw TimeoutError t=0.0s", "cancelling: 0"])
    }

    // MARK: - shield

    @Test func cancellingTheAwaiterOfAShieldLeavesTheInnerTaskRunning() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let inner = loop.createTask {
                try await sleep(.seconds(2))
                events.append("inner done \(loop.now)")
                return 42
            }
            let awaiter = loop.createTask {
                do {
                    return try await shield(inner).value
                } catch {
                    events.append("awaiter got \(error) \(loop.now)")
                    throw error
                }
            }
            try await sleep(.seconds(1))
            awaiter.cancel()
            events.append("inner result \(try await inner.value), awaiter cancelled: \(awaiter.isCancelled)")
            return events
        }
        #expect(
            events == [
                "awaiter got CancelledError t=1.0s", "inner done t=2.0s", "inner result 42, awaiter cancelled: true",
            ]
        )
    }

    @Test func cancellingTheInnerFutureCancelsTheShield() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let inner = loop.createFuture(of: Int.self)
            let outer = shield(inner)
            loop.callLater(.seconds(1)) { inner.cancel(message: "inner") }
            do {
                _ = try await outer.value
                return ["returned"]
            } catch {
                return ["\(error)", "outer cancelled: \(outer.isCancelled)", loop.now]
            }
        }
        #expect(events == ["CancelledError(inner)", "outer cancelled: true", "t=1.0s"])
    }
}

extension WaitTests {
    @Test func cancellingTheTaskInWaitLeavesTheFuturesAlone() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let tasks = Self.threeTasks(loop)
            let waiter = loop.createTask {
                do {
                    _ = try await wait(tasks)
                } catch {
                    events.append("wait threw \(error) \(loop.now)")
                    throw error
                }
            }
            loop.callLater(.milliseconds(500)) { waiter.cancel(message: "enough") }
            try? await waiter.value
            events.append("tasks cancelled: \(tasks.filter(\.isCancelled).count)")
            _ = try await gather(tasks, returnExceptions: true)
            return events
        }
        #expect(events == ["wait threw CancelledError(enough) t=0.5s", "tasks cancelled: 0"])
    }
}

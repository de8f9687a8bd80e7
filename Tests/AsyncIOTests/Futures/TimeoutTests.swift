import AsyncIO
import AsyncIOTesting
import Testing

@Suite struct TimeoutTests {
    @Test func anExpiredScopeCancelsItsBodyAndThrowsTimeout() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            var scope: Timeout?
            do {
                try await timeout(.seconds(1)) { timeout in
                    scope = timeout
                    do {
                        try await sleep(.seconds(5))
                    } catch {
                        events.append("body got \(error) \(loop.now)")
                        throw error
                    }
                }
            } catch {
                events.append("scope threw \(error)")
            }
            events.append("expired: \(scope!.expired), cancelling: \(currentTask()!.cancelling())")
            try await sleep(.seconds(1))
            events.append("task goes on \(loop.now)")
            return events
        }
        #expect(
            events == [
                "body got CancelledError t=1.0s", "scope threw TimeoutError", "expired: true, cancelling: 0",
                "task goes on t=2.0s",
            ]
        )
    }

    @Test func aScopeThatFinishesInTimeReturnsTheBodysValue() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let value = try await timeout(.seconds(2)) { scope in
                try await sleep(.seconds(1))
                return "value, expired: \(scope.expired)"
            }
            return [value, loop.now]
        }
        #expect(events == ["value, expired: false", "t=1.0s"])
    }

    @Test func aCancellationFromOutsideStaysCancelledError() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let task = loop.createTask {
                do {
                    try await timeout(.seconds(10)) { _ in try await sleep(.seconds(5)) }
                } catch {
                    events.append("scope threw \(error) \(loop.now)")
                    throw error
                }
            }
            try await sleep(.seconds(1))
            task.cancel(message: "from outside")
            try? await task.value
            events.append("task cancelled: \(task.isCancelled)")
            return events
        }
        #expect(events == ["scope threw CancelledError(from outside) t=1.0s", "task cancelled: true"])
    }

    @Test func rescheduleMovesTheDeadlineLater() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            try await timeout(.seconds(1)) { scope in
                events.append("deadline \(scope.when!)")
                try scope.reschedule(loop.time + .seconds(3))
                events.append("deadline \(scope.when!)")
                try await sleep(.seconds(2))
                events.append("slept past the first deadline \(loop.now)")
            }
            return events
        }
        #expect(events == ["deadline 1.0s", "deadline 3.0s", "slept past the first deadline t=2.0s"])
    }

    @Test func aScopeWithoutADeadlineCanBeGivenOneLater() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            do {
                try await timeout(nil) { scope in
                    try await sleep(.seconds(1))
                    events.append("no deadline: \(scope.when == nil)")
                    try scope.reschedule(after: .seconds(1))
                    do {
                        try await sleep(.seconds(5))
                    } catch {
                        events.append("cancelled \(loop.now), expired: \(scope.expired)")
                        throw error
                    }
                }
            } catch {
                events.append("scope threw \(error)")
            }
            return events
        }
        #expect(events == ["no deadline: true", "cancelled t=2.0s, expired: true", "scope threw TimeoutError"])
    }

    @Test func aScopeWithADeadlineInThePastExpiresAtTheFirstAwait() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            do {
                try await timeoutAt(loop.time) { _ in try await sleep(.seconds(1)) }
                return ["returned"]
            } catch {
                return ["\(error)", loop.now]
            }
        }
        #expect(events == ["TimeoutError", "t=0.0s"])
    }

    @Test func anInnerExpiryIsCaughtByTheInnerScopeOnly() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            try await timeout(.seconds(5)) { outer in
                do {
                    try await timeout(.seconds(1)) { _ in try await sleep(.seconds(10)) }
                } catch {
                    events.append("inner threw \(error) \(loop.now)")
                }
                try await sleep(.seconds(1))
                events.append("outer body goes on \(loop.now), outer expired: \(outer.expired)")
            }
            events.append("cancelling: \(currentTask()!.cancelling())")
            return events
        }
        #expect(
            events == [
                "inner threw TimeoutError t=1.0s", "outer body goes on t=2.0s, outer expired: false", "cancelling: 0",
            ]
        )
    }

    @Test func anOuterExpiryPassesThroughTheInnerScopeAsCancellation() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            do {
                try await timeout(.seconds(1)) { _ in
                    do {
                        try await timeout(.seconds(5)) { _ in try await sleep(.seconds(10)) }
                    } catch {
                        events.append("inner threw \(error) \(loop.now)")
                        throw error
                    }
                }
            } catch {
                events.append("outer threw \(error)")
            }
            return events
        }
        #expect(events == ["inner threw CancelledError t=1.0s", "outer threw TimeoutError"])
    }

    @Test func rescheduleAfterExitIsAnInvalidState() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { _ in
            let scope = try await timeout(.seconds(1)) { $0 }
            do {
                try scope.reschedule(after: .seconds(1))
                return ["rescheduled"]
            } catch {
                return ["\(error)"]
            }
        }
        #expect(events == ["InvalidStateError: Cannot change state of exited Timeout"])
    }
}

extension TimeoutTests {
    @Test func aScopeOutsideALoopTaskIsALoopStateError() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            // A Swift task on the loop (not a LoopTask) has no cancellation counts to borrow.
            let swiftTask = Task(executorPreference: loop.taskExecutor) { () async -> String in
                do {
                    try await timeout(.seconds(1)) { _ in }
                    return "entered"
                } catch {
                    return "\(error)"
                }
            }
            return [await swiftTask.value]
        }
        #expect(events == ["RuntimeError: Timeout should be used inside a task"])
    }
}

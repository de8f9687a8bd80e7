import AsyncIO
import AsyncIOTesting
import Testing

@Suite struct GatherTests {
    @Test func gatherReturnsResultsInInputOrderNotCompletionOrder() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let slow = loop.createTask {
                try await sleep(.seconds(2))
                events.append("slow done \(loop.now)")
                return "slow"
            }
            let fast = loop.createTask {
                try await sleep(.seconds(1))
                events.append("fast done \(loop.now)")
                return "fast"
            }
            let results = try await gather([slow, fast])
            events.append("gather \(results) \(loop.now)")
            return events
        }
        #expect(events == ["fast done t=1.0s", "slow done t=2.0s", "gather [\"slow\", \"fast\"] t=2.0s"])
    }

    @Test func gatherOfMixedTypesReturnsATuple() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let number = loop.createTask {
                try await sleep(.seconds(1))
                return 42
            }
            let text = loop.createTask { "hello" }
            let (n, s) = try await gather(number, text)
            return ["\(n) \(s) \(loop.now)"]
        }
        #expect(events == ["42 hello t=1.0s"])
    }

    @Test func gatherOfNothingReturnsAtOnce() async throws {
        let count = try await EventLoopThread.run(clock: VirtualClock()) { _ in
            try await gather([Future<Int>]()).count
        }
        #expect(count == 0)
    }

    @Test func gatherThrowsTheFirstErrorAndLeavesTheOthersRunning() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let failing = loop.createTask { () async throws -> Int in
                try await sleep(.seconds(1))
                throw Boom("a")
            }
            let other = loop.createTask { () async throws -> Int in
                try await sleep(.seconds(2))
                events.append("other done \(loop.now)")
                return 2
            }
            do {
                _ = try await gather([failing, other])
                events.append("gather returned")
            } catch {
                events.append("gather threw \(error) \(loop.now)")
            }
            events.append("other cancelled: \(other.isCancelled)")
            events.append("other result \(try await other.value)")
            return events
        }
        #expect(
            events == [
                "gather threw Boom(a) t=1.0s", "other cancelled: false", "other done t=2.0s", "other result 2",
            ]
        )
    }

    @Test func gatherWithReturnExceptionsReturnsErrorsAndCancellationsAsResults() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let succeeding = loop.createTask { () async throws -> Int in
                try await sleep(.seconds(2))
                return 1
            }
            let failing = loop.createTask { () async throws -> Int in
                try await sleep(.seconds(1))
                throw Boom("b")
            }
            let cancelled = loop.createTask { () async throws -> Int in
                try await sleep(.seconds(10))
                return 3
            }
            loop.callLater(.seconds(1)) { cancelled.cancel(message: "no longer needed") }
            let results = try await gather([succeeding, failing, cancelled], returnExceptions: true)
            return results.map(describe) + [loop.now]
        }
        #expect(events == ["ok(1)", "error(Boom(b))", "error(CancelledError(no longer needed))", "t=2.0s"])
    }

    @Test func gatherWithoutReturnExceptionsThrowsCancelledErrorForACancelledChild() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let child = loop.createTask { try await sleep(.seconds(10)) }
            let sibling = loop.createTask { try await sleep(.seconds(2)) }
            loop.callLater(.seconds(1)) { child.cancel(message: "child") }
            do {
                _ = try await gather([child, sibling])
            } catch {
                events.append("gather threw \(error) \(loop.now)")
            }
            events.append("sibling cancelled: \(sibling.isCancelled)")
            return events
        }
        #expect(events == ["gather threw CancelledError(child) t=1.0s", "sibling cancelled: false"])
    }

    @Test func cancellingTheTaskAwaitingGatherCancelsEveryChild() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let child = { (name: String) -> LoopTask<Int> in
                loop.createTask {
                    do {
                        try await sleep(.seconds(10))
                    } catch {
                        events.append("\(name) got \(error) \(loop.now)")
                        throw error
                    }
                    return 0
                }
            }
            let children = [child("a"), child("b")]
            let gathering = loop.createTask {
                do {
                    _ = try await gather(children)
                } catch {
                    events.append("gather threw \(error)")
                    throw error
                }
            }
            try await sleep(.seconds(1))
            gathering.cancel(message: "stop")
            try? await gathering.value
            events.append("task cancelled: \(gathering.isCancelled), children: \(children.map(\.isCancelled))")
            return events
        }
        #expect(
            events == [
                "a got CancelledError(stop) t=1.0s", "b got CancelledError(stop) t=1.0s",
                "gather threw CancelledError(stop)", "task cancelled: true, children: [true, true]",
            ]
        )
    }
}

extension GatherTests {
    @Test func gatherOfClosuresRunsEachAsATask() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let results = try await gather([
                {
                    try await sleep(.seconds(2))
                    events.append("first done, in a task: \(currentTask()!.name.hasPrefix("Task-"))")
                    return 1
                },
                {
                    try await sleep(.seconds(1))
                    events.append("second done")
                    return 2
                },
            ])
            events.append("gather \(results) \(loop.now)")
            return events
        }
        #expect(events == ["second done", "first done, in a task: true", "gather [1, 2] t=2.0s"])
    }

    @Test func gatherOfClosuresOfMixedTypesReturnsATuple() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let (number, text) = try await gather(
                {
                    try await sleep(.seconds(1))
                    return 7
                },
                { "seven" }
            )
            return ["\(number) \(text) \(loop.now)"]
        }
        #expect(events == ["7 seven t=1.0s"])
    }
}

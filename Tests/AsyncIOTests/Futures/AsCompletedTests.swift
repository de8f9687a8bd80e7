import AsyncIO
import AsyncIOTesting
import Testing

@Suite struct AsCompletedTests {
    @Test func asCompletedYieldsFuturesInCompletionOrder() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let tasks = [3, 1, 2].map { seconds in
                loop.createTask {
                    try await sleep(.seconds(seconds))
                    return seconds
                }
            }
            for try await future in asCompleted(tasks) {
                events.append("\(try future.result()) \(loop.now)")
            }
            return events
        }
        #expect(events == ["1 t=1.0s", "2 t=2.0s", "3 t=3.0s"])
    }

    @Test func futuresDoneBeforeTheIterationComeFirstAndEachOnce() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let done = loop.createFuture(of: String.self)
            try done.setResult("done already")
            let later = loop.createTask {
                try await sleep(.seconds(1))
                return "later"
            }
            var events: [String] = []
            for try await future in asCompleted([later, done, done]) {
                events.append(try future.result())
            }
            return events
        }
        #expect(events == ["done already", "later"])
    }

    @Test func asCompletedThrowsTimeoutAfterYieldingWhatFinishedInTime() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let tasks = [1, 5].map { seconds in
                loop.createTask {
                    try await sleep(.seconds(seconds))
                    return seconds
                }
            }
            let sequence = asCompleted(tasks, timeout: .seconds(2))
            do {
                for try await future in sequence {
                    events.append("\(try future.result()) \(loop.now)")
                }
            } catch {
                events.append("threw \(error) \(loop.now)")
            }
            var iterator = sequence.makeAsyncIterator()
            do {
                _ = try await iterator.next()
            } catch {
                events.append("again \(error)")
            }
            events.append("slow task cancelled: \(tasks[1].isCancelled)")
            return events
        }
        #expect(
            events == ["1 t=1.0s", "threw TimeoutError t=2.0s", "again TimeoutError", "slow task cancelled: false"]
        )
    }
}

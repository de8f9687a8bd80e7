import AsyncIO
import AsyncIOTesting
import Testing

/// State confined to one loop's thread, handed to `@Sendable` callbacks that run there.
final class LoopConfined<Value>: @unchecked Sendable {
    // SAFETY: only read or written by callbacks and tasks running on the loop's thread; the
    // ThreadSafety suite runs under `--sanitize=thread`, which checks exactly this claim.
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// The thread-safe entry points under contention. Run under ThreadSanitizer with
/// `swift test --sanitize=thread --filter ThreadSafety`.
@Suite struct ThreadSafety {
    @Test func callSoonThreadSafeFromTwoThreadsLosesNothingAndKeepsEachThreadsOrder() async throws {
        let perThread = 1_000_000
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let loop = thread.loop
        // Per producer: how many callbacks ran, and whether they ran in the order they were made.
        let counts = LoopConfined([0, 0])
        let inOrder = LoopConfined([true, true])
        async let first: Void = onPlainThread {
            for index in 0..<perThread {
                try loop.callSoonThreadSafe {
                    if counts.value[0] != index { inOrder.value[0] = false }
                    counts.value[0] += 1
                }
            }
        }
        async let second: Void = onPlainThread {
            for index in 0..<perThread {
                try loop.callSoonThreadSafe {
                    if counts.value[1] != index { inOrder.value[1] = false }
                    counts.value[1] += 1
                }
            }
        }
        _ = try await (first, second)
        // Queued after every callback above, so it sees all of them.
        let seen = try await thread.run { _ in "\(counts.value) \(inOrder.value)" }
        #expect(seen == "[\(perThread), \(perThread)] [true, true]")
    }

    @Test func resolversFromManyThreadsEachCompleteTheirFuture() async throws {
        let total = try await EventLoopThread.run { loop in
            let futures = (0..<64).map { _ in loop.createFuture(of: Int.self) }
            let resolvers = futures.map(\.resolver)
            let pool = ThreadPoolExecutor(maxWorkers: 4)
            for (index, resolver) in resolvers.enumerated() {
                try pool.submit { resolver.resolve(.success(index)) }
            }
            var total = 0
            for future in futures { total += try await future.value }
            pool.shutdown(wait: false)
            return total
        }
        #expect(total == (0..<64).reduce(0, +))
    }

    @Test func swiftCancellationOfATaskAwaitingALoopFutureHopsToTheLoop() async throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let handle = ConcurrentFuture<Task<String, Never>>()
        let outcome = try thread.submit { loop in
            // A plain Swift task (not a LoopTask) awaiting a loop Future: cancelled the Swift way.
            let swiftTask = Task { await awaitAFreshFuture(on: loop) }
            handle.complete(.success(swiftTask))
            return await swiftTask.value
        }
        let swiftTask = try await handle.value
        try await onPlainThread { swiftTask.cancel() }
        #expect(try await outcome.value == "CancelledError, future cancelled: true")
    }

    /// Plain Swift tasks isolated to the loop, without it as their executor preference (so their
    /// nonisolated steps run on Swift's global executor), awaiting loop Futures: completed,
    /// cancelled before the task starts, cancelled while it waits. The waiter must still be added
    /// on the loop's thread (`Future.suspend` asserts it; ThreadSanitizer checks it too).
    @Test func plainSwiftTasksOnTheLoopAwaitFuturesOnTheLoopThread() async throws {
        let outcomes = try await EventLoopThread.run { loop in
            var outcomes: [String] = []
            for _ in 0..<50 {
                let future = loop.createFuture(of: Int.self)
                let completed = Task {
                    _ = loop.isRunning
                    return try await future.value
                }
                let cancelledEarly = Task {
                    _ = loop.isRunning
                    return try await loop.createFuture(of: Int.self).value
                }
                cancelledEarly.cancel()
                let cancelledLater = Task {
                    _ = loop.isRunning
                    return try await loop.createFuture(of: Int.self).value
                }
                try await sleep(.milliseconds(1))
                try future.setResult(7)
                cancelledLater.cancel()
                for task in [completed, cancelledEarly, cancelledLater] {
                    switch await task.result {
                    case .success(let value): outcomes.append("\(value)")
                    case .failure(let error): outcomes.append("\(error)")
                    }
                }
            }
            return Set(outcomes)
        }
        #expect(outcomes == ["7", "\(CancelledError())"])
    }

    @Test func submittingFromManyThreadsRunsEveryCoroutine() async throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<100 {
                group.addTask {
                    try await onPlainThread {
                        try thread.submit { _ in
                            try await sleep(.zero)
                            return index
                        }.result(timeout: .seconds(30))
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sum == (0..<100).reduce(0, +))
    }
}

/// Awaits a Future nobody completes and describes how the wait ended.
private func awaitAFreshFuture(on loop: isolated EventLoop) async -> String {
    let future = loop.createFuture(of: Int.self)
    do {
        _ = try await future.value
        return "value"
    } catch {
        return "\(error), future cancelled: \(future.isCancelled)"
    }
}

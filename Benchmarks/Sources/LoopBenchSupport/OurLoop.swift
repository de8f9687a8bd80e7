import AsyncIO
import Glibc

/// The workloads on swift-asyncio's loop, which runs on a thread of its own (`EventLoopThread`).
///
/// Each workload's setup (the loop, its thread, precomputed deadlines) is outside the measured
/// region; each measures on the loop thread itself with `monotonicNanoseconds()`.
public final class OurLoop: Sendable {
    public let thread: EventLoopThread

    public init() throws {
        thread = try EventLoopThread(name: "asyncio-bench")
    }

    public func shutdown() { thread.shutdown() }

    // MARK: - 1. callSoon

    /// `count` callbacks scheduled with `callSoon` from a task on the loop, `batch` at a time; the
    /// task awaits each batch's completion (a Future the batch's last callback completes).
    public func callSoon(count: Int, batch: Int = 1000) async throws -> Sample {
        try await thread.run { loop in
            let counter = LoopOwned(0)
            let start = monotonicNanoseconds()
            var remaining = count
            while remaining > 0 {
                let size = min(batch, remaining)
                let done = loop.createFuture(of: Void.self)
                for _ in 1..<size { loop.callSoon { counter.value &+= 1 } }
                loop.callSoon {
                    counter.value &+= 1
                    try done.setResult(())
                }
                try await done.value
                remaining -= size
            }
            let elapsed = monotonicNanoseconds() - start
            precondition(counter.value == count)
            return Sample(operations: count, nanoseconds: elapsed)
        }
    }

    // MARK: - 2. callSoonThreadSafe

    /// `count` callbacks queued with `callSoonThreadSafe` by a producer thread pinned to
    /// `producerCPU`; measured from the producer's first call to the loop running the last one.
    public func callSoonThreadSafe(count: Int, producerCPU: Int) async throws -> Sample {
        let loop = thread.loop
        // Touch the loop once so that it is surely running before we start the clock.
        _ = try await thread.run { _ in 0 }
        return await withUnsafeContinuation { (continuation: UnsafeContinuation<Sample, Never>) in
            let counter = LoopOwned(0)
            startThread(name: "asyncio-producer") {
                pinCurrentThread(toCPU: producerCPU)
                let start = monotonicNanoseconds()
                for _ in 0..<count {
                    try! loop.callSoonThreadSafe {
                        counter.value &+= 1
                        if counter.value == count {
                            continuation.resume(
                                returning: Sample(operations: count, nanoseconds: monotonicNanoseconds() - start)
                            )
                        }
                    }
                }
            }
        }
    }

    // MARK: - 3. Timers

    /// Schedules one timer per offset (nanoseconds from now) with `callAt` and waits until all fired.
    ///
    /// `blockUntilDue`: block the loop thread until every deadline has passed, then measure how
    /// fast the loop drains them (the firing capacity); otherwise let them fire on time and
    /// measure lateness. Extra: `scheduleRate` (timers/s), `p50`/`p99`/`max` lateness (ns),
    /// `drainRate` (timers/s, when blocking).
    public func timers(offsets: [Int64], blockUntilDue: Bool) async throws -> Sample {
        try await thread.run { loop in
            let count = offsets.count
            let lateness = LoopOwned([Int64](repeating: 0, count: count))
            let fired = LoopOwned(0)
            let done = loop.createFuture(of: Void.self)
            let base = loop.time.nanoseconds
            let start = monotonicNanoseconds()
            for offset in offsets {
                let deadline = base + offset
                loop.callAt(LoopInstant(nanoseconds: deadline)) {
                    let index = fired.value
                    lateness.value[index] = loop.time.nanoseconds - deadline
                    fired.value = index + 1
                    if index + 1 == count { try done.setResult(()) }
                }
            }
            let scheduled = monotonicNanoseconds()
            var drainStart = scheduled
            if blockUntilDue {
                let last = base + (offsets.max() ?? 0)
                while loop.time.nanoseconds <= last { usleep(1000) }
                drainStart = monotonicNanoseconds()
            }
            try await done.value
            let end = monotonicNanoseconds()
            var extra: [String: Double] = ["scheduleRate": Double(count) / (Double(scheduled - start) / 1e9)]
            if blockUntilDue {
                extra["drainRate"] = Double(count) / (Double(end - drainStart) / 1e9)
            } else {
                extra["p50"] = Double(percentile(&lateness.value, 50))
                extra["p99"] = Double(percentile(&lateness.value, 99))
                extra["max"] = Double(lateness.value.last ?? 0)
            }
            return Sample(operations: count, nanoseconds: scheduled - start, extra: extra)
        }
    }

    // MARK: - 4. Ping-pong through Futures

    /// Two LoopTasks hand the turn to each other `rounds` times through Futures (`setResult`, then
    /// `await value`); one operation is a round trip (two task switches).
    public func pingPong(rounds: Int) async throws -> Sample {
        try await thread.run { loop in
            let ping = LoopOwned(loop.createFuture(of: Void.self))
            let pong = LoopOwned(loop.createFuture(of: Void.self))
            let start = monotonicNanoseconds()
            let b = loop.createTask {
                for _ in 0..<rounds {
                    try await ping.value.value
                    ping.value = loop.createFuture(of: Void.self)
                    try pong.value.setResult(())
                }
            }
            let a = loop.createTask {
                for _ in 0..<rounds {
                    let next = loop.createFuture(of: Void.self)
                    pong.value = next
                    try ping.value.setResult(())
                    try await next.value
                }
            }
            try await a.value
            try await b.value
            return Sample(operations: rounds, nanoseconds: monotonicNanoseconds() - start)
        }
    }

    // MARK: - 4b. A stream read woken by data

    /// A LoopTask reads a `StreamReader` (64 KiB at a time) that a chain of `callSoon` callbacks
    /// feeds 64 bytes at a time; one operation is a feed and the read it wakes: the suspension and
    /// resumption a streams server pays per message, without the sockets.
    public func streamReadWake(count: Int) async throws -> Sample {
        try await thread.run { loop in
            let reader = StreamReader()
            let chunk = [UInt8](repeating: 7, count: 64)
            var left = count
            func feed(_ loop: isolated EventLoop) {
                guard left > 0 else { return reader.feedEOF() }
                left -= 1
                try! reader.feedData(chunk.span)
                loop.callSoon { feed(loop) }
            }
            let start = monotonicNanoseconds()
            let task = loop.createTask {
                var total = 0
                while true {
                    let data = try await reader.read(65_536)
                    if data.isEmpty { return total }
                    total += data.count
                }
            }
            loop.callSoon { feed(loop) }
            let total = try await task.value
            precondition(total == count * chunk.count, "the reader lost bytes")
            return Sample(operations: count, nanoseconds: monotonicNanoseconds() - start)
        }
    }

    // MARK: - 5. Create and await tasks

    /// `count` times: `createTask { i }` then `await task.value`, from a task on the loop.
    public func createAndAwaitTasks(count: Int) async throws -> Sample {
        try await thread.run { loop in
            var sum = 0
            let start = monotonicNanoseconds()
            for index in 0..<count {
                let task = loop.createTask { index }
                sum &+= try await task.value
            }
            let elapsed = monotonicNanoseconds() - start
            precondition(sum == count * (count - 1) / 2)
            return Sample(operations: count, nanoseconds: elapsed)
        }
    }

    // MARK: - 6. Memory per suspended task

    /// Starts `count` LoopTasks that each await one never-completed Future, then reports the growth
    /// of RSS and of malloc's in-use bytes per task (`rssPerTask`, `heapPerTask`); then cancels the
    /// Future and awaits every task.
    public func suspendedTaskMemory(count: Int) async throws -> Sample {
        try await thread.run { loop in
            let never = loop.createFuture(of: Void.self)
            var tasks: [LoopTask<Void>] = []
            tasks.reserveCapacity(count)
            trimHeap()
            let rssBefore = residentBytes()
            let heapBefore = heapInUseBytes()
            let start = monotonicNanoseconds()
            for _ in 0..<count {
                // The body captures `loop` so that it is isolated to the loop. A body that does not
                // (a nonisolated closure in this module, which lacks NonisolatedNonsendingByDefault)
                // never completes once `never` is cancelled: a core bug, reported separately.
                tasks.append(
                    loop.createTask {
                        _ = loop
                        try await never.value
                    }
                )
            }
            // Two turns of the loop: every task starts and suspends on `never`.
            try await sleep(.zero)
            try await sleep(.zero)
            let elapsed = monotonicNanoseconds() - start
            let rss = Double(residentBytes() - rssBefore) / Double(count)
            let heap = Double(heapInUseBytes() - heapBefore) / Double(count)
            never.cancel()
            for task in tasks { _ = try? await task.value }
            return Sample(operations: count, nanoseconds: elapsed, extra: ["rssPerTask": rss, "heapPerTask": heap])
        }
    }
}

extension OurLoop {
    /// Plain Swift tasks with this loop as executor preference, each suspended on a continuation:
    /// the part of a suspended LoopTask's memory that is Swift's own task on our loop.
    public func suspendedSwiftTaskMemory(count: Int) async -> Sample {
        let parked = ParkedContinuations()
        trimHeap()
        let rssBefore = residentBytes()
        let heapBefore = heapInUseBytes()
        let start = monotonicNanoseconds()
        var tasks: [Task<Void, Never>] = []
        tasks.reserveCapacity(count)
        for _ in 0..<count {
            tasks.append(
                Task(executorPreference: thread.loop.taskExecutor) {
                    await withUnsafeContinuation { parked.add($0) }
                }
            )
        }
        while parked.count < count { try? await Task.sleep(for: .milliseconds(1)) }
        let elapsed = monotonicNanoseconds() - start
        let rss = Double(residentBytes() - rssBefore) / Double(count)
        let heap = Double(heapInUseBytes() - heapBefore) / Double(count)
        parked.resumeAll()
        for task in tasks { await task.value }
        return Sample(operations: count, nanoseconds: elapsed, extra: ["rssPerTask": rss, "heapPerTask": heap])
    }
}

extension OurLoop {
    /// LoopTasks suspended on a bare continuation instead of a Future: with
    /// `suspendedTaskMemory`, it separates the cost of the task from that of awaiting a Future.
    public func suspendedLoopTaskOnContinuationMemory(count: Int) async throws -> Sample {
        let parked = ParkedContinuations()
        let sample = try await thread.run { loop in
            var tasks: [LoopTask<Void>] = []
            tasks.reserveCapacity(count)
            trimHeap()
            let heapBefore = heapInUseBytes()
            for _ in 0..<count {
                tasks.append(
                    loop.createTask {
                        _ = loop
                        await withUnsafeContinuation { parked.add($0) }
                    }
                )
            }
            try await sleep(.zero)
            try await sleep(.zero)
            let heap = Double(heapInUseBytes() - heapBefore) / Double(count)
            parked.resumeAll()
            for task in tasks { _ = try? await task.value }
            return Sample(operations: count, nanoseconds: 1, extra: ["heapPerTask": heap])
        }
        return sample
    }
}

/// A task-local, for the memory experiment below (LoopTask does not use one).
final class BenchLocalValue: Sendable {}
enum BenchLocal {
    @TaskLocal static var value: BenchLocalValue?
}

extension OurLoop {
    /// Swift tasks on our loop, named (as createTask names them) and, if `bindTaskLocal`, inside a
    /// task-local binding (as `LoopTask.drive` binds its state): which part of a LoopTask's memory
    /// these two account for.
    public func suspendedNamedSwiftTaskMemory(count: Int, bindTaskLocal: Bool) async -> Sample {
        let parked = ParkedContinuations()
        trimHeap()
        let heapBefore = heapInUseBytes()
        var tasks: [Task<Void, Never>] = []
        tasks.reserveCapacity(count)
        for index in 0..<count {
            tasks.append(
                Task(name: "Task-\(index)", executorPreference: thread.loop.taskExecutor) {
                    if bindTaskLocal {
                        await BenchLocal.$value.withValue(BenchLocalValue()) {
                            await withUnsafeContinuation { parked.add($0) }
                        }
                    } else {
                        await withUnsafeContinuation { parked.add($0) }
                    }
                }
            )
        }
        while parked.count < count { try? await Task.sleep(for: .milliseconds(1)) }
        let heap = Double(heapInUseBytes() - heapBefore) / Double(count)
        parked.resumeAll()
        for task in tasks { await task.value }
        return Sample(operations: count, nanoseconds: 1, extra: ["heapPerTask": heap])
    }
}

import Glibc
import NIOCore
import NIOPosix
import Synchronization

/// The same workloads on SwiftNIO: one `SelectableEventLoop` (a `MultiThreadedEventLoopGroup` of one
/// thread), driven the way NIO code drives it: `execute`, `scheduleTask`, promises.
///
/// Swift tasks on NIO use the most favourable setup NIO 2.101 allows: NIO's `SelectableEventLoop`
/// is a `SerialExecutor` but not a `TaskExecutor`, so the tasks are isolated to an actor whose
/// executor is the event loop (`eventLoop.executor`), and wait for futures with `whenComplete` +
/// a continuation, which keeps them on the loop (NIO's `future.get()` is a plain nonisolated async
/// function, so it leaves the loop for the global executor and comes back: `pingPongGet` measures
/// that idiom too).
public final class NIOLoop: Sendable {
    public let group: MultiThreadedEventLoopGroup
    public let eventLoop: any EventLoop

    public init() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        eventLoop = group.next()
    }

    public func shutdown() { try? group.syncShutdownGracefully() }

    // MARK: - 1. execute, from the loop itself

    /// `count` closures queued with `execute` from the loop thread, `batch` at a time; the batch's
    /// last closure queues the next batch.
    public func execute(count: Int, batch: Int = 1000) async throws -> Sample {
        let eventLoop = self.eventLoop
        let promise = eventLoop.makePromise(of: Sample.self)
        eventLoop.execute {
            let counter = LoopOwned(0)
            let start = monotonicNanoseconds()
            let remaining = LoopOwned(count)
            let runBatch = LoopOwned<(() -> Void)?>(nil)
            runBatch.value = {
                let size = min(batch, remaining.value)
                remaining.value -= size
                for _ in 1..<size { eventLoop.execute { counter.value &+= 1 } }
                eventLoop.execute {
                    counter.value &+= 1
                    if remaining.value > 0 {
                        runBatch.value!()
                    } else {
                        runBatch.value = nil
                        promise.succeed(Sample(operations: count, nanoseconds: monotonicNanoseconds() - start))
                    }
                }
            }
            runBatch.value!()
        }
        return try await promise.futureResult.get()
    }

    // MARK: - 2. execute from another thread

    /// `count` closures queued with `execute` by a producer thread pinned to `producerCPU`.
    public func executeFromOtherThread(count: Int, producerCPU: Int) async throws -> Sample {
        let eventLoop = self.eventLoop
        try await eventLoop.submit {}.get()
        return await withUnsafeContinuation { (continuation: UnsafeContinuation<Sample, Never>) in
            let counter = LoopOwned(0)
            startThread(name: "nio-producer") {
                pinCurrentThread(toCPU: producerCPU)
                let start = monotonicNanoseconds()
                for _ in 0..<count {
                    eventLoop.execute {
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

    /// `scheduleTask(deadline:)` per offset, from the loop; see `OurLoop.timers` for the figures.
    public func timers(offsets: [Int64], blockUntilDue: Bool) async throws -> Sample {
        let eventLoop = self.eventLoop
        let promise = eventLoop.makePromise(of: Sample.self)
        eventLoop.execute {
            let count = offsets.count
            let lateness = LoopOwned([Int64](repeating: 0, count: count))
            let fired = LoopOwned(0)
            let base = Int64(NIODeadline.now().uptimeNanoseconds)
            let start = monotonicNanoseconds()
            let scheduledAt = LoopOwned(Int64(0))
            let drainStart = LoopOwned(Int64(0))
            for offset in offsets {
                let deadline = base + offset
                eventLoop.scheduleTask(deadline: .uptimeNanoseconds(UInt64(deadline))) {
                    let index = fired.value
                    lateness.value[index] = Int64(NIODeadline.now().uptimeNanoseconds) - deadline
                    fired.value = index + 1
                    guard index + 1 == count else { return }
                    let end = monotonicNanoseconds()
                    let scheduled = scheduledAt.value
                    var extra: [String: Double] = [
                        "scheduleRate": Double(count) / (Double(scheduled - start) / 1e9)
                    ]
                    if blockUntilDue {
                        extra["drainRate"] = Double(count) / (Double(end - drainStart.value) / 1e9)
                    } else {
                        extra["p50"] = Double(percentile(&lateness.value, 50))
                        extra["p99"] = Double(percentile(&lateness.value, 99))
                        extra["max"] = Double(lateness.value.last ?? 0)
                    }
                    promise.succeed(Sample(operations: count, nanoseconds: scheduled - start, extra: extra))
                }
            }
            scheduledAt.value = monotonicNanoseconds()
            if blockUntilDue {
                let last = base + (offsets.max() ?? 0)
                while Int64(NIODeadline.now().uptimeNanoseconds) <= last { usleep(1000) }
            }
            drainStart.value = monotonicNanoseconds()
        }
        return try await promise.futureResult.get()
    }

    // MARK: - 4. Ping-pong through promises

    /// Two Swift tasks isolated to an actor on the event loop hand the turn to each other through
    /// promises (`succeed`, then wait on `futureResult` via `whenComplete` + continuation).
    public func pingPong(rounds: Int) async throws -> Sample {
        let players = NIOPlayers(eventLoop: eventLoop)
        return await players.play(rounds: rounds, useGet: false)
    }

    /// The same ping-pong, waiting with NIO's `future.get()` (leaves the loop at each wait).
    public func pingPongGet(rounds: Int) async throws -> Sample {
        let players = NIOPlayers(eventLoop: eventLoop)
        return await players.play(rounds: rounds, useGet: true)
    }

    /// The ping-pong without Swift tasks: two chains of `whenComplete` callbacks handing the turn
    /// to each other through fresh promises, each turn going once through the loop's queue
    /// (`execute`), as a task switch does. NIO's promise machinery alone, without Swift tasks.
    public func pingPongCallbacks(rounds: Int) async throws -> Sample {
        let eventLoop = self.eventLoop
        let finished = eventLoop.makePromise(of: Sample.self)
        eventLoop.execute {
            let start = monotonicNanoseconds()
            let round = LoopOwned(0)
            let ping = LoopOwned(eventLoop.makePromise(of: Void.self))
            let pong = LoopOwned(eventLoop.makePromise(of: Void.self))
            let playerB = LoopOwned<(() -> Void)?>(nil)
            let playerA = LoopOwned<(() -> Void)?>(nil)
            // B waits for ping, then answers with pong; A sends ping and waits for pong.
            playerB.value = {
                ping.value.futureResult.whenComplete { _ in
                    eventLoop.execute {
                        ping.value = eventLoop.makePromise()
                        let answer = pong.value
                        playerB.value?()
                        answer.succeed(())
                    }
                }
            }
            playerA.value = {
                guard round.value < rounds else {
                    playerA.value = nil
                    playerB.value = nil
                    finished.succeed(Sample(operations: rounds, nanoseconds: monotonicNanoseconds() - start))
                    return
                }
                round.value += 1
                let next = eventLoop.makePromise(of: Void.self)
                pong.value = next
                next.futureResult.whenComplete { _ in eventLoop.execute { playerA.value?() } }
                ping.value.succeed(())
            }
            playerB.value!()
            playerA.value!()
        }
        return try await finished.futureResult.get()
    }

    // MARK: - 5. Create and await tasks

    /// `count` times: a Swift `Task` isolated to the event loop's actor, then `await task.value`.
    public func createAndAwaitTasks(count: Int) async throws -> Sample {
        let players = NIOPlayers(eventLoop: eventLoop)
        return await players.createAndAwait(count: count)
    }
}

/// An actor whose executor is a NIO event loop: code isolated to it runs on the loop thread.
actor NIOPlayers {
    let eventLoop: any EventLoop
    private var ping: EventLoopPromise<Void>
    private var pong: EventLoopPromise<Void>

    nonisolated var unownedExecutor: UnownedSerialExecutor { eventLoop.executor.asUnownedSerialExecutor() }

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        ping = eventLoop.makePromise()
        pong = eventLoop.makePromise()
    }

    private func wait(_ future: EventLoopFuture<Void>, useGet: Bool) async {
        if useGet {
            try! await future.get()
        } else {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                future.whenComplete { _ in continuation.resume() }
            }
        }
    }

    func play(rounds: Int, useGet: Bool) async -> Sample {
        let start = monotonicNanoseconds()
        let b = Task {
            for _ in 0..<rounds {
                await self.wait(self.ping.futureResult, useGet: useGet)
                self.ping = self.eventLoop.makePromise()
                self.pong.succeed(())
            }
        }
        let a = Task {
            for _ in 0..<rounds {
                let next = self.eventLoop.makePromise(of: Void.self)
                self.pong = next
                self.ping.succeed(())
                await self.wait(next.futureResult, useGet: useGet)
            }
        }
        await a.value
        await b.value
        return Sample(operations: rounds, nanoseconds: monotonicNanoseconds() - start)
    }

    private func identity(_ value: Int) -> Int { value }

    func createAndAwait(count: Int) async -> Sample {
        var sum = 0
        let start = monotonicNanoseconds()
        for index in 0..<count {
            let task = Task { self.identity(index) }
            sum &+= await task.value
        }
        let elapsed = monotonicNanoseconds() - start
        precondition(sum == count * (count - 1) / 2)
        return Sample(operations: count, nanoseconds: elapsed)
    }
}

// MARK: - Plain Swift tasks (reference)

/// Swift's own tasks on the global executor, for reference.
public enum SwiftTasks {
    /// Starts `count` tasks that each suspend on a continuation nobody resumes (until the end), and
    /// reports RSS and heap growth per task, as `OurLoop.suspendedTaskMemory` does.
    public static func suspendedTaskMemory(count: Int) async -> Sample {
        let parked = ParkedContinuations()
        trimHeap()
        let rssBefore = residentBytes()
        let heapBefore = heapInUseBytes()
        let start = monotonicNanoseconds()
        var tasks: [Task<Void, Never>] = []
        tasks.reserveCapacity(count)
        for _ in 0..<count {
            tasks.append(Task.detached { await withUnsafeContinuation { parked.add($0) } })
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

final class ParkedContinuations: Sendable {
    private let continuations = Mutex<[UnsafeContinuation<Void, Never>]>([])

    func add(_ continuation: UnsafeContinuation<Void, Never>) {
        continuations.withLock { $0.append(continuation) }
    }

    var count: Int { continuations.withLock { $0.count } }

    func resumeAll() {
        let all = continuations.withLock { list in
            defer { list = [] }
            return list
        }
        for continuation in all { continuation.resume() }
    }
}

// ordo-one benchmarks of the loop core, ours beside SwiftNIO's: `swift package benchmark`.
//
// Each pair has the same name with `ours` / `NIO` at the end, so `swift package benchmark` lists
// them together. The workloads are those of `loop-compare` (LoopBenchSupport); the loops are made
// once, each on a thread of its own, outside every measured region. Throughput is per operation
// (callback, timer, round trip, task): `mallocCountTotal` per operation is the allocation count
// that profiling starts from.
import Benchmark
import LoopBenchSupport

/// The loops, started on first use and shared by every benchmark of the suite.
let ours = try! OurLoop()
let nio = NIOLoop()

/// Deadlines uniform over a 2 s window starting 0.2 s out.
let offsets = timerOffsets(count: 1_000_000, start: 200_000_000, window: 2_000_000_000)

let benchmarks: @Sendable () -> Void = {
    let rateMetrics: [BenchmarkMetric] = [.wallClock, .throughput, .cpuTotal, .mallocCountTotal]
    let fast = Benchmark.Configuration(
        metrics: rateMetrics,
        scalingFactor: .mega,
        maxDuration: .seconds(5),
        maxIterations: 10
    )
    let perRoundTrip = Benchmark.Configuration(
        metrics: rateMetrics,
        scalingFactor: .kilo,
        maxDuration: .seconds(5),
        maxIterations: 20
    )

    // MARK: - 1. Callbacks from the loop

    Benchmark("callbacks from the loop, ours: callSoon", configuration: fast) { benchmark in
        _ = try await ours.callSoon(count: benchmark.scaledIterations.count)
    }
    Benchmark("callbacks from the loop, NIO: execute", configuration: fast) { benchmark in
        _ = try await nio.execute(count: benchmark.scaledIterations.count)
    }

    // MARK: - 2. Callbacks from another thread (the producer pins itself to CPU 1)

    Benchmark("callbacks cross-thread, ours: callSoonThreadSafe", configuration: fast) { benchmark in
        _ = try await ours.callSoonThreadSafe(count: benchmark.scaledIterations.count, producerCPU: 1)
    }
    Benchmark("callbacks cross-thread, NIO: execute", configuration: fast) { benchmark in
        _ = try await nio.executeFromOtherThread(count: benchmark.scaledIterations.count, producerCPU: 1)
    }

    // MARK: - 3. Timers: wall clock = scheduling 1M; lateness and drain as custom metrics

    let p99 = BenchmarkMetric.custom("p99 lateness (µs)", useScalingFactor: false)
    let drain = BenchmarkMetric.custom("drain rate (k/s)", polarity: .prefersLarger, useScalingFactor: false)
    let timers = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, p99],
        timeUnits: .milliseconds,
        maxDuration: .seconds(10),
        maxIterations: 3
    )
    let draining = Benchmark.Configuration(
        metrics: [drain],
        maxDuration: .seconds(10),
        maxIterations: 3
    )

    Benchmark("1M timers over 2 s, ours: callAt", configuration: timers) { benchmark in
        let sample = try await ours.timers(offsets: offsets, blockUntilDue: false)
        benchmark.measurement(p99, Int(sample.extra["p99"]! / 1000))
    }
    Benchmark("1M timers over 2 s, NIO: scheduleTask", configuration: timers) { benchmark in
        let sample = try await nio.timers(offsets: offsets, blockUntilDue: false)
        benchmark.measurement(p99, Int(sample.extra["p99"]! / 1000))
    }
    Benchmark("1M timers all due, drain, ours: callAt", configuration: draining) { benchmark in
        let sample = try await ours.timers(offsets: offsets, blockUntilDue: true)
        benchmark.measurement(drain, Int(sample.extra["drainRate"]! / 1000))
    }
    Benchmark("1M timers all due, drain, NIO: scheduleTask", configuration: draining) { benchmark in
        let sample = try await nio.timers(offsets: offsets, blockUntilDue: true)
        benchmark.measurement(drain, Int(sample.extra["drainRate"]! / 1000))
    }

    // MARK: - 4. Ping-pong through a Future (one operation = a round trip)

    Benchmark("ping-pong, ours: Future.setResult / await value", configuration: perRoundTrip) { benchmark in
        _ = try await ours.pingPong(rounds: benchmark.scaledIterations.count)
    }
    Benchmark("ping-pong, NIO: promise.succeed / whenComplete on an actor on the loop", configuration: perRoundTrip) {
        benchmark in
        _ = try await nio.pingPong(rounds: benchmark.scaledIterations.count)
    }

    // MARK: - 5. Create and await tasks

    Benchmark("create+await task, ours: createTask", configuration: perRoundTrip) { benchmark in
        _ = try await ours.createAndAwaitTasks(count: benchmark.scaledIterations.count)
    }
    Benchmark("create+await task, NIO: Task on an actor on the loop", configuration: perRoundTrip) { benchmark in
        _ = try await nio.createAndAwaitTasks(count: benchmark.scaledIterations.count)
    }

    // MARK: - 6. Memory per suspended task

    let heapPerTask = BenchmarkMetric.custom("malloc'd bytes per suspended task", useScalingFactor: false)
    let rssPerTask = BenchmarkMetric.custom("RSS bytes per suspended task", useScalingFactor: false)
    let memory = Benchmark.Configuration(
        metrics: [heapPerTask, rssPerTask, .peakMemoryResident],
        maxDuration: .seconds(10),
        maxIterations: 3
    )
    Benchmark("suspended tasks (100k), ours: LoopTask awaiting a Future", configuration: memory) { benchmark in
        let sample = try await ours.suspendedTaskMemory(count: 100_000)
        benchmark.measurement(heapPerTask, Int(sample.extra["heapPerTask"]!))
        benchmark.measurement(rssPerTask, Int(sample.extra["rssPerTask"]!))
    }
    Benchmark("suspended tasks (100k), Swift: Task awaiting a continuation", configuration: memory) { benchmark in
        let sample = await SwiftTasks.suspendedTaskMemory(count: 100_000)
        benchmark.measurement(heapPerTask, Int(sample.extra["heapPerTask"]!))
        benchmark.measurement(rssPerTask, Int(sample.extra["rssPerTask"]!))
    }
}

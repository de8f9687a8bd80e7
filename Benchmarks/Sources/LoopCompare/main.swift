// loop-compare: swift-asyncio's loop core against SwiftNIO's, each pair back to back (ours, NIO,
// ours, NIO, ...), medians of the rounds, printed as one markdown table with ratios.
//
//   cd Benchmarks && swift build -c release --product loop-compare
//   taskset -c 0 .build/release/loop-compare            # both loops on CPU 0
//
// Options: --rounds N (5), --only NAME[,NAME] (callSoon, crossThread, timers, drain, pingPong, streamRead,
// tasks, memory), --scale F (multiplies every count; 0.1 for a quick look), --producer-cpu N (1),
// --side ours|nio (run one side only, for a profiler).
// The cross-thread producer pins itself to --producer-cpu with sched_setaffinity, so under
// `taskset -c 0` the loops run on CPU 0 and the producer on CPU 1.
import Foundation
import LoopBenchSupport

struct Options {
    var rounds = 5
    var only: Set<String>? = nil
    var scale = 1.0
    var producerCPU = 1
    /// "ours" or "nio": run one side only (for profiling); the table then shows NaN for the other.
    var side: String? = nil

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--rounds": rounds = Int(iterator.next() ?? "") ?? rounds
            case "--only": only = Set((iterator.next() ?? "").split(separator: ",").map(String.init))
            case "--scale": scale = Double(iterator.next() ?? "") ?? scale
            case "--producer-cpu": producerCPU = Int(iterator.next() ?? "") ?? producerCPU
            case "--side": side = iterator.next()
            default:
                print("unknown option \(argument)")
                exit(2)
            }
        }
    }

    func wants(_ name: String) -> Bool { only?.contains(name) ?? true }
    func count(_ base: Int) -> Int { max(1, Int(Double(base) * scale)) }
}

/// One line of the table: a figure for ours and for NIO (or Swift), the medians and the target.
struct Row {
    var name: String
    var unit: String
    var ours: [Double] = []
    var theirs: [Double] = []
    var theirsName: String
    /// Higher is better (rates) or lower (latency, memory).
    var higherIsBetter = true
    var target: String
    /// Given the medians (ours, theirs), whether the target is met; nil if it has none.
    var check: ((Double, Double) -> Bool)?

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

func format(_ value: Double, _ unit: String) -> String {
    if value.isNaN { return "—" }
    switch unit {
    case "M/s": return String(format: "%.2f M/s", value / 1e6)
    case "µs": return String(format: "%.1f µs", value / 1e3)
    case "B": return String(format: "%.0f B", value)
    default: return String(format: "%.3g %@", value, unit)
    }
}

extension Sample {
    /// The stand-in for the side `--side` leaves out.
    static let skipped = Sample(
        operations: 0,
        nanoseconds: 1,
        extra: Dictionary(
            uniqueKeysWithValues: ["scheduleRate", "drainRate", "p50", "p99", "max", "rssPerTask", "heapPerTask"]
                .map { ($0, Double.nan) }
        )
    )
}

let options = Options(CommandLine.arguments)
let ours = try OurLoop()
let nio = NIOLoop()
var rows: [Row] = []

func log(_ text: String) {
    FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
}

/// Runs `body(round)` `options.rounds` times (after one small warm-up round, `body(-1)`).
func rounds(_ name: String, _ body: (Int) async throws -> Void) async throws {
    log("\(name): warm-up")
    try await body(-1)
    for round in 0..<options.rounds {
        log("\(name): round \(round + 1)/\(options.rounds)")
        try await body(round)
    }
}

// MARK: - 1. callSoon vs execute

if options.wants("callSoon") {
    var row = Row(
        name: "callbacks from the loop: `callSoon` vs `execute`",
        unit: "M/s",
        theirsName: "NIO",
        target: "≥ 1.5×",
        check: { $0 >= 1.5 * $1 }
    )
    let count = options.count(2_000_000)
    try await rounds("callSoon") { round in
        let n = round < 0 ? count / 10 : count
        let a = options.side == "nio" ? .skipped : try await ours.callSoon(count: n)
        let b = options.side == "ours" ? .skipped : try await nio.execute(count: n)
        if round >= 0 {
            row.ours.append(a.rate)
            row.theirs.append(b.rate)
        }
    }
    rows.append(row)
}

// MARK: - 2. cross-thread

if options.wants("crossThread") {
    var row = Row(
        name: "callbacks from another thread: `callSoonThreadSafe` vs `execute`",
        unit: "M/s",
        theirsName: "NIO",
        target: "≥ 1.5×",
        check: { $0 >= 1.5 * $1 }
    )
    let count = options.count(1_000_000)
    try await rounds("crossThread") { round in
        let n = round < 0 ? count / 10 : count
        let a =
            options.side == "nio"
            ? .skipped : try await ours.callSoonThreadSafe(count: n, producerCPU: options.producerCPU)
        let b =
            options.side == "ours"
            ? .skipped : try await nio.executeFromOtherThread(count: n, producerCPU: options.producerCPU)
        if round >= 0 {
            row.ours.append(a.rate)
            row.theirs.append(b.rate)
        }
    }
    rows.append(row)
}

// MARK: - 3. timers

let timerCount = options.count(1_000_000)
// Deadlines uniform over a 2 s window starting 0.2 s out, the same for both loops.
let offsets = timerOffsets(count: timerCount, start: 200_000_000, window: 2_000_000_000)

if options.wants("timers") {
    var schedule = Row(
        name: "1M timers: scheduling (`callAt` vs `scheduleTask`)",
        unit: "M/s",
        theirsName: "NIO",
        target: "≥ 4×",
        check: { $0 >= 4 * $1 }
    )
    var p99 = Row(
        name: "1M timers over 2 s: p99 lateness",
        unit: "µs",
        theirsName: "NIO",
        higherIsBetter: false,
        target: "< 1 ms",
        check: { ours, _ in ours < 1_000_000 }
    )
    var p50 = Row(
        name: "1M timers over 2 s: median lateness",
        unit: "µs",
        theirsName: "NIO",
        higherIsBetter: false,
        target: ""
    )
    try await rounds("timers") { round in
        let use = round < 0 ? Array(offsets.prefix(timerCount / 100)) : offsets
        let a = options.side == "nio" ? .skipped : try await ours.timers(offsets: use, blockUntilDue: false)
        let b = options.side == "ours" ? .skipped : try await nio.timers(offsets: use, blockUntilDue: false)
        if round >= 0 {
            schedule.ours.append(a.extra["scheduleRate"]!)
            schedule.theirs.append(b.extra["scheduleRate"]!)
            p99.ours.append(a.extra["p99"]!)
            p99.theirs.append(b.extra["p99"]!)
            p50.ours.append(a.extra["p50"]!)
            p50.theirs.append(b.extra["p50"]!)
        }
    }
    rows += [schedule, p99, p50]
}

if options.wants("drain") {
    var drain = Row(
        name: "1M timers all due: firing (drain) rate",
        unit: "M/s",
        theirsName: "NIO",
        target: "≥ 1.8 M/s",
        check: { ours, _ in ours >= 1_800_000 }
    )
    try await rounds("drain") { round in
        let use = round < 0 ? Array(offsets.prefix(timerCount / 100)) : offsets
        let a = options.side == "nio" ? .skipped : try await ours.timers(offsets: use, blockUntilDue: true)
        let b = options.side == "ours" ? .skipped : try await nio.timers(offsets: use, blockUntilDue: true)
        if round >= 0 {
            drain.ours.append(a.extra["drainRate"]!)
            drain.theirs.append(b.extra["drainRate"]!)
        }
    }
    rows.append(drain)
}

// MARK: - 4. ping-pong

if options.wants("pingPong") {
    var row = Row(
        name: "ping-pong through a Future (round trips = 2 switches)",
        unit: "M/s",
        theirsName: "NIO",
        target: "≥ 1.5×",
        check: { $0 >= 1.5 * $1 }
    )
    var viaGet = Row(
        name: "ping-pong, NIO waiting with `future.get()`",
        unit: "M/s",
        theirsName: "NIO get()",
        target: ""
    )
    var callbacksOnly = Row(
        name: "ping-pong, NIO with callbacks only (no tasks: its promise machinery alone)",
        unit: "M/s",
        theirsName: "NIO callbacks",
        target: ""
    )
    let count = options.count(500_000)
    try await rounds("pingPong") { round in
        let n = round < 0 ? count / 10 : count
        let a = options.side == "nio" ? .skipped : try await ours.pingPong(rounds: n)
        let b = options.side == "ours" ? .skipped : try await nio.pingPong(rounds: n)
        let c = options.side == "ours" ? .skipped : try await nio.pingPongGet(rounds: max(1, n / 5))
        let d = options.side == "ours" ? .skipped : try await nio.pingPongCallbacks(rounds: n)
        if round >= 0 {
            row.ours.append(a.rate)
            row.theirs.append(b.rate)
            viaGet.ours.append(a.rate)
            viaGet.theirs.append(c.rate)
            callbacksOnly.ours.append(a.rate)
            callbacksOnly.theirs.append(d.rate)
        }
    }
    rows += [row, viaGet, callbacksOnly]
}

// MARK: - 4b. a stream read woken by data (ours only: NIO has no stream reader a task awaits)

if options.wants("streamRead") {
    var row = Row(
        name: "stream read woken by data (`feedData` + `read`, ours only)",
        unit: "M/s",
        theirsName: "",
        target: ""
    )
    let count = options.count(1_000_000)
    try await rounds("streamRead") { round in
        let n = round < 0 ? count / 10 : count
        let a = options.side == "nio" ? .skipped : try await ours.streamReadWake(count: n)
        if round >= 0 { row.ours.append(a.rate) }
    }
    rows.append(row)
}

// MARK: - 5. tasks

if options.wants("tasks") {
    var row = Row(
        name: "create + await a task (`createTask` vs `Task` on NIO's loop)",
        unit: "M/s",
        theirsName: "NIO",
        target: ""
    )
    let count = options.count(1_000_000)
    try await rounds("tasks") { round in
        let n = round < 0 ? count / 10 : count
        let a = options.side == "nio" ? .skipped : try await ours.createAndAwaitTasks(count: n)
        let b = options.side == "ours" ? .skipped : try await nio.createAndAwaitTasks(count: n)
        if round >= 0 {
            row.ours.append(a.rate)
            row.theirs.append(b.rate)
        }
    }
    rows.append(row)
}

// MARK: - 6. memory

if options.wants("memory") {
    var rss = Row(
        name: "RSS per suspended task (LoopTask vs plain Swift task)",
        unit: "B",
        theirsName: "Swift",
        higherIsBetter: false,
        target: "report"
    )
    var heap = Row(
        name: "malloc'd bytes per suspended task (LoopTask vs plain Swift task)",
        unit: "B",
        theirsName: "Swift",
        higherIsBetter: false,
        target: "report"
    )
    var onLoop = Row(
        name: "malloc'd bytes per suspended task (LoopTask vs Swift task preferring our loop)",
        unit: "B",
        theirsName: "Swift on our loop",
        higherIsBetter: false,
        target: "report"
    )
    let count = options.count(100_000)
    try await rounds("memory") { round in
        let a = options.side == "nio" ? .skipped : try await ours.suspendedTaskMemory(count: count)
        let b = options.side == "ours" ? .skipped : await SwiftTasks.suspendedTaskMemory(count: count)
        let c = options.side == "ours" ? .skipped : await ours.suspendedSwiftTaskMemory(count: count)
        if round >= 0 {
            rss.ours.append(a.extra["rssPerTask"]!)
            rss.theirs.append(b.extra["rssPerTask"]!)
            heap.ours.append(a.extra["heapPerTask"]!)
            heap.theirs.append(b.extra["heapPerTask"]!)
            onLoop.ours.append(a.extra["heapPerTask"]!)
            onLoop.theirs.append(c.extra["heapPerTask"]!)
        }
    }
    if options.side == nil {
        var bare = Row(
            name: "malloc'd bytes per suspended LoopTask: awaiting a Future vs on a bare continuation",
            unit: "B",
            theirsName: "LoopTask, continuation",
            higherIsBetter: false,
            target: "report"
        )
        let a = try await ours.suspendedTaskMemory(count: count)
        let b = try await ours.suspendedLoopTaskOnContinuationMemory(count: count)
        bare.ours.append(a.extra["heapPerTask"]!)
        bare.theirs.append(b.extra["heapPerTask"]!)
        rows.append(bare)
        var named = Row(
            name: "malloc'd bytes per suspended Swift task on our loop: named vs named + task-local binding",
            unit: "B",
            theirsName: "named + task-local",
            higherIsBetter: false,
            target: "report"
        )
        let c = await ours.suspendedNamedSwiftTaskMemory(count: count, bindTaskLocal: false)
        let d = await ours.suspendedNamedSwiftTaskMemory(count: count, bindTaskLocal: true)
        named.ours.append(c.extra["heapPerTask"]!)
        named.theirs.append(d.extra["heapPerTask"]!)
        rows.append(named)
    }
    rows += [rss, heap, onLoop]
}

ours.shutdown()
nio.shutdown()

// MARK: - Table

print("swift-asyncio loop core vs SwiftNIO \(options.rounds) rounds, medians; main thread CPUs: \(currentAffinity())")
print("")
print("| benchmark | ours | other | other is | ours / other | target | met |")
print("| --- | ---: | ---: | --- | ---: | --- | --- |")
for row in rows {
    let a = Row.median(row.ours)
    let b = Row.median(row.theirs)
    let ratio = a / b
    let met = row.check.map { $0(a, b) ? "yes" : "**no**" } ?? ""
    print(
        "| \(row.name) | \(format(a, row.unit)) | \(format(b, row.unit)) | \(row.theirsName) | "
            + (ratio.isNaN ? "" : String(format: "%.2f×", ratio)) + " | \(row.target) | \(met) |"
    )
}

import CLoopBenchShims
import Foundation
import Glibc

// MARK: - Time

/// CLOCK_MONOTONIC in nanoseconds: the clock both loops' timers use.
@inline(__always)
public func monotonicNanoseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}

// MARK: - Results

/// What one run of a workload measured.
public struct Sample: Sendable {
    /// Operations measured (callbacks, timers, round trips, tasks).
    public var operations: Int
    /// Wall time of the measured region.
    public var nanoseconds: Int64
    /// Further figures a workload reports (lateness, bytes per task, ...), by name.
    public var extra: [String: Double] = [:]

    public init(operations: Int, nanoseconds: Int64, extra: [String: Double] = [:]) {
        self.operations = operations
        self.nanoseconds = nanoseconds
        self.extra = extra
    }

    /// Operations per second.
    public var rate: Double { Double(operations) / (Double(max(nanoseconds, 1)) / 1e9) }
}

// MARK: - Threads and memory

/// Pins the calling thread to one CPU (`sched_setaffinity` on the thread itself). Returns false if
/// the kernel refused (for instance when the CPU does not exist).
@discardableResult
public func pinCurrentThread(toCPU cpu: Int) -> Bool {
    loopbench_pin_thread(Int32(cpu)) == 0
}

/// The CPUs the calling thread may run on, as a list ("0", "0-1").
public func currentAffinity() -> String {
    let mask = loopbench_thread_affinity()
    return (0..<64).filter { mask & (UInt64(1) << UInt64($0)) != 0 }.map(String.init).joined(separator: ",")
}

/// Resident set size of this process in bytes (/proc/self/statm, second field).
public func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Returns free heap memory to the kernel, so that an RSS delta measured next starts clean.
public func trimHeap() { loopbench_trim_heap() }

/// Bytes malloc has handed out and not had back, over every arena (glibc `mallinfo2`).
public func heapInUseBytes() -> Int {
    Int(loopbench_heap_in_use())
}

/// Starts a plain thread (not one of Swift's cooperative threads) running `body`.
public func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread(block: body)
    thread.name = name
    thread.start()
}

/// The p-th percentile (0...100) of `values`, which it sorts.
public func percentile(_ values: inout [Int64], _ p: Double) -> Int64 {
    guard !values.isEmpty else { return 0 }
    values.sort()
    let index = min(values.count - 1, Int((Double(values.count) * p / 100).rounded(.up)) - 1)
    return values[max(0, index)]
}

/// A box for state that one loop thread owns; handed to `@Sendable` closures that only run there.
public final class LoopOwned<Value>: @unchecked Sendable {
    // SAFETY: every workload creates the box and touches `value` on a single loop thread only (the
    // closures that capture it are run by that loop); the box crosses threads only to get there.
    public var value: Value
    public init(_ value: Value) { self.value = value }
}

/// Fixed pseudo-random timer offsets (same for both loops): uniform over `[start, start + window)`.
public func timerOffsets(count: Int, start: Int64, window: Int64, seed: UInt64 = 0x5eed) -> [Int64] {
    var state = seed
    var offsets = [Int64]()
    offsets.reserveCapacity(count)
    for _ in 0..<count {
        // SplitMix64: deterministic, fast, good enough for spreading deadlines.
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        offsets.append(start + Int64(z % UInt64(window)))
    }
    return offsets
}

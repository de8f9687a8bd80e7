import Foundation

struct BenchOptions {
    var totalSeconds = 1.0
    var passes = 5
    /// Feed size in bytes; 0 means the whole file in one call.
    var slice = 0
}

/// Process CPU time in seconds (`CLOCK_PROCESS_CPUTIME_ID`), as the C baselines use.
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Calibrates iterations per pass, runs the timed passes and returns (median seconds per pass, iterations).
///
/// `pass` runs one full parse of the input and returns the message count it saw; a pass that
/// returns `expected` is correct. Returns nil when any pass disagrees.
func measure(options: BenchOptions, expected: Int, pass: () -> Int) -> (median: Double, iterations: Int)? {
    // Calibrate: grow the iteration count until one pass takes ~1/passes of the budget.
    var iterations = 1
    let target = options.totalSeconds / Double(options.passes)
    while true {
        let start = processCPUSeconds()
        for _ in 0..<iterations where pass() != expected { return nil }
        let elapsed = processCPUSeconds() - start
        if elapsed >= target / 2 || iterations >= 1 << 20 {
            iterations = max(1, Int((Double(iterations) * target / max(elapsed, 1e-9)).rounded()))
            break
        }
        iterations *= 2
    }
    var times: [Double] = []
    for _ in 0..<options.passes {
        let start = processCPUSeconds()
        for _ in 0..<iterations where pass() != expected { return nil }
        times.append(processCPUSeconds() - start)
    }
    times.sort()
    return (times[times.count / 2], iterations)
}

/// Prints the line compare.py reads.
func report(impl: String, name: String, bytes: Int, msgs: Int, median: Double, iterations: Int, extra: String) {
    let nsPerMessage = median * 1e9 / Double(msgs * iterations)
    let megabytesPerSecond = Double(bytes * iterations) / median / 1e6
    print(
        "impl=\(impl) input=\(name) msgs=\(msgs) ns_per_msg=\(String(format: "%.1f", nsPerMessage)) "
            + "MB_per_s=\(String(format: "%.1f", megabytesPerSecond)) \(extra) iters=\(iterations) clock=cpu"
    )
}

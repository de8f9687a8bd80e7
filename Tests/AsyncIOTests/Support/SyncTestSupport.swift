import AsyncIO
import AsyncIOTesting

/// Runs a story on a fresh loop with a virtual clock (`EventLoopThread.run(clock: VirtualClock())`),
/// turning a hang into a failure.
///
/// A lost wake-up strands a task, and the story's main task, awaiting it, would wait forever on
/// an idle loop. The watchdog timer prevents that: with nothing else to do, the virtual clock
/// jumps to it at once, and it cancels the main task, which then throws
/// `CancelledError("watchdog: the story hung")`.
func runStory<Value: Sendable>(
    _ body: @escaping @Sendable (isolated EventLoop) async throws -> Value
) async throws -> Value {
    try await EventLoopThread.run(clock: VirtualClock()) { loop in
        let main = currentTask()
        let watchdog = loop.callLater(.seconds(86_400)) { main?.cancel(message: "watchdog: the story hung") }
        defer { watchdog.cancel() }
        return try await body(loop)
    }
}

/// How a task ended, for event lists.
///
/// - Throws: `CancelledError` if the calling task itself was cancelled (by `runStory`'s watchdog):
///   that must end the story, not be recorded as the awaited task's outcome.
func outcome<Value>(of task: LoopTask<Value>) async throws -> String {
    let result: String
    do {
        _ = try await task.value
        result = "finished"
    } catch let error as CancelledError {
        result = "\(error)"
    } catch {
        result = "failed: \(error)"
    }
    if let main = currentTask(), main.cancelling() > 0 {
        throw CancelledError(message: "watchdog: the story hung")
    }
    return result
}

/// A small seeded generator (SplitMix64), so that randomised stories replay exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import AsyncIO

/// Lets every ready task and callback run, several loop iterations deep, until all are blocked.
func settle() async throws {
    for _ in 0..<10 {
        try await sleep(.zero)
    }
}

/// How a task ended, for event lists.
func outcome<Value>(of task: LoopTask<Value>) async -> String {
    do {
        _ = try await task.value
        return "finished"
    } catch let error as CancelledError {
        return "\(error)"
    } catch {
        return "failed: \(error)"
    }
}

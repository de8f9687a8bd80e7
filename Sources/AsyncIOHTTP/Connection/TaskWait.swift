import AsyncIO

/// One reusable place where one task at a time waits to be woken on the loop thread.
///
/// The connection's waits (the handler task between requests, a handler reading the body, a
/// handler draining its writes) happen once per request or per read, so they must not allocate:
/// a `Future` per wait costs an allocation and generic state each time. This is a continuation
/// slot. A wake with nobody waiting is not remembered (callers check their condition, wait, check
/// again). Cancellation does not reach it through `LoopTask.cancel`: the connection wakes its own
/// waits with `CancelledError` when it cancels its handler (client gone, shutdown).
final class TaskWait {
    private var continuation: UnsafeContinuation<Void, any Error>?

    init() {}

    /// True while a task waits here.
    var isWaiting: Bool { continuation != nil }

    /// Suspends the calling task until `wake` or `wake(throwing:)`.
    func wait() async throws {
        precondition(continuation == nil, "two tasks wait on one TaskWait")
        try await withUnsafeThrowingContinuation { self.continuation = $0 }
    }

    /// Wakes the waiting task, if any.
    func wake() {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume()
    }

    /// Wakes the waiting task, if any, with `error`.
    func wake(throwing error: any Error) {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume(throwing: error)
    }
}

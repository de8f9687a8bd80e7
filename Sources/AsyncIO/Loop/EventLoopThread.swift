import Foundation

/// An event loop running on a thread of its own.
///
/// Use it where the calling code is already async (a Swift task must never block in a loop: see
/// `EventLoop`), in tests, or to give a program a second loop. The thread runs the loop until
/// `shutdown()`. Work reaches it through the thread-safe entry points: `submit` (asyncio's
/// `run_coroutine_threadsafe`) and `loop.callSoonThreadSafe`.
public final class EventLoopThread: Sendable {
    /// The loop; touch it only through its thread-safe API from other threads.
    public let loop: EventLoop
    private let finished = ThreadSemaphore()

    /// Starts a thread and a new loop on it.
    public init(clock: any LoopClock = MonotonicClock.shared, name: String = "asyncio-loop") throws {
        let loop = try EventLoop(clock: clock)
        self.loop = loop
        let finished = self.finished
        let thread = Thread {
            let runner = Runner(loop: loop)
            // runForever only fails for misuse, which cannot happen on a thread we just made.
            try? loop.runForever()
            try? runner.close()
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Runs `body` as a task on the loop and waits (without blocking a thread) for its result.
    ///
    /// If the calling Swift task is cancelled, the loop task is cancelled too.
    public func run<Value: Sendable>(
        _ body: @escaping @Sendable (isolated EventLoop) async throws -> Value
    ) async throws -> Value {
        try await submit(body).value
    }

    /// Submits `body` to the loop from any thread: asyncio's `run_coroutine_threadsafe`.
    public func submit<Value: Sendable>(
        _ body: @escaping @Sendable (isolated EventLoop) async throws -> Value
    ) throws(AsyncIOError) -> ConcurrentFuture<Value> {
        try loop.runCoroutineThreadSafe(body)
    }

    /// Stops the loop, cancels and awaits what is left on it, closes it, and waits for the thread.
    public func shutdown() {
        loop.stop()
        finished.wait()
    }

    /// Runs `body` on a fresh loop on a new thread, as `run { … }` would, and returns its result.
    ///
    /// The loop is closed afterwards and nothing is left behind. This is `asyncio.run` for callers
    /// that are themselves async (tests, for instance).
    public static func run<Value: Sendable>(
        clock: any LoopClock = MonotonicClock.shared,
        debug: Bool? = nil,
        _ body: @escaping @Sendable (isolated EventLoop) async throws -> Value
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                let runner = Runner(debug: debug, clock: clock)
                let result = Result { try runner.run(body) }
                try? runner.close()
                continuation.resume(with: result)
            }
            thread.start()
        }
    }
}

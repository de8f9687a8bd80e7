/// Runs async code on a fresh loop on the calling thread, then cleans up: asyncio's `Runner`.
///
/// `run(_:)` may be called several times; each runs a main task to completion. `close()` cancels
/// every task still pending, waits for them, shuts the default executor down and closes the loop,
/// so nothing is stranded. Mirrors `asyncio.Runner`.
public final class Runner {
    private var loopStorage: EventLoop?
    private let debug: Bool?
    private let clock: any LoopClock
    private var closed = false

    /// - Parameters:
    ///   - debug: forces debug mode on or off (nil: from `ASYNCIO_DEBUG`).
    ///   - clock: the loop's clock (tests inject a virtual one).
    public init(debug: Bool? = nil, clock: any LoopClock = MonotonicClock.shared) {
        self.debug = debug
        self.clock = clock
    }

    /// Adopts an existing loop (for `EventLoopThread`).
    init(loop: EventLoop) {
        loopStorage = loop
        debug = nil
        clock = loop.core.clock
    }

    deinit {
        try? close()
    }

    /// The runner's loop, created on first use. Mirrors `Runner.get_loop()`.
    public func getLoop() throws -> EventLoop {
        guard !closed else { throw AsyncIOError.loopState("Runner is closed") }
        if let loopStorage { return loopStorage }
        let loop = try EventLoop(clock: clock)
        let fromEnvironment = try newEventLoop()
        let debugMode = debug ?? fromEnvironment.core.debug
        try? fromEnvironment.close()
        loop.core.debug = debugMode
        loopStorage = loop
        return loop
    }

    /// Runs `main` as the main task until it completes and returns its result. Mirrors `Runner.run()`.
    ///
    /// On the main thread, Ctrl-C (SIGINT) cancels the main task, which then ends with
    /// `KeyboardInterrupt` unless it swallowed the cancellation (see `runCancellingOnInterrupt`).
    public func run<Value>(_ main: @escaping (isolated EventLoop) async throws -> Value) throws -> Value {
        // SAFETY: `runUntilComplete` runs the loop, and so this closure, on the calling thread, the
        // same thread `main` came from; it never leaves it.
        nonisolated(unsafe) let operation = main
        return try getLoop().runUntilComplete { loop in
            try await EventLoop.runCancellingOnInterrupt(loop: loop, operation)
        }
    }

    /// Cancels what is left, waits for it, shuts the default executor down, closes the loop.
    ///
    /// Mirrors `Runner.close()`.
    public func close() throws {
        guard !closed else { return }
        closed = true
        guard let loop = loopStorage else { return }
        loopStorage = nil
        defer { try? loop.close() }
        try loop.runUntilComplete { running in
            await running.cancelAllTasks()
            await running.shutdownDefaultExecutor()
        }
    }
}

/// Runs `main` on a new loop on the calling thread and returns its result: `asyncio.run()`.
///
/// Creates a loop, runs `main` as a task to completion, cancels every task it left behind and
/// waits for them, shuts the default thread pool down and closes the loop.
///
/// - Throws: `main`'s error, or `AsyncIOError.loopState` if a loop already runs on this thread or
///   if called from inside a Swift task.
public func run<Value>(
    debug: Bool? = nil,
    _ main: @escaping (isolated EventLoop) async throws -> Value
) throws -> Value {
    let runner = Runner(debug: debug)
    defer { try? runner.close() }
    return try runner.run(main)
}

extension EventLoop {
    /// Cancels every pending task and waits for all of them; reports those that failed otherwise.
    func cancelAllTasks() async {
        let tasks = core.pendingTasks.filter { $0 !== currentTask() }
        guard !tasks.isEmpty else { return }
        for task in tasks { task.cancel(message: nil) }
        for task in tasks {
            guard let waitable = task as? any AwaitableTask else { continue }
            await waitable.waitQuietly()
            if let error = waitable.unexpectedError {
                core.reportException(
                    message: "unhandled exception during asyncio.run() shutdown",
                    error: error,
                    source: "\(task)"
                )
            }
        }
    }

    /// Shuts the default executor down, waiting on a helper thread so the loop keeps running.
    ///
    /// Mirrors `loop.shutdown_default_executor()`.
    public func shutdownDefaultExecutor() async {
        // From now on `runInExecutor(nil, …)` and `toThread` fail instead of making a new pool.
        core.defaultExecutorShutDown = true
        guard let pool = core.defaultExecutor else { return }
        core.defaultExecutor = nil
        let done = Future<Void>(core: core)
        let resolver = done.resolver
        pool.shutdown { resolver.resolve(.success(())) }
        try? await done.value
    }
}

/// A task that can be awaited without knowing its result type.
protocol AwaitableTask: AnyObject {
    func waitQuietly() async
    /// The task's error if it failed with something other than cancellation.
    var unexpectedError: (any Error)? { get }
}

extension LoopTask: AwaitableTask {
    func waitQuietly() async {
        if !isDone { try? await waitUntilDone() }
    }

    var unexpectedError: (any Error)? {
        guard case .failed(let error) = state, !(error is CancelledError) else { return nil }
        retrieved = true
        return error
    }
}

import CAsyncIOShims
import Glibc

/// Runs async code on a fresh loop on the calling thread, then cleans up: asyncio's `Runner`.
///
/// `run(_:)` may be called several times; each runs a main task to completion. `close()` cancels
/// every task still pending, waits for them, shuts the default executor down and closes the loop,
/// so nothing is stranded. Mirrors `asyncio.Runner`.
///
/// Use a `Runner` (rather than `run { … }`, which ends the program) to catch Ctrl-C:
///
/// ```swift
/// let runner = Runner(interruptSignals: [SIGINT, SIGTERM])
/// defer { try? runner.close() }
/// do {
///     try runner.run { loop in try await serve(loop: loop) }
/// } catch let interrupt as KeyboardInterrupt {
///     print("stopped by \(interrupt)")
/// }
/// ```
public final class Runner {
    private var loopStorage: EventLoop?
    private let debug: Bool?
    private let clock: any LoopClock
    private let interruptSignals: [Int32]
    private var closed = false

    /// - Parameters:
    ///   - debug: forces debug mode on or off (nil: from `ASYNCIO_DEBUG`).
    ///   - clock: the loop's clock (tests inject a virtual one).
    ///   - interruptSignals: the signals that cancel the main task and end `run(_:)` with
    ///     `KeyboardInterrupt` (on the main thread, for a signal with its default disposition):
    ///     Ctrl-C (SIGINT), as asyncio's; add SIGTERM so that a process supervisor's stop ends the
    ///     program the same way. Others keep their default action.
    public init(
        debug: Bool? = nil,
        clock: any LoopClock = MonotonicClock.shared,
        interruptSignals: [Int32] = [SIGINT]
    ) {
        self.debug = debug
        self.clock = clock
        self.interruptSignals = interruptSignals
    }

    /// Adopts an existing loop (for `EventLoopThread`).
    init(loop: EventLoop) {
        loopStorage = loop
        debug = nil
        clock = loop.core.clock
        interruptSignals = [SIGINT]
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
    /// On the main thread, Ctrl-C (SIGINT, and the other `interruptSignals`) cancels the main
    /// task, which then ends with `KeyboardInterrupt` unless it swallowed the cancellation (see
    /// `runCancellingOnInterrupt`).
    ///
    /// - Throws: `main`'s error; `KeyboardInterrupt` if a signal ended it.
    public func run<Value>(_ main: @escaping (isolated EventLoop) async throws -> Value) throws -> Value {
        // SAFETY: `runUntilComplete` runs the loop, and so this closure, on the calling thread, the
        // same thread `main` came from; it never leaves it.
        nonisolated(unsafe) let operation = main
        let signals = interruptSignals
        return try getLoop().runUntilComplete { loop in
            try await EventLoop.runCancellingOnInterrupt(loop: loop, signals: signals, operation)
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
/// Ctrl-C (and each of `interruptSignals`) cancels `main`, so its `defer`s and `catch`es run. If
/// `main` then ends with that cancellation (or any `KeyboardInterrupt`) on the main thread, `run`
/// cleans up as above and ends the program as Python does with an uncaught `KeyboardInterrupt`:
/// it flushes stdout, writes one line on stderr ("KeyboardInterrupt"; "Terminated" for SIGTERM)
/// and exits with status 130 (143 for SIGTERM). A top-level `try` never sees it, so nothing
/// crashes. To catch it instead, use a `Runner`, whose `run` throws `KeyboardInterrupt`.
///
/// - Parameters:
///   - debug: forces debug mode on or off (nil: from `ASYNCIO_DEBUG`).
///   - interruptSignals: the signals that interrupt the program this way (on the main thread, for
///     a signal with its default disposition): SIGINT; pass `[SIGINT, SIGTERM]` to stop as cleanly
///     under a process supervisor (its SIGTERM would otherwise kill the program, and the output
///     still buffered for a pipe with it).
///   - main: the main task's body; it gets the loop, isolated.
/// - Throws: `main`'s error, or `AsyncIOError.loopState` if a loop already runs on this thread or
///   if called from inside a Swift task.
public func run<Value>(
    debug: Bool? = nil,
    interruptSignals: [Int32] = [SIGINT],
    _ main: @escaping (isolated EventLoop) async throws -> Value
) throws -> Value {
    let runner = Runner(debug: debug, interruptSignals: interruptSignals)
    let outcome = Result { try runner.run(main) }
    try? runner.close()
    // Only the main thread ends the program: a `run` on a thread of its own throws, as Python's
    // `KeyboardInterrupt` ends only the thread it escapes from.
    if case .failure(let interrupt as KeyboardInterrupt) = outcome, casyncio_is_main_thread() == 1 {
        exitProgram(reporting: interrupt)
    }
    return try outcome.get()
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

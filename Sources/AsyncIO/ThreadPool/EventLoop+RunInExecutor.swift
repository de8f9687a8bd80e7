import Synchronization

// MARK: - Running blocking work off the loop

extension EventLoop {
    /// Runs `work` on a pool thread and returns a loop Future of its result.
    ///
    /// Blocking calls (file I/O, `getaddrinfo`, a CPU-heavy computation) must not run on the loop
    /// thread: they would stop every callback and task. Hand them to a thread pool instead; the
    /// result comes back to the loop through the Future, completed on the loop thread.
    ///
    /// Cancelling the returned Future does not stop `work` once it has started (a thread cannot be
    /// interrupted); its result is then dropped. Called from a task, `work` sees that task's
    /// task-local values (asyncio's `run_in_executor` does not copy `contextvars`; `to_thread`
    /// does, and is built on this); called from a callback, it sees none.
    ///
    /// - Parameters:
    ///   - executor: the pool to use; nil uses the loop's default pool, made on first use with
    ///     `ThreadPoolExecutor()`'s default size (see `setDefaultExecutor`).
    ///   - work: the blocking function. It runs on another thread, so it must be `@Sendable`.
    /// - Returns: a Future of `work`'s result or error. If the pool was shut down (or, for the
    ///   default pool, `shutdownDefaultExecutor` was called), the Future has already failed with
    ///   `AsyncIOError.loopState`.
    ///
    /// Mirrors `loop.run_in_executor(executor, func)`. Deviation: asyncio raises `RuntimeError`
    /// at once when the executor is shut down; here the returned Future carries that error, so the
    /// call itself never throws.
    public func runInExecutor<Value: Sendable>(
        _ executor: ThreadPoolExecutor? = nil,
        _ work: @escaping @Sendable () throws -> Value
    ) -> Future<Value> {
        core.runInExecutor(executor, work)
    }

    /// Sets the pool `runInExecutor(nil, …)` and `toThread` use. Mirrors `loop.set_default_executor()`.
    ///
    /// The previous default pool, if any, is not shut down (asyncio does not either).
    public func setDefaultExecutor(_ executor: ThreadPoolExecutor) {
        core.defaultExecutor = executor
        core.defaultExecutorShutDown = false
    }
}

extension LoopCore {
    /// `runInExecutor`, callable from nonisolated code on the loop thread (`toThread`).
    func runInExecutor<Value: Sendable>(
        _ executor: ThreadPoolExecutor?,
        _ work: @escaping @Sendable () throws -> Value
    ) -> Future<Value> {
        let future = Future<Value>(core: self)
        let pool: ThreadPoolExecutor
        if let executor {
            pool = executor
        } else if let existing = defaultExecutor {
            pool = existing
        } else if defaultExecutorShutDown {
            future.complete(.failed(AsyncIOError.loopState("Executor shutdown has been called")))
            return future
        } else {
            pool = ThreadPoolExecutor()
            defaultExecutor = pool
        }
        let resolver = future.resolver
        guard currentSwiftTaskAddress() != nil else {
            // Called from a callback: there are no task-local values to carry.
            do {
                // The resolver hops back to the loop; if the Future was cancelled meanwhile, the
                // result is dropped.
                try pool.submit { resolver.resolve(Result { try work() }) }
            } catch {
                future.complete(.failed(error))
            }
            return future
        }
        // Called from a task: run `work` in a Swift task that prefers the pool, so that it sees the
        // caller's task-local values (`Task.init` copies them), as `to_thread` runs in a copy of
        // the caller's `contextvars`.
        let executor = PoolTaskExecutor(pool)
        Task(executorPreference: executor) {
            guard !executor.refused else {
                resolver.resolve(.failure(AsyncIOError.loopState("cannot schedule new futures after shutdown")))
                return
            }
            resolver.resolve(Result { try work() })
        }
        return future
    }
}

/// Runs one Swift task's job on a pool thread: how `runInExecutor` hands work to the pool when the
/// caller has task-local values to carry.
///
/// One per call: if the pool refuses the job (it was shut down meanwhile), the task still has to
/// run somewhere to end; it runs on Swift's global executor and sees `refused`, so the work does
/// not run, as the pool promised.
private final class PoolTaskExecutor: TaskExecutor, @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): `pool` is Sendable and immutable; `refusedFlag` is atomic.
    private let pool: ThreadPoolExecutor
    private let refusedFlag = Atomic<Bool>(false)

    init(_ pool: ThreadPoolExecutor) {
        self.pool = pool
    }

    var refused: Bool { refusedFlag.load(ordering: .acquiring) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        do {
            try pool.submit { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        } catch {
            refusedFlag.store(true, ordering: .releasing)
            globalConcurrentExecutor.enqueue(job)
        }
    }
}

/// Runs `work` on the running loop's default thread pool and returns its result: `asyncio.to_thread`.
///
/// The calling task waits on the loop (other tasks go on) while a pool thread runs `work`.
///
/// ```swift
/// let text = try await toThread { try String(contentsOfFile: path, encoding: .utf8) }
/// ```
///
/// - Throws: `work`'s error; `CancelledError` if the calling task is cancelled while it waits (the
///   thread still finishes `work`, and its result is dropped); `AsyncIOError.loopState` if no loop
///   runs on this thread or its default pool was shut down.
///
/// `work` sees the calling task's task-local values, as `asyncio.to_thread` runs `func` in a copy
/// of the caller's `contextvars`: it runs inside a Swift task made on the caller (which copies
/// them) and executed by the pool thread.
///
/// Mirrors `asyncio.to_thread(func)`.
public func toThread<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    let loop = try loopForAwait()
    return try await loop.core.runInExecutor(nil, work).value
}

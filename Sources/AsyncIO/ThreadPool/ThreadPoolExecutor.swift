import DequeModule
import Foundation
import Glibc

/// A bounded pool of threads for blocking work: asyncio's default `ThreadPoolExecutor`.
///
/// Threads are started on demand up to `maxWorkers` (default `min(32, cores + 4)`, as Python's)
/// and live until `shutdown`: below the maximum, every queued job has a worker of its own. Work waits in a FIFO queue. Used by `runInExecutor` and `toThread`,
/// and for `getaddrinfo`.
public final class ThreadPoolExecutor: @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): every `var` below is read and written with
    // `condition`'s mutex held.
    private let condition = PThreadCondition()
    private var queue = Deque<@Sendable () -> Void>()
    private var threads = 0
    private var idle = 0
    private var isShutdown = false
    private var onThreadExit: [@Sendable () -> Void] = []

    /// The most threads the pool starts.
    public let maxWorkers: Int

    public init(maxWorkers: Int? = nil) {
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        self.maxWorkers = max(1, maxWorkers ?? min(32, cores + 4))
    }

    /// Queues `work` to run on a pool thread.
    ///
    /// - Throws: `AsyncIOError.loopState` after `shutdown` (Python raises RuntimeError).
    public func submit(_ work: @escaping @Sendable () -> Void) throws(AsyncIOError) {
        let startThread = try condition.withLock { () throws(AsyncIOError) -> Bool in
            guard !isShutdown else { throw AsyncIOError.loopState("cannot schedule new futures after shutdown") }
            queue.append(work)
            // Each queued job needs a worker of its own: an idle worker counts for one job only
            // (Python reserves it with `_idle_semaphore`). Counting idle workers without matching
            // them to jobs let a burst of jobs queue behind the one worker that was idle.
            guard queue.count > idle, threads < maxWorkers else { return false }
            threads += 1
            return true
        }
        condition.signal()
        if startThread { Thread { [self] in workerLoop() }.start() }
    }

    /// Stops accepting work; queued work still runs. With `wait`, blocks until every thread ended.
    ///
    /// Mirrors `Executor.shutdown(wait=True)`.
    public func shutdown(wait: Bool = true) {
        let done = ThreadSemaphore()
        let running = condition.withLock {
            isShutdown = true
            if wait { onThreadExit.append { done.signal() } }
            return threads
        }
        condition.broadcast()
        if wait {
            for _ in 0..<running { done.wait() }
        }
    }

    /// Shuts the pool down and calls `completion`, on some thread, once every thread has ended.
    func shutdown(then completion: @escaping @Sendable () -> Void) {
        let remaining = LockedValue(0)
        let running = condition.withLock {
            isShutdown = true
            remaining.withLock { $0 = threads }
            if threads > 0 {
                onThreadExit.append {
                    if remaining.withLock({ count in
                        count -= 1
                        return count == 0
                    }) {
                        completion()
                    }
                }
            }
            return threads
        }
        condition.broadcast()
        if running == 0 { completion() }
    }

    private func workerLoop() {
        while let work = nextWork() { work() }
        let callbacks = condition.withLock {
            threads -= 1
            return onThreadExit
        }
        for callback in callbacks { callback() }
    }

    /// The next queued work item, waiting for one; nil once the pool is shut down and drained.
    private func nextWork() -> (@Sendable () -> Void)? {
        condition.withLock {
            while true {
                if let work = queue.popFirst() { return work }
                if isShutdown { return nil }
                idle += 1
                condition.wait()
                idle -= 1
            }
        }
    }
}

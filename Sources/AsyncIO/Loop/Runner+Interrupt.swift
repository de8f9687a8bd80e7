import CAsyncIOShims
import Glibc

/// The main task of `run { … }` was cancelled by Ctrl-C (SIGINT): Python's `KeyboardInterrupt`.
public struct KeyboardInterrupt: Error, Sendable, Equatable, CustomStringConvertible {
    /// Creates the error `run` throws when Ctrl-C cancelled its main task.
    public init() {}
    public var description: String { "KeyboardInterrupt" }
}

extension EventLoop {
    /// Runs `main` so that Ctrl-C cancels the calling task (the runner's main task) instead of
    /// killing the process; a cancellation that came from Ctrl-C and was not swallowed ends as
    /// `KeyboardInterrupt`.
    ///
    /// As `asyncio.Runner` (3.11+), only on the main thread and only if SIGINT still has its default
    /// disposition (a program that installed its own handler keeps it). The first Ctrl-C cancels
    /// the task and restores the default disposition, so a second Ctrl-C ends a program that does
    /// not stop (asyncio raises `KeyboardInterrupt` at the second one; Swift cannot raise from a
    /// signal).
    static func runCancellingOnInterrupt<Value>(
        loop: isolated EventLoop,
        _ main: (isolated EventLoop) async throws -> Value
    ) async throws -> Value {
        guard casyncio_is_main_thread() == 1, casyncio_signal_is_default(SIGINT) == 1, let task = currentTask() else {
            return try await main(loop)
        }
        let interrupt = InterruptState(task: task)
        do {
            try loop.addSignalHandler(SIGINT) {
                interrupt.interrupted = true
                loop.removeSignalHandler(SIGINT)
                interrupt.task.cancel(message: "KeyboardInterrupt")
            }
        } catch {
            return try await main(loop)
        }
        defer { if !interrupt.interrupted { loop.removeSignalHandler(SIGINT) } }
        do {
            return try await main(loop)
        } catch let error as CancelledError where interrupt.interrupted {
            if interrupt.task.uncancel() == 0 { throw KeyboardInterrupt() }
            throw error
        }
    }
}

/// Whether Ctrl-C cancelled the main task. Loop-bound.
private final class InterruptState {
    let task: any AnyLoopTask
    var interrupted = false
    init(task: any AnyLoopTask) { self.task = task }
}

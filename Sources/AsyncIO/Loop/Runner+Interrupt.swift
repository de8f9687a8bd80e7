import CAsyncIOShims
import Glibc

/// The main task of `run { … }` was cancelled by Ctrl-C (SIGINT), or by another of the runner's
/// interrupt signals (SIGTERM if the program asked for it): Python's `KeyboardInterrupt`.
///
/// `Runner.run` throws it. The top-level `run { … }` does not: like Python's interpreter with an
/// uncaught `KeyboardInterrupt`, it ends the program (see `run(debug:interruptSignals:_:)`).
public struct KeyboardInterrupt: Error, Sendable, Equatable, CustomStringConvertible {
    /// The signal that interrupted the program (SIGINT for Ctrl-C).
    public var signal: Int32

    /// Creates the error `Runner.run` throws when `signal` (Ctrl-C by default) cancelled its main task.
    public init(signal: Int32 = SIGINT) {
        self.signal = signal
    }

    /// "KeyboardInterrupt" for Ctrl-C, as Python prints it; the signal's name otherwise
    /// ("Terminated", as a shell says of SIGTERM).
    public var description: String {
        guard signal != SIGINT else { return "KeyboardInterrupt" }
        return strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
    }

    /// The exit status of a program it ended: 128 + the signal's number (130 for Ctrl-C, 143 for
    /// SIGTERM), what a shell reports for a program the signal killed.
    public var exitStatus: Int32 { 128 + signal }
}

/// Ends the program as Python's interpreter does with an exception nobody caught: flushes
/// stdout, writes `error` on one line of stderr and exits with status 1 (a `KeyboardInterrupt`'s
/// `exitStatus`, 130 for Ctrl-C). `run` does this for `KeyboardInterrupt`; a program does it for
/// the other errors that escape `run`, where a top-level `try` would crash:
///
/// ```swift
/// do {
///     try run { loop in try await serve(loop: loop) }
/// } catch {
///     exitProgram(reporting: error)  // "bind(127.0.0.1:8888): Address already in use (errno 98)", status 1
/// }
/// ```
public func exitProgram(reporting error: any Error) -> Never {
    // A reader that is gone (`| head`, or a `| cat` that the same Ctrl-C ended) must not turn the
    // flush into a death by SIGPIPE: blocked, the signal stays pending and the write fails quietly.
    var brokenPipe = sigset_t()
    sigemptyset(&brokenPipe)
    sigaddset(&brokenPipe, SIGPIPE)
    pthread_sigmask(SIG_BLOCK, &brokenPipe, nil)
    fflush(nil)
    let line = "\(error)\n"
    _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    exit((error as? KeyboardInterrupt)?.exitStatus ?? 1)
}

extension EventLoop {
    /// Runs `main` so that each of `signals` (Ctrl-C: SIGINT) cancels the calling task (the
    /// runner's main task) instead of killing the process; a cancellation that came from a signal
    /// and was not swallowed ends as `KeyboardInterrupt(signal:)`.
    ///
    /// As `asyncio.Runner` (3.11+), only on the main thread and only for a signal that still has
    /// its default disposition (a program that installed its own handler keeps it). The first
    /// signal cancels the task and restores every default disposition, so a second one ends a
    /// program that does not stop (asyncio raises `KeyboardInterrupt` at the second Ctrl-C; Swift
    /// cannot raise from a signal).
    static func runCancellingOnInterrupt<Value>(
        loop: isolated EventLoop,
        signals: [Int32],
        _ main: (isolated EventLoop) async throws -> Value
    ) async throws -> Value {
        guard casyncio_is_main_thread() == 1, let task = currentTask() else { return try await main(loop) }
        let interrupt = InterruptState(task: task)
        for signal in signals where casyncio_signal_is_default(signal) == 1 {
            do {
                try loop.addSignalHandler(signal) {
                    guard interrupt.signal == nil else { return }
                    interrupt.signal = signal
                    for installed in interrupt.installed { loop.removeSignalHandler(installed) }
                    interrupt.installed = []
                    interrupt.task.cancel(message: KeyboardInterrupt(signal: signal).description)
                }
                interrupt.installed.append(signal)
            } catch {
                continue  // not a signal we may catch: it keeps its default action
            }
        }
        defer { for installed in interrupt.installed { loop.removeSignalHandler(installed) } }
        do {
            return try await main(loop)
        } catch let error as CancelledError {
            guard let signal = interrupt.signal else { throw error }
            if interrupt.task.uncancel() == 0 { throw KeyboardInterrupt(signal: signal) }
            throw error
        }
    }
}

/// Which signal cancelled the main task, and the handlers still installed. Loop-bound.
private final class InterruptState {
    let task: any AnyLoopTask
    var signal: Int32?
    var installed: [Int32] = []
    init(task: any AnyLoopTask) { self.task = task }
}

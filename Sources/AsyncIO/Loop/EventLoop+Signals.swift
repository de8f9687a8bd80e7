// Theory of operation
//
// Signals are process-wide and arrive on whichever thread the kernel picks. `signalfd` would need
// the signal blocked in EVERY thread, including the threads Swift's runtime and Foundation start
// before we could block anything; an unblocked thread would take the signal with its default action
// (SIGINT: exit). So we do what CPython does with `signal.set_wakeup_fd`: a `sigaction` handler
// (in C, async-signal-safe) writes the signal number as one byte to a non-blocking pipe, and the
// loop watches the pipe's read end like any reader. The Swift handler then runs on the loop, in the
// next iteration, isolated to the loop — never inside the signal handler.
//
// One loop owns a given signal at a time (the last `addSignalHandler` wins, as with `signal.signal`).
// `removeSignalHandler` and the loop's end restore the default disposition.
import CAsyncIOShims
import Glibc

/// The loop's signal pipe and handlers.
final class SignalState {
    let readFD: Int32
    let writeFD: Int32
    var handlers: [Int32: () -> Void] = [:]

    init() throws(SystemError) {
        var fds: [Int32] = [-1, -1]
        guard casyncio_pipe(&fds) == 0 else { throw SystemError(call: "pipe2") }
        readFD = fds[0]
        writeFD = fds[1]
    }

    /// Restores every signal we handle and closes the pipe (loop closing).
    func release() {
        for signal in handlers.keys { _ = casyncio_signal_restore(signal) }
        handlers.removeAll()
        Glibc.close(readFD)
        Glibc.close(writeFD)
    }
}

extension EventLoop {
    /// Calls `handler` on this loop whenever the process receives `signal`.
    ///
    /// The handler runs in a later iteration, isolated to the loop (not in the signal handler), so
    /// it may do anything: cancel tasks, close a server, stop the loop. Adding a handler for a signal
    /// that has one replaces it.
    /// - Throws: `TransportError.invalidValue` for SIGKILL, SIGSTOP or a number that is not a signal
    ///   (Python's `signal.valid_signals()`: not 0, 32, 33 or above the real-time range);
    ///   `SystemError` if `sigaction` or `pipe2` fails. Mirrors `loop.add_signal_handler()`.
    public func addSignalHandler(_ signal: Int32, _ handler: @escaping () -> Void) throws {
        // Python's `signal.valid_signals()`: the classic signals and the real-time range, not the
        // two below it that glibc keeps for its threads.
        guard (1..<32).contains(signal) || (__libc_current_sigrtmin()...__libc_current_sigrtmax()).contains(signal)
        else { throw TransportError.invalidValue("invalid signal number \(signal)") }
        guard signal != SIGKILL, signal != SIGSTOP else {
            throw TransportError.invalidValue("sig \(signal) cannot be caught")
        }
        let state: SignalState
        if let existing = core.io.signals {
            state = existing
        } else {
            state = try SignalState()
            do {
                try addReader(state.readFD) { [core] in Self.drainSignals(core: core) }
            } catch {
                state.release()
                throw error
            }
            core.io.signals = state
        }
        guard casyncio_signal_install(signal, state.writeFD) == 0 else {
            let error = SystemError(call: "sigaction(\(signal))")
            if state.handlers.isEmpty {
                // Made for this handler only: undo it, as asyncio resets its wake-up fd.
                removeReader(state.readFD)
                state.release()
                core.io.signals = nil
            }
            throw error
        }
        state.handlers[signal] = handler
    }

    /// Removes the handler for `signal` and restores its default disposition.
    ///
    /// - Returns: true if a handler was removed. Mirrors `loop.remove_signal_handler()`.
    @discardableResult
    public func removeSignalHandler(_ signal: Int32) -> Bool {
        guard let state = core.io.signals, state.handlers.removeValue(forKey: signal) != nil else { return false }
        _ = casyncio_signal_restore(signal)
        if state.handlers.isEmpty {
            removeReader(state.readFD)
            state.release()
            core.io.signals = nil
        }
        return true
    }

    /// Reads the signal numbers the C handler wrote and schedules their handlers.
    private static func drainSignals(core: LoopCore) {
        guard let state = core.io.signals else { return }
        var bytes = [UInt8](repeating: 0, count: 64)
        while true {
            let count = read(state.readFD, &bytes, bytes.count)
            guard count > 0 else { return }
            for index in 0..<count {
                let signal = Int32(bytes[index])
                guard let handler = state.handlers[signal] else { continue }
                core.callSoon(Handle(core: core, callback: handler))
            }
        }
    }
}

import Synchronization

/// A callback scheduled on a loop, which can be cancelled until it runs.
///
/// Returned by `callSoon`, `callLater`, `callAt` and `callSoonThreadSafe`. A cancelled handle
/// never runs; cancelling one that already ran does nothing.
///
/// Mirrors asyncio's `Handle` and `TimerHandle`. Deviation: one class serves both; `when` is nil
/// for a handle that is not a timer.
public final class Handle: @unchecked Sendable, CustomStringConvertible {
    // SAFETY: `callback` and `site` are written at creation and read or cleared only on the loop
    // thread (by the loop running or dropping the handle, or by `cancel` called there). The only
    // field other threads touch is `cancelledFlag`, an atomic.
    // `@exclusivity(unchecked)`: each access would otherwise be a dynamic exclusivity check (a
    // TLS lookup) on the hottest path of the loop; no access to these overlaps another.
    @exclusivity(unchecked) nonisolated(unsafe) var callback: (() throws -> Void)?
    /// Where the callback was scheduled; recorded in debug mode only.
    @exclusivity(unchecked) nonisolated(unsafe) var site: CallSite?
    private let cancelledFlag = Atomic<Bool>(false)
    /// The deadline for a timer, in loop nanoseconds; `Int64.min` for a plain handle.
    let deadline: Int64
    // SAFETY: a handle never outlives its loop's core in use: the core owns the queues that hold
    // handles, and `cancel` only touches it on the loop thread. `unowned(unsafe)` saves the two
    // atomic reference-count operations `unowned` would cost per handle.
    unowned(unsafe) let core: LoopCore
    /// A timer's place among timers with the same deadline (see `TimerQueue`); loop thread only.
    @exclusivity(unchecked) nonisolated(unsafe) var sequence: UInt64 = 0

    init(core: LoopCore, deadline: Int64 = .min, callback: @escaping () throws -> Void) {
        self.core = core
        self.deadline = deadline
        self.callback = callback
    }

    /// The time the callback is scheduled for, or nil for a handle that is not a timer.
    ///
    /// Mirrors `TimerHandle.when()`.
    public var when: LoopInstant? { deadline == .min ? nil : LoopInstant(nanoseconds: deadline) }

    /// True once `cancel()` was called.
    public var isCancelled: Bool { cancelledFlag.load(ordering: .relaxed) }

    /// Stops the callback from running, if it has not run yet.
    ///
    /// Safe to call from any thread; the loop drops the callback when it reaches the handle.
    /// Mirrors `Handle.cancel()`.
    public func cancel() {
        guard !cancelledFlag.exchange(true, ordering: .relaxed) else { return }
        // On the loop thread, drop the closure now. A handle still holding it has not run yet: if
        // it is a timer, the timer queue counts it, to know when to compact.
        if core.isOnLoopThread, callback.take() != nil, deadline != .min {
            core.timers.noteCancelled()
        }
    }

    public var description: String {
        var text = "<Handle"
        if isCancelled { text += " cancelled" }
        if let when { text += " when=\(when)" }
        if let site { text += " created at \(site)" }
        return text + ">"
    }
}

/// A source location, recorded for callbacks and tasks in debug mode.
public struct CallSite: Sendable, CustomStringConvertible {
    public var fileID: String
    public var line: Int
    public var description: String { "\(fileID):\(line)" }
}

import Foundation

let runningLoopSlot = ThreadLocal<EventLoop>()
private let threadLoopSlot = ThreadLocal<EventLoop>()

/// Which loop `getEventLoop()` returns on a thread and how new loops are made: asyncio's policy.
///
/// asyncio 3.14 deprecates policies; they are kept because the talk names them, and the default is
/// what everyone uses. Replace it with `setEventLoopPolicy` (to inject a clock, say).
public protocol EventLoopPolicy: Sendable {
    /// The loop of the calling thread, created on first use.
    func getEventLoop() throws -> EventLoop
    /// Makes `loop` the loop of the calling thread.
    func setEventLoop(_ loop: EventLoop?)
    /// A new loop, not bound to any thread.
    func newEventLoop() throws -> EventLoop
}

/// The default policy: one loop per thread, made on first use, on the monotonic clock.
public struct DefaultEventLoopPolicy: EventLoopPolicy {
    public init() {}

    public func getEventLoop() throws -> EventLoop {
        if let loop = threadLoopSlot.value, !loop.isClosed { return loop }
        let loop = try newEventLoop()
        threadLoopSlot.value = loop
        return loop
    }

    public func setEventLoop(_ loop: EventLoop?) {
        threadLoopSlot.value = loop
    }

    public func newEventLoop() throws -> EventLoop {
        let loop = try EventLoop()
        if ProcessInfo.processInfo.environment["ASYNCIO_DEBUG"].map({ !$0.isEmpty && $0 != "0" }) ?? false {
            loop.core.debug = true
        }
        return loop
    }
}

private let policySlot = LockedValue<any EventLoopPolicy>(DefaultEventLoopPolicy())

/// The current policy. Mirrors `asyncio.get_event_loop_policy()`.
public func getEventLoopPolicy() -> any EventLoopPolicy { policySlot.withLock { $0 } }

/// Replaces the policy; nil restores the default. Mirrors `asyncio.set_event_loop_policy()`.
public func setEventLoopPolicy(_ policy: (any EventLoopPolicy)?) {
    policySlot.withLock { $0 = policy ?? DefaultEventLoopPolicy() }
}

/// The loop running on the calling thread.
///
/// - Throws: `AsyncIOError.loopState` when no loop runs here. Mirrors `asyncio.get_running_loop()`.
public func getRunningLoop() throws(AsyncIOError) -> EventLoop {
    guard let loop = runningLoopSlot.value else { throw AsyncIOError.loopState("no running event loop") }
    return loop
}

/// The running loop if there is one, else the calling thread's loop, created on first use.
///
/// This is the talk's `asyncio.get_event_loop()`. Deviation: asyncio 3.14 raises when no loop is
/// set instead of creating one; we keep the creating form the talk relies on. Prefer `run { … }`.
public func getEventLoop() throws -> EventLoop {
    if let loop = runningLoopSlot.value { return loop }
    return try getEventLoopPolicy().getEventLoop()
}

/// Makes `loop` the calling thread's loop. Mirrors `asyncio.set_event_loop()`.
public func setEventLoop(_ loop: EventLoop?) {
    getEventLoopPolicy().setEventLoop(loop)
}

/// A new loop from the policy, not bound to any thread. Mirrors `asyncio.new_event_loop()`.
public func newEventLoop() throws -> EventLoop {
    try getEventLoopPolicy().newEventLoop()
}

/// The loop running on this thread, if any (no error).
func runningLoopIfAny() -> EventLoop? { runningLoopSlot.value }

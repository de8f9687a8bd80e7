import CAsyncIOShims

/// A point on a loop's clock, in nanoseconds since an arbitrary origin (the monotonic clock for real loops).
///
/// asyncio's `loop.time()` is a float of seconds; ours is an integer of nanoseconds so that timers
/// keep full precision and ties are exact. `seconds` gives asyncio's float.
public struct LoopInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The instant as a float of seconds, like asyncio's `loop.time()`.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public static func < (lhs: LoopInstant, rhs: LoopInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public static func + (lhs: LoopInstant, rhs: Duration) -> LoopInstant {
        LoopInstant(nanoseconds: lhs.nanoseconds.addingClamped(rhs.nanosecondsClamped))
    }

    public static func - (lhs: LoopInstant, rhs: LoopInstant) -> Duration {
        .nanoseconds(lhs.nanoseconds &- rhs.nanoseconds)
    }

    public var description: String { "\(seconds)s" }
}

/// Where a loop reads the time. Real loops use `MonotonicClock`; tests inject a virtual clock.
///
/// The loop reads time only through this protocol, so a virtual clock makes timer tests
/// deterministic (see `AsyncIOTesting.VirtualClock`).
public protocol LoopClock: AnyObject, Sendable {
    /// The current time.
    func now() -> LoopInstant
    /// Called when the loop has nothing ready and would block until `deadline`.
    ///
    /// A virtual clock that jumps returns true after moving itself to `deadline`, and the loop
    /// polls without blocking instead; the real clock returns false and the loop blocks.
    func jump(to deadline: LoopInstant) -> Bool
}

/// The monotonic clock (`CLOCK_MONOTONIC`), with nanosecond resolution.
public final class MonotonicClock: LoopClock {
    public static let shared = MonotonicClock()

    public init() {}

    @inline(__always)
    public func now() -> LoopInstant { LoopInstant(nanoseconds: casyncio_monotonic_ns()) }

    public func jump(to deadline: LoopInstant) -> Bool { false }
}

extension Int64 {
    @inline(__always)
    func addingClamped(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to `Int64`.
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (fromSeconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds > 0 ? .max : .min }
        return fromSeconds.addingClamped(attoseconds / 1_000_000_000)
    }
}

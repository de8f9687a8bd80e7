import AsyncIO
import Synchronization

/// A loop clock that only moves when told to, or — with `autoJump` — jumps straight to the next
/// timer whenever the loop has nothing ready to run.
///
/// With `autoJump`, a test that sleeps for an hour finishes at once, and the order in which timers
/// fire is exactly their deadline order (models: trio's `MockClock(autojump_threshold=0)`,
/// CPython's `TestLoop`). Time starts at zero.
public final class VirtualClock: LoopClock {
    private let nanoseconds = Atomic<Int64>(0)
    public let autoJump: Bool

    public init(autoJump: Bool = true) {
        self.autoJump = autoJump
    }

    public func now() -> LoopInstant { LoopInstant(nanoseconds: nanoseconds.load(ordering: .relaxed)) }

    public func jump(to deadline: LoopInstant) -> Bool {
        guard autoJump else { return false }
        advance(to: deadline)
        return true
    }

    /// Moves the clock forward to `instant` (never backwards).
    public func advance(to instant: LoopInstant) {
        var current = nanoseconds.load(ordering: .relaxed)
        while current < instant.nanoseconds {
            let (exchanged, original) = nanoseconds.compareExchange(
                expected: current,
                desired: instant.nanoseconds,
                ordering: .relaxed
            )
            if exchanged { return }
            current = original
        }
    }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Duration) {
        advance(to: now() + duration)
    }
}

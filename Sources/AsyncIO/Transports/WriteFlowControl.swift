/// The water marks of a transport's write buffer, and whether its protocol is paused: the rules
/// every transport shares for calling `pauseWriting` and `resumeWriting`.
///
/// A transport keeps one of these, asks ``shouldPause(size:)`` after it queued bytes and
/// ``shouldResume(size:)`` after it flushed some, and calls its protocol's `pauseWriting(loop:)` or
/// `resumeWriting(loop:)` when the answer is true. The answers alternate, starting with a pause:
/// pause when the buffer holds strictly more than ``high`` bytes, resume once it holds ``low`` bytes
/// or fewer. The socket transports use it, and so should a transport written outside this module
/// (an in-memory pair, TLS over another transport), so that their protocols see the same callbacks
/// at the same sizes.
///
/// ```swift
/// var flow = WriteFlowControl()
/// // after queueing:
/// if flow.shouldPause(size: buffered) { loop.runIsolated(self) { t, loop in t.proto.pauseWriting(loop: loop) } }
/// // after flushing, in a loop-isolated context:
/// if flow.shouldResume(size: buffered) { proto.resumeWriting(loop: loop) }
/// ```
///
/// Mirrors asyncio's `_FlowControlMixin` (`selector_events`' transports):
/// `_maybe_pause_protocol`, `_maybe_resume_protocol`, `set_write_buffer_limits`,
/// `get_write_buffer_limits`. A value type with no loop of its own: the transport owning it keeps it
/// on its loop.
public struct WriteFlowControl: Sendable, Equatable {
    /// asyncio's default high-water mark: 64 KiB.
    public static let defaultHigh = 64 * 1024

    /// The protocol is paused when the buffer holds strictly more bytes than this.
    public private(set) var high = Self.defaultHigh
    /// A paused protocol is resumed when the buffer holds this many bytes or fewer.
    public private(set) var low = Self.defaultHigh / 4
    /// True between a `shouldPause` that answered true and the next `shouldResume` that did.
    public private(set) var isProtocolPaused = false

    /// Flow control with asyncio's default marks: 64 KiB high, 16 KiB low.
    public init() {}

    /// The marks as `WriteTransport.writeBufferLimits` reports them. Mirrors `get_write_buffer_limits()`.
    public var limits: (low: Int, high: Int) { (low, high) }

    /// Sets the marks; nil picks asyncio's defaults (high = 4 × low, or 64 KiB; low = high / 4).
    ///
    /// Does not pause or resume by itself: a transport asks ``shouldPause(size:)`` right after, as
    /// asyncio's `set_write_buffer_limits` calls `_maybe_pause_protocol`.
    ///
    /// - Throws: `TransportError.invalidValue` unless `high >= low >= 0`; the marks are unchanged then.
    ///   Mirrors `_set_write_buffer_limits(high=None, low=None)`.
    public mutating func setLimits(high: Int?, low: Int?) throws(TransportError) {
        let newHigh = high ?? (low.map { 4 * $0 } ?? Self.defaultHigh)
        let newLow = low ?? newHigh / 4
        guard newHigh >= newLow, newLow >= 0 else {
            throw TransportError.invalidValue("high (\(newHigh)) must be >= low (\(newLow)) must be >= 0")
        }
        self.high = newHigh
        self.low = newLow
    }

    /// True when the protocol must be paused now, that is when `size` is strictly over ``high`` and
    /// the protocol is not paused already; records that it is paused.
    ///
    /// - Parameter size: the bytes buffered and not yet written. Mirrors `_maybe_pause_protocol()`.
    public mutating func shouldPause(size: Int) -> Bool {
        guard size > high, !isProtocolPaused else { return false }
        isProtocolPaused = true
        return true
    }

    /// True when a paused protocol must be resumed now, that is when `size` is at or under ``low``;
    /// records that it is no longer paused.
    ///
    /// - Parameter size: the bytes buffered and not yet written. Mirrors `_maybe_resume_protocol()`.
    public mutating func shouldResume(size: Int) -> Bool {
        guard isProtocolPaused, size <= low else { return false }
        isProtocolPaused = false
        return true
    }
}

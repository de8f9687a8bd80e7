import Glibc

/// The error a cancelled Future, Task or await throws: asyncio's `CancelledError`.
///
/// asyncio's cancellation is one-shot and carries a message; Swift's `CancellationError` is sticky
/// and carries none, so the loop delivers its own. A task may catch it and carry on (and should
/// then call `uncancel()` if it means to swallow the request).
public struct CancelledError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message given to `cancel(message:)`, if any.
    public var message: String?

    public init(message: String? = nil) { self.message = message }

    public var description: String { message.map { "CancelledError(\($0))" } ?? "CancelledError" }
}

/// The errors of the library's core, asyncio's exception classes as cases.
public enum AsyncIOError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An operation is not allowed in the object's current state (asyncio's `InvalidStateError`),
    /// e.g. `setResult` on a done Future or `result()` on a pending one.
    case invalidState(String)
    /// A deadline passed: `waitFor`, `timeout` scopes (asyncio's `TimeoutError`).
    case timeout
    /// The loop is closed, already running, or was asked to run where it must not (asyncio's
    /// `RuntimeError` for these cases).
    case loopState(String)
    /// A `Barrier` was used after it was broken (asyncio's `BrokenBarrierError`).
    case brokenBarrier
    /// A queue was shut down (asyncio's `QueueShutDown`).
    case queueShutDown
    /// `putNowait` found the queue full (asyncio's `QueueFull`).
    case queueFull
    /// `getNowait` found the queue empty (asyncio's `QueueEmpty`).
    case queueEmpty
    /// A lock was released, or a `Condition` waited on or notified, without the lock being held
    /// (asyncio's `RuntimeError('Lock is not acquired.')`).
    case lockNotAcquired
    /// A call was made more often than its counterpart allows: `BoundedSemaphore.release` beyond
    /// the initial value, `Queue.taskDone` beyond the items put (asyncio's `ValueError`). The
    /// associated value names the call.
    case calledTooManyTimes(String)
    /// The stream ended before a read could complete (asyncio's `IncompleteReadError`).
    ///
    /// `partial` holds the bytes read before the end of the stream; `expected` is the number of
    /// bytes `readExactly` asked for, or nil for `readUntil` (asyncio's `expected=None`).
    case incompleteRead(partial: [UInt8], expected: Int?)
    /// A stream's buffer reached its limit before a separator was found (asyncio's
    /// `LimitOverrunError`); `consumed` is how many bytes are to be consumed.
    case limitOverrun(consumed: Int)
    /// An argument has a value the operation cannot accept (asyncio's `ValueError`), e.g. `wait`
    /// on no Futures at all, a negative `Semaphore` value.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .invalidState(let message): "InvalidStateError: \(message)"
        case .timeout: "TimeoutError"
        case .loopState(let message): "RuntimeError: \(message)"
        case .brokenBarrier: "BrokenBarrierError"
        case .queueShutDown: "QueueShutDown"
        case .queueFull: "QueueFull"
        case .queueEmpty: "QueueEmpty"
        case .lockNotAcquired: "RuntimeError: Lock is not acquired."
        case .calledTooManyTimes(let call): "ValueError: \(call) called too many times"
        case .incompleteRead(let partial, let expected):
            "IncompleteReadError: \(partial.count) bytes read on a total of \(expected.map(String.init) ?? "undefined") expected bytes"
        case .limitOverrun(let consumed): "LimitOverrunError: limit exceeded, \(consumed) bytes to consume"
        case .invalidArgument(let message): "ValueError: \(message)"
        }
    }
}

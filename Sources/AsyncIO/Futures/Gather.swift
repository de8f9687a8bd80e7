// Theory of operation
//
// `gather` is asyncio's `_GatheringFuture` plus one done callback per child:
//
//   pending --child fails/cancelled, !returnExceptions--> failed(child's error)   (others keep running)
//   pending --last child done--------------------------> succeeded, or failed(CancelledError) if
//                                                         the gathering was cancelled meanwhile
//
// Cancelling the gathering Future (which is what cancelling the task awaiting `gather` does: the
// core cancels the Future a task waits on) does not complete it: it cancels every child that is
// still pending and records the request. The gathering completes when the children's callbacks
// report back, exactly as in asyncio, so the awaiting task sees `CancelledError` only after the
// children saw theirs. Results are read from the children in input order once the gathering is
// done, so the gathering itself carries no value and one non-generic class serves every arity.

/// A Future seen by a combinator that does not know its value type.
protocol CombinedFuture: AnyObject {
    var isDone: Bool { get }
    var isCancelled: Bool { get }
    @discardableResult func cancel(message: String?) -> Bool
    /// The child's error, marking it retrieved; nil if it succeeded, is pending or was cancelled.
    func takeFailure() -> (any Error)?
    /// The error to raise for a cancelled child (its cancellation message kept).
    var cancelledError: CancelledError { get }
    /// Adds a done callback that does not need the typed Future.
    @discardableResult func onDone(_ callback: @escaping () -> Void) -> CallbackToken
    @discardableResult func removeDoneCallback(_ token: CallbackToken) -> Int
}

extension Future: CombinedFuture {
    func takeFailure() -> (any Error)? {
        guard case .failed(let error) = state else { return nil }
        retrieved = true
        return error
    }

    var cancelledError: CancelledError {
        if case .cancelled(let message) = state { return CancelledError(message: message) }
        return CancelledError()
    }

    @discardableResult
    func onDone(_ callback: @escaping () -> Void) -> CallbackToken {
        addDoneCallback { _ in callback() }
    }
}

/// The Future a `gather` waits on: done when its children say so; cancelling it cancels them.
///
/// Mirrors asyncio's `_GatheringFuture`.
final class GatheringFuture: Future<Void> {
    let children: [any CombinedFuture]
    private let returnExceptions: Bool
    private var finished = 0
    private var cancelRequested = false

    init(core: LoopCore, children: [any CombinedFuture], returnExceptions: Bool) {
        self.children = children
        self.returnExceptions = returnExceptions
        super.init(core: core)
        // The children hold the gathering (through their callbacks) until they are done, not longer.
        for child in children {
            child.onDone { self.childDone(child) }
        }
    }

    /// Cancels every pending child; the gathering completes when they have finished.
    ///
    /// - Returns: true if at least one child was cancelled. Mirrors `_GatheringFuture.cancel()`.
    @discardableResult
    override func cancel(message: String? = nil) -> Bool {
        guard !isDone else { return false }
        var cancelledOne = false
        for child in children where child.cancel(message: message) {
            cancelledOne = true
        }
        if cancelledOne { cancelRequested = true }
        return cancelledOne
    }

    private func childDone(_ child: any CombinedFuture) {
        finished += 1
        if isDone {
            // Too late to matter; mark the error seen so that it is not reported as lost.
            _ = child.takeFailure()
            return
        }
        if !returnExceptions {
            if child.isCancelled {
                complete(.failed(child.cancelledError))
                return
            }
            if let error = child.takeFailure() {
                complete(.failed(error))
                return
            }
        }
        guard finished == children.count else { return }
        complete(cancelRequested ? .failed(child.cancelledError) : .succeeded(()))
    }
}

// MARK: - gather

/// Waits for every Future and returns their results in input order.
///
/// All children run concurrently (they are Futures or tasks already). The first child to fail
/// makes `gather` throw that error at once; the other children are not cancelled and keep running,
/// as in asyncio. A cancelled child makes `gather` throw `CancelledError`. Cancelling the task
/// that awaits `gather` cancels every child still pending, and `gather` throws `CancelledError`
/// once they have all finished.
///
/// - Parameter futures: the Futures or `LoopTask`s, all of the same loop.
/// - Returns: the results, in the order of `futures` (not of completion).
/// - Throws: the first child's error; `CancelledError`.
///
/// Mirrors `asyncio.gather(*fs)`. Deviations: homogeneous (use the variadic form for mixed
/// types); `gather` is an async function rather than a Future (cancel it by cancelling the task
/// that awaits it).
public func gather<Value>(_ futures: [Future<Value>]) async throws -> [Value] {
    try await gatherAll(futures, returnExceptions: false)
    return try futures.map { try $0.result() }
}

/// Waits for every Future and returns each one's outcome, failures included, in input order.
///
/// With `returnExceptions: true`, a failed or cancelled child does not stop the gathering: its
/// error (`CancelledError` for a cancelled child) becomes its `Result`. With `false` this behaves
/// like `gather(_:)` and every `Result` is a success.
///
/// - Parameters:
///   - futures: the Futures or `LoopTask`s, all of the same loop.
///   - returnExceptions: whether child errors are returned instead of thrown.
/// - Returns: one `Result` per Future, in the order of `futures`.
/// - Throws: `CancelledError` if the gathering is cancelled (the task awaiting it is); without
///   `returnExceptions`, the first child's error.
///
/// Mirrors `asyncio.gather(*fs, return_exceptions=True)`; see `gather(_:)` for the deviations.
public func gather<Value>(
    _ futures: [Future<Value>],
    returnExceptions: Bool
) async throws -> [Result<Value, any Error>] {
    try await gatherAll(futures, returnExceptions: returnExceptions)
    return futures.map { future in Result { try future.result() } }
}

/// Waits for Futures of different types and returns their results as a tuple, in input order.
///
/// `let (name, count) = try await gather(nameTask, countTask)`. Semantics as `gather(_:)`.
///
/// - Parameter futures: the Futures or `LoopTask`s, all of the same loop.
/// - Returns: the results, in the order of the arguments.
/// - Throws: the first child's error; `CancelledError`.
///
/// Mirrors `asyncio.gather(f1, f2, ...)`.
public func gather<each Value>(_ futures: repeat Future<each Value>) async throws -> (repeat each Value) {
    var children: [any CombinedFuture] = []
    for future in repeat each futures {
        children.append(future)
    }
    try await gatherAll(children, returnExceptions: false)
    return (repeat try (each futures).result())
}

// MARK: - gather of closures

/// Runs each closure as a `LoopTask` and waits for all of them; results in input order.
///
/// `gather(_:)` over tasks made for you: `try await gather([{ try await fetch(1) }, { try await fetch(2) }])`.
/// As in asyncio, when one task fails the others keep running unattended; when you want them
/// cancelled, use `withLoopTaskGroup` instead.
///
/// - Parameter bodies: the coroutines, each run as a task on the calling loop.
/// - Returns: their results, in the order of `bodies`.
/// - Throws: the first task's error; `CancelledError`; `AsyncIOError.loopState` off a loop.
///
/// Mirrors `asyncio.gather(coro1(), coro2(), ...)`.
public func gather<Value>(_ bodies: [() async throws -> Value]) async throws -> [Value] {
    let loop = try loopForAwait()
    let tasks: [Future<Value>] = bodies.map { loop.createTaskOnLoopThread(name: nil, $0) }
    return try await gather(tasks)
}

/// Runs closures of different result types as `LoopTask`s and waits for all of them.
///
/// `let (user, posts) = try await gather({ try await fetchUser() }, { try await fetchPosts() })`.
/// Semantics as `gather(_:)` of closures.
///
/// - Parameter bodies: the coroutines, each run as a task on the calling loop.
/// - Returns: their results, as a tuple in argument order.
/// - Throws: the first task's error; `CancelledError`; `AsyncIOError.loopState` off a loop.
///
/// Mirrors `asyncio.gather(coro1(), coro2(), ...)`.
public func gather<each Value>(
    _ bodies: repeat @escaping () async throws -> each Value
) async throws -> (repeat each Value) {
    let loop = try loopForAwait()
    return try await gather(repeat loop.createTaskOnLoopThread(name: nil, each bodies))
}

/// Waits until the gathering of `children` is done; throws what asyncio's outer Future would.
private func gatherAll(_ children: [any CombinedFuture], returnExceptions: Bool) async throws {
    guard !children.isEmpty else { return }
    let core = try loopForAwait().core
    let gathering = GatheringFuture(core: core, children: children, returnExceptions: returnExceptions)
    try await gathering.value
}

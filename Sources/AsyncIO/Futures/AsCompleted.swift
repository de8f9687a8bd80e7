/// The Futures of `asCompleted(_:timeout:)`, in the order they finish.
///
/// Iterate it with `for try await future in asCompleted(tasks) { … }`; each element is one of the
/// given Futures, already done (read it with `result()`). Futures that finished before the
/// iteration started come first, in the order they finished.
///
/// Mirrors the asynchronous iterator `asyncio.as_completed()` returns since Python 3.13 (which
/// yields the original Futures). Deviation: once the timeout has fired, every later `next()` throws
/// `AsyncIOError.timeout` again (asyncio's would wait forever); duplicates are yielded once.
public struct AsCompleted<Value>: AsyncSequence {
    public typealias Element = Future<Value>
    public typealias Failure = any Error

    private let state: AsCompletedState<Value>

    init(_ futures: [Future<Value>], timeout: Duration?) {
        state = AsCompletedState(futures, timeout: timeout)
    }

    public func makeAsyncIterator() -> Iterator { Iterator(state: state) }

    /// Waits for the next Future to finish.
    public struct Iterator: AsyncIteratorProtocol {
        fileprivate let state: AsCompletedState<Value>

        /// The next Future to finish, or nil when every one has been yielded.
        ///
        /// - Throws: `AsyncIOError.timeout` once the deadline has passed and nothing finished is
        ///   left to yield; `CancelledError` if the iterating task is cancelled (the Futures are not).
        public mutating func next() async throws -> Future<Value>? {
            try await state.next()
        }
    }
}

/// Yields `futures` in the order they complete, as an `AsyncSequence`.
///
/// The deadline counts from this call: once `timeout` has passed, the iteration throws
/// `AsyncIOError.timeout` (Futures that finished before it are still yielded first). The Futures
/// are never cancelled by this.
///
/// - Parameters:
///   - futures: the Futures or `LoopTask`s, all of the same loop.
///   - timeout: the time allowed for all of them; nil for no limit.
/// - Returns: the sequence of done Futures.
///
/// Mirrors `asyncio.as_completed(fs, timeout=None)` (3.13's async iteration).
public func asCompleted<Value>(_ futures: [Future<Value>], timeout: Duration? = nil) -> AsCompleted<Value> {
    AsCompleted(futures, timeout: timeout)
}

/// The shared state of an `AsCompleted` and its iterators: asyncio's `_AsCompletedIterator`.
private final class AsCompletedState<Value> {
    private let core: LoopCore?
    private let total: Int
    /// Done Futures in completion order; those before `nextFinished` were yielded.
    private var finished: [Future<Value>] = []
    private var nextFinished = 0
    private var timedOut = false
    private var waiter: Future<Void>?
    private var timeoutHandle: Handle?

    init(_ futures: [Future<Value>], timeout: Duration?) {
        // asyncio takes a set: each Future is yielded once.
        var seen = Set<ObjectIdentifier>()
        let unique = futures.filter { seen.insert(ObjectIdentifier($0)).inserted }
        total = unique.count
        core = unique.first?.core
        guard let core else { return }
        for future in unique {
            future.onDone { [self] in completed(future) }
        }
        if let timeout {
            let handle = Handle(core: core, deadline: (core.clock.now() + timeout).nanoseconds) { [weak self] in
                self?.expire()
            }
            core.callAt(handle)
            timeoutHandle = handle
        }
    }

    deinit {
        timeoutHandle?.cancel()
    }

    private func completed(_ future: Future<Value>) {
        guard !timedOut else { return }
        finished.append(future)
        if finished.count == total { timeoutHandle?.cancel() }
        wake()
    }

    private func expire() {
        timedOut = true
        timeoutHandle = nil
        wake()
    }

    private func wake() {
        if let waiter, !waiter.isDone { waiter.complete(.succeeded(())) }
    }

    func next() async throws -> Future<Value>? {
        guard let core, nextFinished < total else { return nil }
        while true {
            if nextFinished < finished.count {
                let future = finished[nextFinished]
                nextFinished += 1
                return future
            }
            if timedOut { throw AsyncIOError.timeout }
            let waiter = Future<Void>(core: core)
            self.waiter = waiter
            defer { self.waiter = nil }
            try await waiter.value
        }
    }
}

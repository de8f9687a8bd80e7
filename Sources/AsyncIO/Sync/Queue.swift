import DequeModule

/// A queue for handing items between tasks on one event loop, optionally bounded.
///
/// With `maxsize > 0`, `put` waits while the queue holds `maxsize` items (backpressure); `get`
/// waits while it is empty. Waiting putters and getters are served in FIFO order. Each item put
/// counts as an unfinished task until a consumer calls `taskDone()`; `join()` waits for the count
/// to reach zero.
///
/// Unlike `Lock`, the queue does not reserve an item for the getter it wakes (nor room for the
/// putter): as in asyncio, a `get` arriving while the woken getter has not run yet may take the
/// item, and the woken getter then waits again, at the back of the line.
///
/// Cancellation never loses an item or a wake-up: a getter (or putter) woken by a `put` (or
/// `get`) but cancelled before it ran passes the wake-up to the next one in line, as CPython does.
///
/// Shutdown (Python 3.13): after `shutdown()`, `put` and `putNowait` throw
/// `AsyncIOError.queueShutDown`; `get` keeps returning items until the queue is empty, then
/// throws it. `shutdown(immediate: true)` also discards the items (counting each as a finished
/// task, which may release `join()`), so `get` throws at once. Every blocked `put` and `get` is
/// woken to re-check.
///
/// Bound to the running loop the first time a task waits on it (see `Lock`). The order items come
/// out in is the subclass's: `Queue` is FIFO, `LifoQueue` LIFO, `PriorityQueue` smallest first.
///
/// Mirrors `asyncio.Queue`. Deviations: `qsize()`/`empty()`/`full()` are `count`/`isEmpty`/`isFull`;
/// `QueueFull`/`QueueEmpty` are `AsyncIOError.queueFull`/`.queueEmpty`, so that `putNowait` has one
/// typed error covering both "full" and "shut down".
public class Queue<Element>: CustomStringConvertible {
    /// The capacity; 0 or less means unbounded. Mirrors `maxsize`.
    public let maxsize: Int
    let buffer: any QueueBuffer<Element>
    private var binding = LoopBinding()
    private var getters = Waiters()
    private var putters = Waiters()
    private var unfinishedTasks = 0
    private let finished = Event()
    private var isShutDown = false

    /// Creates a FIFO queue holding at most `maxsize` items (unbounded if `maxsize <= 0`).
    ///
    /// Mirrors `Queue(maxsize=0)`.
    public convenience init(maxsize: Int = 0) {
        self.init(maxsize: maxsize, buffer: FIFOBuffer())
    }

    init(maxsize: Int, buffer: any QueueBuffer<Element>) {
        self.maxsize = maxsize
        self.buffer = buffer
        finished.set()
    }

    // MARK: - Size

    /// The number of items in the queue. Mirrors `qsize()`.
    public var count: Int { buffer.count }

    /// True if the queue holds no item. Mirrors `empty()`.
    public var isEmpty: Bool { buffer.count == 0 }

    /// True if the queue holds `maxsize` items; never true for an unbounded queue. Mirrors `full()`.
    public var isFull: Bool { maxsize > 0 && buffer.count >= maxsize }

    /// What the queue is doing now.
    public var statistics: QueueStatistics {
        QueueStatistics(
            count: count,
            maxsize: maxsize,
            unfinishedTasks: unfinishedTasks,
            tasksWaitingToPut: putters.count,
            tasksWaitingToGet: getters.count,
            isShutDown: isShutDown
        )
    }

    /// The queue's kind, capacity, items (in the order they would come out) and waiters.
    public var description: String {
        var text = "<\(Self.self) maxsize=\(maxsize)"
        if !isEmpty { text += " items=\(buffer.orderedItems)" }
        if !getters.isEmpty { text += " getters[\(getters.count)]" }
        if !putters.isEmpty { text += " putters[\(putters.count)]" }
        if unfinishedTasks > 0 { text += " tasks=\(unfinishedTasks)" }
        if isShutDown { text += " shut down" }
        return text + ">"
    }

    // MARK: - Putting

    /// Puts `item` at the back of the queue, waiting for room while it is full.
    ///
    /// - Throws: `AsyncIOError.queueShutDown` if the queue is (or gets) shut down;
    ///   `CancelledError` if cancelled while waiting (the item is not put, and a wake-up received
    ///   goes to the next putter); `AsyncIOError.loopState` for loop misuse. Mirrors `put()`.
    public func put(_ item: Element) async throws {
        while isFull {
            if isShutDown { throw AsyncIOError.queueShutDown }
            let putter = Future<Void>(core: try binding.core(for: "Queue"))
            putters.append(putter)
            do {
                try await putter.value
            } catch {
                putters.abandon(putter, passWakeUpOn: !isFull)
                throw error
            }
        }
        try putNowait(item)
    }

    /// Puts `item` if there is room, without waiting.
    ///
    /// - Throws: `AsyncIOError.queueShutDown` after `shutdown()`; `AsyncIOError.queueFull` if the
    ///   queue is full. Mirrors `put_nowait()`.
    public func putNowait(_ item: Element) throws(AsyncIOError) {
        if isShutDown { throw AsyncIOError.queueShutDown }
        if isFull { throw AsyncIOError.queueFull }
        buffer.push(item)
        unfinishedTasks += 1
        finished.clear()
        getters.popAndWakeNext()
    }

    // MARK: - Getting

    /// Removes and returns the next item, waiting while the queue is empty.
    ///
    /// - Throws: `AsyncIOError.queueShutDown` if the queue is shut down and empty (or shut down
    ///   immediately); `CancelledError` if cancelled while waiting (no item is taken, and a wake-up
    ///   received goes to the next getter); `AsyncIOError.loopState` for loop misuse.
    ///   Mirrors `get()`.
    public func get() async throws -> Element {
        while isEmpty {
            if isShutDown { throw AsyncIOError.queueShutDown }
            let getter = Future<Void>(core: try binding.core(for: "Queue"))
            getters.append(getter)
            do {
                try await getter.value
            } catch {
                getters.abandon(getter, passWakeUpOn: !isEmpty)
                throw error
            }
        }
        return try getNowait()
    }

    /// Removes and returns the next item if there is one, without waiting.
    ///
    /// - Throws: `AsyncIOError.queueShutDown` if the queue is empty and shut down;
    ///   `AsyncIOError.queueEmpty` if it is empty. Mirrors `get_nowait()`.
    public func getNowait() throws(AsyncIOError) -> Element {
        if isEmpty {
            throw isShutDown ? AsyncIOError.queueShutDown : AsyncIOError.queueEmpty
        }
        let item = buffer.pop()
        putters.popAndWakeNext()
        return item
    }

    // MARK: - Task accounting

    /// Marks one item taken with `get` as processed; when all are, `join()` returns.
    ///
    /// - Throws: `AsyncIOError.calledTooManyTimes` if called more often than items were put.
    ///   Mirrors `task_done()` (asyncio raises `ValueError`).
    public func taskDone() throws(AsyncIOError) {
        guard unfinishedTasks > 0 else { throw AsyncIOError.calledTooManyTimes("Queue.taskDone") }
        unfinishedTasks -= 1
        if unfinishedTasks == 0 { finished.set() }
    }

    /// Waits until every item put has been marked done with `taskDone()`.
    ///
    /// - Throws: `CancelledError` if cancelled while waiting. Mirrors `join()`.
    public func join() async throws {
        if unfinishedTasks > 0 {
            try await finished.wait()
        }
    }

    // MARK: - Shutdown

    /// Shuts the queue down: puts fail from now on, and gets fail once the queue is empty.
    ///
    /// Every task blocked in `put` or `get` is woken: blocked putters throw `queueShutDown`,
    /// blocked getters too (the queue is empty, or they would not be blocked).
    ///
    /// - Parameter immediate: also discard the items still queued, each counted as a finished task
    ///   (which may release `join()`), so that `get` throws at once. Mirrors `shutdown(immediate=False)`.
    public func shutdown(immediate: Bool = false) {
        isShutDown = true
        if immediate {
            while !isEmpty {
                _ = buffer.pop()
                if unfinishedTasks > 0 { unfinishedTasks -= 1 }
            }
            if unfinishedTasks == 0 { finished.set() }
        }
        // Wake everyone: each re-checks and throws QueueShutDown.
        while !getters.isEmpty { getters.popAndWakeNext() }
        while !putters.isEmpty { putters.popAndWakeNext() }
    }
}

/// A snapshot of a queue's state.
public struct QueueStatistics: Sendable, Equatable {
    /// Items in the queue.
    public var count: Int
    /// The capacity (0 or less: unbounded).
    public var maxsize: Int
    /// Items put and not yet marked done with `taskDone()`.
    public var unfinishedTasks: Int
    /// Tasks blocked in `put`, including one woken but not yet resumed.
    public var tasksWaitingToPut: Int
    /// Tasks blocked in `get`, including one woken but not yet resumed.
    public var tasksWaitingToGet: Int
    /// Whether `shutdown()` was called.
    public var isShutDown: Bool
}

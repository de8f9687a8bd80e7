/// A queue that gives back the most recently put item first (a stack).
///
/// Everything but the order is `Queue`'s: capacity, waiting, task accounting, shutdown.
///
/// Mirrors `asyncio.LifoQueue`.
public final class LifoQueue<Element>: Queue<Element> {
    /// Creates a LIFO queue holding at most `maxsize` items (unbounded if `maxsize <= 0`).
    ///
    /// Mirrors `LifoQueue(maxsize=0)`.
    public init(maxsize: Int = 0) {
        super.init(maxsize: maxsize, buffer: LIFOBuffer())
    }
}

/// A queue that gives back the smallest item first.
///
/// Everything but the order is `Queue`'s. Items are compared with `<`; to order by a priority,
/// put a type whose `Comparable` conformance compares the priority (asyncio code puts
/// `(priority, data)` tuples).
///
/// Mirrors `asyncio.PriorityQueue`. Deviation: items that compare equal come out in the order they
/// were put (Python's `heapq` does not promise that), so the order is fully deterministic.
public final class PriorityQueue<Element: Comparable>: Queue<Element> {
    /// Creates a priority queue holding at most `maxsize` items (unbounded if `maxsize <= 0`).
    ///
    /// Mirrors `PriorityQueue(maxsize=0)`.
    public init(maxsize: Int = 0) {
        super.init(maxsize: maxsize, buffer: PriorityBuffer())
    }
}

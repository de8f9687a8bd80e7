import DequeModule

/// Where a queue keeps its items, and in which order it gives them back.
///
/// The ordering strategy of `Queue` and its subclasses, as CPython's `_init`/`_put`/`_get`
/// overrides are: `Queue` is FIFO, `LifoQueue` LIFO, `PriorityQueue` smallest first. The waiting,
/// shutdown and task accounting live once, in `Queue`.
protocol QueueBuffer<Element>: AnyObject {
    associatedtype Element
    var count: Int { get }
    func push(_ item: Element)
    /// Removes the next item; only called when `count > 0`.
    func pop() -> Element
    /// The items in the order `pop()` would return them (for `description`).
    var orderedItems: [Element] { get }
}

/// First in, first out.
final class FIFOBuffer<Element>: QueueBuffer {
    private var items = Deque<Element>()

    var count: Int { items.count }
    func push(_ item: Element) { items.append(item) }
    func pop() -> Element { items.removeFirst() }
    var orderedItems: [Element] { Array(items) }
}

/// Last in, first out.
final class LIFOBuffer<Element>: QueueBuffer {
    private var items: [Element] = []

    var count: Int { items.count }
    func push(_ item: Element) { items.append(item) }
    func pop() -> Element { items.removeLast() }
    var orderedItems: [Element] { items.reversed() }
}

/// Smallest first; items that compare equal come out in the order they were put (a binary heap
/// keyed by `(item, insertion number)`).
final class PriorityBuffer<Element: Comparable>: QueueBuffer {
    private struct Entry {
        let item: Element
        let sequence: UInt64

        func precedes(_ other: Entry) -> Bool {
            item < other.item || (!(other.item < item) && sequence < other.sequence)
        }
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    var count: Int { heap.count }

    func push(_ item: Element) {
        heap.append(Entry(item: item, sequence: nextSequence))
        nextSequence &+= 1
        // Sift the new entry up until its parent precedes it.
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    func pop() -> Element {
        let top = heap[0].item
        let last = heap.removeLast()
        guard !heap.isEmpty else { return top }
        heap[0] = last
        // Sift the moved entry down below any child that precedes it.
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < heap.count && heap[left].precedes(heap[first]) { first = left }
            if right < heap.count && heap[right].precedes(heap[first]) { first = right }
            guard first != parent else { break }
            heap.swapAt(parent, first)
            parent = first
        }
        return top
    }

    var orderedItems: [Element] {
        heap.sorted { $0.precedes($1) }.map(\.item)
    }
}

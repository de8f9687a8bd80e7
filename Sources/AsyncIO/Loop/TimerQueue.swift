// Theory of operation
//
// Timers live in a 4-ary min-heap ordered by (deadline, sequence). The sequence number is taken
// from a counter at insertion and kept in the handle, so two timers with the same deadline fire in
// the order they were scheduled (asyncio's heapq gets the same from comparing TimerHandles, then
// insertion order).
//
// The heap is laid out for the cache, because with a million pending timers every pop is a walk
// through memory that is not in it:
// - 4-ary: a pop walks log4(n) levels instead of log2(n); pushes sift up fewer levels too.
// - An entry is 16 bytes, the deadline and the handle. The sequence is read (from the handle) only
//   when two deadlines are equal, which is rare on a real clock, so comparing never leaves the
//   heap's own buffer.
// - The buffer is 64-byte aligned and the root sits in slot 3, so the four children of every node
//   (logical 4i+1 ... 4i+4, physical 4i+4 ... 4i+7) fill exactly one cache line: one line per level.
// - Entries move through a hole, never copied: a copy retains its handle, and that retain is a
//   cache miss on a handle far away in memory.
//
// Cancellation is lazy, as in asyncio: `Handle.cancel()` only marks the handle and counts it. The
// loop drops cancelled handles when it reaches them, and when more than half of the heap is
// cancelled (and it is not tiny) the heap is filtered and rebuilt in O(n), so a program that
// schedules and cancels many timeouts does not keep their closures alive.
//
// The loop asks only two things: the earliest deadline (to bound epoll_wait) and "move everything
// due at or before now to the ready queue". The second pops one timer at a time, unless a burst
// (a loop that was blocked, a million timeouts due at once) makes sorting the due part cheaper.

struct TimerQueue: ~Copyable {
    struct Entry {
        var deadline: Int64
        var handle: Handle
    }

    private static let rootSlot = 3
    private static let alignment = 64
    /// The allocation; `heap` points at its root slot.
    private var buffer: UnsafeMutableRawPointer
    /// Logical index i is `heap[i]`; the children of i are 4i+1 ... 4i+4.
    private var heap: UnsafeMutablePointer<Entry>
    private var capacity: Int
    private(set) var count = 0
    private var nextSequence: UInt64 = 0
    /// Handles in the heap that were cancelled on the loop thread and not yet removed (an estimate:
    /// it only decides when to compact).
    private(set) var cancelledCount = 0

    init(capacity: Int = 64) {
        (buffer, heap) = Self.allocate(capacity: capacity)
        self.capacity = capacity
    }

    deinit {
        heap.deinitialize(count: count)
        buffer.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    mutating func push(_ handle: Handle) {
        handle.sequence = nextSequence
        nextSequence &+= 1
        if count == capacity { grow() }
        siftUp(hole: count, entry: Entry(deadline: handle.deadline, handle: handle))
        count += 1
    }

    /// A pending timer was cancelled on the loop thread.
    mutating func noteCancelled() { cancelledCount += 1 }

    /// A cancelled timer counted by `noteCancelled` left the heap (it reached the front).
    mutating func noteCancelledRemoved() { cancelledCount = max(0, cancelledCount - 1) }

    /// The earliest timer's deadline and whether it was cancelled.
    var first: (deadline: Int64, isCancelled: Bool)? {
        count > 0 ? (heap.pointee.deadline, heap.pointee.handle.isCancelled) : nil
    }

    /// Moves every timer due at or before `now` to the back of `ready`, in (deadline, sequence)
    /// order, cancelled or not (the loop skips cancelled handles when it runs them).
    ///
    /// One pop at a time while few are due. Once a burst has popped an eighth of what is left (and
    /// at least `sortAfter`), the rest is taken by sorting instead: a pop walks log4(n) levels of a
    /// heap far bigger than the cache, a miss per level, while splitting the heap and sorting the
    /// due entries' keys reads memory in order. The first pops pay for the scan.
    mutating func moveDue(now: Int64, into ready: inout ReadyQueue) {
        var moved = 0
        while count > 0, heap.pointee.deadline <= now {
            if moved >= Self.sortAfter, moved * 8 >= count {
                moveDueBySorting(now: now, into: &ready)
                return
            }
            ready.append(.handle(popFirst()))
            moved += 1
        }
    }

    /// How many timers a burst pops one by one before it may switch to sorting.
    static let sortAfter = 64

    /// Splits the due entries off the heap, rebuilds the heap from the others, and appends the
    /// due ones to `ready` in (deadline, sequence) order.
    private mutating func moveDueBySorting(now: Int64, into ready: inout ReadyQueue) {
        // SAFETY: each of the `count` initialised entries is moved once, either to `due` or down to
        // `kept` (≤ its own index), so afterwards exactly [0, kept) of the heap and [0, dueCount)
        // of `due` are initialised; every `due` entry is moved out below before it is freed.
        let due = UnsafeMutablePointer<Entry>.allocate(capacity: count)
        defer { due.deallocate() }
        var dueCount = 0
        var kept = 0
        for index in 0..<count {
            if heap[index].deadline <= now {
                (due + dueCount).moveInitialize(from: heap + index, count: 1)
                dueCount += 1
            } else {
                if kept != index { (heap + kept).moveInitialize(from: heap + index, count: 1) }
                kept += 1
            }
        }
        count = kept
        heapify()
        // Sort plain (deadline, position) keys, not the entries: moving an entry in a generic sort
        // would retain and release its handle. The sequence breaks ties, as in the heap.
        var keys = [(deadline: Int64, position: Int)](unsafeUninitializedCapacity: dueCount) { buffer, initialized in
            for position in 0..<dueCount { buffer[position] = (due[position].deadline, position) }
            initialized = dueCount
        }
        keys.sort { a, b in
            a.deadline < b.deadline
                || (a.deadline == b.deadline && due[a.position].handle.sequence < due[b.position].handle.sequence)
        }
        for key in keys { ready.append(.handle((due + key.position).move().handle)) }
    }

    /// Restores the heap order of [0, count) in O(n) (Floyd's construction).
    private mutating func heapify() {
        guard count > 1 else { return }
        for index in stride(from: (count - 2) / 4, through: 0, by: -1) {
            // SAFETY: the entry is moved out and `siftDown` fills the hole it leaves.
            siftDown(hole: index, entry: (heap + index).move())
        }
    }

    /// Removes the earliest timer. The queue must not be empty.
    mutating func removeFirst() -> Handle {
        precondition(count > 0, "no timer to remove")
        return popFirst()
    }

    /// Removes cancelled timers when they are more than half of a heap of at least 64, and returns
    /// them, so that the caller drops them (deinits may schedule timers) outside the access.
    mutating func compactIfMostlyCancelled() -> [Handle] {
        guard count >= 64, cancelledCount * 2 > count else { return [] }
        // SAFETY: slots [0, count) are initialised; each is either moved down to `kept` (< its own
        // index) or moved out, so afterwards exactly [0, kept) is.
        var removed: [Handle] = []
        var kept = 0
        for index in 0..<count {
            if heap[index].handle.isCancelled {
                removed.append((heap + index).move().handle)
            } else {
                if kept != index { (heap + kept).moveInitialize(from: heap + index, count: 1) }
                kept += 1
            }
        }
        count = kept
        cancelledCount = 0
        heapify()
        return removed
    }

    /// Empties the queue; returns its handles so that the caller drops them outside the access.
    mutating func removeAll() -> [Handle] {
        var handles: [Handle] = []
        handles.reserveCapacity(count)
        // SAFETY: every initialised entry is moved out once, then the count says none is left.
        for index in 0..<count { handles.append((heap + index).move().handle) }
        count = 0
        cancelledCount = 0
        return handles
    }

    // MARK: - Heap

    private static func allocate(capacity: Int) -> (UnsafeMutableRawPointer, UnsafeMutablePointer<Entry>) {
        let stride = MemoryLayout<Entry>.stride
        let buffer = UnsafeMutableRawPointer.allocate(
            byteCount: (rootSlot + capacity) * stride,
            alignment: alignment
        )
        return (buffer, (buffer + rootSlot * stride).bindMemory(to: Entry.self, capacity: capacity))
    }

    private mutating func grow() {
        let (newBuffer, newHeap) = Self.allocate(capacity: capacity * 2)
        // SAFETY: all `count` entries move to the new buffer; the old one is freed empty.
        newHeap.moveInitialize(from: heap, count: count)
        buffer.deallocate()
        (buffer, heap, capacity) = (newBuffer, newHeap, capacity * 2)
    }

    /// Removes the root. The heap must not be empty.
    private mutating func popFirst() -> Handle {
        // SAFETY: the root is moved out; if entries remain, the last one is moved into the hole
        // by `siftDown`, so [0, count) stays initialised.
        count -= 1
        let first = heap.move()
        if count > 0 { siftDown(hole: 0, entry: (heap + count).move()) }
        return first.handle
    }

    /// Fills the hole at `hole` (an uninitialised slot) with `entry`, moving larger parents down.
    private func siftUp(hole: Int, entry: consuming Entry) {
        var child = hole
        while child > 0 {
            let parent = (child - 1) >> 2
            guard Self.precedes(entry, heap + parent) else { break }
            (heap + child).moveInitialize(from: heap + parent, count: 1)
            child = parent
        }
        (heap + child).initialize(to: entry)
    }

    /// Fills the hole at `hole` (an uninitialised slot) with `entry`, moving smaller children up.
    @inline(__always)
    private func siftDown(hole: Int, entry: consuming Entry) {
        // SAFETY: every slot in [0, count) but `hole` is initialised; each step moves the best
        // child into the hole (leaving the hole at the child's slot), and the hole is finally
        // initialised.
        var parent = hole
        while true {
            let first = 4 * parent + 1
            guard first < count else { break }
            var best = first
            let end = min(first + 4, count)
            var child = first + 1
            while child < end {
                if Self.precedes(heap + child, heap + best) { best = child }
                child += 1
            }
            guard Self.precedes(heap + best, entry) else { break }
            (heap + parent).moveInitialize(from: heap + best, count: 1)
            parent = best
        }
        (heap + parent).initialize(to: entry)
    }

    @inline(__always)
    private static func precedes(_ a: UnsafeMutablePointer<Entry>, _ b: UnsafeMutablePointer<Entry>) -> Bool {
        a.pointee.deadline < b.pointee.deadline
            || (a.pointee.deadline == b.pointee.deadline && a.pointee.handle.sequence < b.pointee.handle.sequence)
    }

    @inline(__always)
    private static func precedes(_ a: borrowing Entry, _ b: UnsafeMutablePointer<Entry>) -> Bool {
        a.deadline < b.pointee.deadline
            || (a.deadline == b.pointee.deadline && a.handle.sequence < b.pointee.handle.sequence)
    }

    @inline(__always)
    private static func precedes(_ a: UnsafeMutablePointer<Entry>, _ b: borrowing Entry) -> Bool {
        a.pointee.deadline < b.deadline
            || (a.pointee.deadline == b.deadline && a.pointee.handle.sequence < b.handle.sequence)
    }
}

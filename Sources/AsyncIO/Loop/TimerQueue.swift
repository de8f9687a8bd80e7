// Theory of operation
//
// Timers live in a 4-ary min-heap ordered by (deadline, sequence). The sequence number is taken
// from a counter at insertion, so two timers with the same deadline fire in the order they were
// scheduled (asyncio's heapq gets the same from comparing TimerHandles, then insertion order).
//
// Why 4-ary: a pop walks log4(n) levels instead of log2(n), and the four children of a node sit
// in one or two cache lines, so with a million pending timers a pop touches ~10 lines instead of
// ~20. Pushes are cheaper too (fewer levels to sift up). The entries are small structs stored
// inline in one array: no per-node allocation.
//
// Cancellation is lazy, as in asyncio: `Handle.cancel()` only marks the handle and counts it. The
// loop skips cancelled handles when they reach the top, and when more than half of the heap is
// cancelled (and it is not tiny) the heap is filtered and rebuilt in O(n), so a program that
// schedules and cancels many timeouts does not keep their closures alive.
//
// The loop asks only two things: the earliest deadline (to bound epoll_wait) and "pop everything
// due at or before now" (to move it to the ready queue).

struct TimerQueue {
    struct Entry {
        var deadline: Int64
        var sequence: UInt64
        var handle: Handle

        @inline(__always)
        static func precedes(_ a: Entry, _ b: Entry) -> Bool {
            a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
        }
    }

    private(set) var entries: [Entry] = []
    private var nextSequence: UInt64 = 0
    /// Handles in the heap that were cancelled and not yet removed.
    var cancelledCount = 0

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    mutating func push(_ handle: Handle) {
        entries.append(Entry(deadline: handle.deadline, sequence: nextSequence, handle: handle))
        nextSequence &+= 1
        siftUp(entries.count - 1)
    }

    /// The earliest deadline among live timers, dropping cancelled ones found at the top.
    mutating func earliestDeadline() -> Int64? {
        while let first = entries.first {
            if !first.handle.isCancelled { return first.deadline }
            _ = popFirst()
            cancelledCount -= 1
        }
        return nil
    }

    /// Removes and returns the earliest timer if it is due at or before `now`.
    @inline(__always)
    mutating func popDue(now: Int64) -> Handle? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        _ = popFirst()
        if first.handle.isCancelled { cancelledCount -= 1 }
        return first.handle
    }

    /// Drops cancelled timers when they are more than half of a heap of at least 64.
    mutating func compactIfMostlyCancelled() {
        guard entries.count >= 64, cancelledCount * 2 > entries.count else { return }
        entries.removeAll { $0.handle.isCancelled }
        cancelledCount = 0
        guard entries.count > 1 else { return }
        for index in stride(from: (entries.count - 2) / 4, through: 0, by: -1) { siftDown(index) }
    }

    mutating func removeAll() -> [Handle] {
        defer {
            entries.removeAll()
            cancelledCount = 0
        }
        return entries.map(\.handle)
    }

    // MARK: - Heap

    private mutating func popFirst() -> Entry {
        let last = entries.removeLast()
        guard !entries.isEmpty else { return last }
        let first = entries[0]
        entries[0] = last
        siftDown(0)
        return first
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        let entry = entries[child]
        while child > 0 {
            let parent = (child - 1) >> 2
            guard Entry.precedes(entry, entries[parent]) else { break }
            entries[child] = entries[parent]
            child = parent
        }
        entries[child] = entry
    }

    private mutating func siftDown(_ start: Int) {
        let count = entries.count
        var parent = start
        let entry = entries[parent]
        while true {
            let first = 4 * parent + 1
            guard first < count else { break }
            var best = first
            let end = min(first + 4, count)
            var child = first + 1
            while child < end {
                if Entry.precedes(entries[child], entries[best]) { best = child }
                child += 1
            }
            guard Entry.precedes(entries[best], entry) else { break }
            entries[parent] = entries[best]
            parent = best
        }
        entries[parent] = entry
    }
}

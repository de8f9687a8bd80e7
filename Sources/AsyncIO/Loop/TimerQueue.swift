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
        while !entries.isEmpty {
            if !entries[0].handle.isCancelled { return entries[0].deadline }
            _ = popFirst()
            cancelledCount -= 1
        }
        return nil
    }

    /// Removes and returns the earliest timer if it is due at or before `now`.
    @inline(__always)
    mutating func popDue(now: Int64) -> Handle? {
        guard !entries.isEmpty, entries[0].deadline <= now else { return nil }
        let handle = popFirst().handle
        if handle.isCancelled { cancelledCount -= 1 }
        return handle
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
    //
    // The sifts move entries through a hole instead of copying them: a copy of an Entry retains
    // its Handle, and with a large heap every retain is a cache miss on a Handle far away in
    // memory (it was 40% of the time spent draining 1M due timers). Comparisons read the keys in
    // place, so a sift touches only the heap's own array.

    private mutating func popFirst() -> Entry {
        let last = entries.removeLast()
        guard !entries.isEmpty else { return last }
        return entries.withUnsafeMutableBufferPointer { buffer in
            // SAFETY: index 0 exists (the array is not empty); it is moved out, leaving a hole
            // that `siftDown(hole:entry:in:)` fills with `last` before the buffer is handed back.
            let first = buffer.baseAddress!.move()
            Self.siftDown(hole: 0, entry: last, in: buffer)
            return first
        }
    }

    private mutating func siftUp(_ start: Int) {
        entries.withUnsafeMutableBufferPointer { buffer in
            // SAFETY: `start` is a valid index; its entry is moved out and the hole travels up by
            // moving parents down, then is filled with the entry: every slot ends initialised.
            let base = buffer.baseAddress!
            let entry = (base + start).move()
            var child = start
            while child > 0 {
                let parent = (child - 1) >> 2
                guard Self.precedes(entry.deadline, entry.sequence, base + parent) else { break }
                (base + child).moveInitialize(from: base + parent, count: 1)
                child = parent
            }
            (base + child).initialize(to: entry)
        }
    }

    private mutating func siftDown(_ start: Int) {
        entries.withUnsafeMutableBufferPointer { buffer in
            // SAFETY: `start` is a valid index; its entry is moved out and put back by siftDown.
            let entry = (buffer.baseAddress! + start).move()
            Self.siftDown(hole: start, entry: entry, in: buffer)
        }
    }

    /// Fills the hole at `hole` (an uninitialised slot) with `entry`, moving smaller children up.
    @inline(__always)
    private static func siftDown(hole: Int, entry: consuming Entry, in buffer: UnsafeMutableBufferPointer<Entry>) {
        // SAFETY: every slot but `hole` is initialised; each step moves the best child into the
        // hole (leaving the hole at the child's slot), and the hole is finally initialised.
        let base = buffer.baseAddress!
        let count = buffer.count
        let deadline = entry.deadline
        let sequence = entry.sequence
        var parent = hole
        while true {
            let first = 4 * parent + 1
            guard first < count else { break }
            var best = first
            let end = min(first + 4, count)
            var child = first + 1
            while child < end {
                if precedes(base + child, base + best) { best = child }
                child += 1
            }
            guard precedes(base + best, deadline, sequence) else { break }
            (base + parent).moveInitialize(from: base + best, count: 1)
            parent = best
        }
        (base + parent).initialize(to: entry)
    }

    @inline(__always)
    private static func precedes(_ a: UnsafeMutablePointer<Entry>, _ b: UnsafeMutablePointer<Entry>) -> Bool {
        precedes(a.pointee.deadline, a.pointee.sequence, b)
    }

    @inline(__always)
    private static func precedes(_ deadline: Int64, _ sequence: UInt64, _ b: UnsafeMutablePointer<Entry>) -> Bool {
        deadline < b.pointee.deadline || (deadline == b.pointee.deadline && sequence < b.pointee.sequence)
    }

    @inline(__always)
    private static func precedes(_ a: UnsafeMutablePointer<Entry>, _ deadline: Int64, _ sequence: UInt64) -> Bool {
        a.pointee.deadline < deadline || (a.pointee.deadline == deadline && a.pointee.sequence < sequence)
    }
}

import CAsyncIOShims

/// What the ready queue holds: a Swift job (a task's next slice), a scheduled callback, or a task
/// that yielded (`sleep(.zero)`), resumed at its place in the queue.
enum ReadyItem: Sendable {
    /// A job enqueued on the loop as serial executor: it continues code isolated to the loop.
    case job(UnownedJob)
    /// A job enqueued on the loop as task executor: it continues nonisolated code of a task that
    /// prefers the loop.
    case taskJob(UnownedJob)
    case handle(Handle)
    case resume(UnsafeContinuation<Void, Never>)
}

/// The loop's ready queue: a ring buffer of `ReadyItem`s, FIFO, that grows by doubling and never
/// shrinks.
///
/// The loop appends and pops an entry for every callback and every task step, so this is its
/// hottest data structure. `Deque` did the same job with a copy-on-write storage object whose
/// uniqueness check, retain and release on every append and pop were a tenth of a `callSoon` round
/// trip; here an append is a store and an increment, a pop a move and an increment.
struct ReadyQueue: ~Copyable {
    private var storage: UnsafeMutablePointer<ReadyItem>
    /// A power of two, so that positions wrap with a mask.
    private var capacity: Int
    private var head = 0
    private(set) var count = 0

    init(capacity: Int = 256) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "capacity must be a power of two")
        storage = .allocate(capacity: capacity)
        self.capacity = capacity
    }

    deinit {
        for offset in 0..<count { (storage + ((head + offset) & (capacity - 1))).deinitialize(count: 1) }
        storage.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    mutating func append(_ item: consuming ReadyItem) {
        if count == capacity { grow() }
        // SAFETY: the slot after the last entry is inside the buffer (count < capacity) and free.
        (storage + ((head + count) & (capacity - 1))).initialize(to: item)
        count += 1
    }

    @inline(__always)
    mutating func popFirst() -> ReadyItem? {
        guard count > 0 else { return nil }
        // SAFETY: `head` holds the first of `count > 0` initialised entries; it is moved out and
        // the slot becomes free.
        let item = (storage + head).move()
        head = (head + 1) & (capacity - 1)
        count -= 1
        return item
    }

    /// Starts loading into the cache the object the entry `offset` places from the front refers to
    /// (a handle, a job, a continuation), if there is such an entry.
    ///
    /// When a stall or a burst of timers queued many entries, their objects are spread over memory
    /// that is no longer in the cache, and running each began with a miss. Asking for an entry's
    /// object a few entries before it runs overlaps those misses.
    @inline(__always)
    func prefetch(at offset: Int) {
        guard offset < count else { return }
        // SAFETY: reads the initialised entry's first word, without retaining what it refers to.
        // Every case's payload is one pointer; the mask clears the bits an enum may use for its
        // tag (above the 47-bit user address space, and alignment bits). Were the layout ever
        // different, the address would merely be useless: a prefetch never faults.
        let word = UnsafeRawPointer(storage + ((head + offset) & (capacity - 1))).load(as: UInt.self)
        casyncio_prefetch(UnsafeRawPointer(bitPattern: word & 0x0000_7FFF_FFFF_FFF8))
    }

    /// Empties the queue and returns what it held, so that the caller can let go of the entries
    /// once it is no longer accessing the queue (their deinits may schedule again).
    mutating func removeAll() -> ReadyQueue {
        var taken = ReadyQueue(capacity: 16)
        swap(&self, &taken)
        return taken
    }

    private mutating func grow() {
        let newStorage = UnsafeMutablePointer<ReadyItem>.allocate(capacity: capacity * 2)
        // SAFETY: the queue is full: its entries are [head, capacity) then [0, head). Both runs are
        // moved, in order, to the front of the new buffer, and the old one is freed empty.
        let firstRun = capacity - head
        newStorage.moveInitialize(from: storage + head, count: firstRun)
        (newStorage + firstRun).moveInitialize(from: storage, count: head)
        storage.deallocate()
        storage = newStorage
        capacity *= 2
        head = 0
    }
}

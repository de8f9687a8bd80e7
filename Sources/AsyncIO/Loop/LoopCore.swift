import CAsyncIOShims
import DequeModule
import Glibc
import Synchronization

/// What the ready queue holds: a Swift job (a task's next slice) or a scheduled callback.
enum ReadyItem: Sendable {
    case job(UnownedJob)
    case handle(Handle)
}

/// One registered file descriptor: either a handler object (a transport) or reader/writer callbacks.
final class IORegistration {
    let fd: Int32
    let generation: UInt32
    var interest: SelectorEvents = []
    var handler: (any IOHandler)?
    var reader: Handle?
    var writer: Handle?

    init(fd: Int32, generation: UInt32) {
        self.fd = fd
        self.generation = generation
    }

    var token: UInt64 { UInt64(UInt32(bitPattern: fd)) | UInt64(generation) << 32 }
}

/// The loop's machinery: the executor Swift enqueues jobs on, the ready queue, timers, the selector,
/// and the thread-safe inbox.
///
/// `EventLoop` (the actor users see) is a facade over this object; its executor *is* this object.
/// Everything below `// MARK: - Loop-thread state` is touched only by the thread running the loop
/// (or by the thread that owns a loop that is not running); the thread-safe entry points are
/// `enqueue` from another thread, `pushThreadSafe` and `requestStop`, which go through the inbox
/// lock and the atomics.
final class LoopCore: SerialExecutor, TaskExecutor, @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): the loop-thread state is confined to the thread recorded in
    // `ownerThread` while the loop runs (checked by `isOnLoopThread` where it matters); the
    // cross-thread state is either atomic or guarded by `inbox`'s lock.

    // MARK: - Cross-thread state

    private let inbox = LockedValue<[ReadyItem]>([])
    private let inboxPending = Atomic<Bool>(false)
    private let wakeFD: Int32
    /// `pthread_self()` of the thread running the loop; 0 when it is not running.
    private let ownerThread = Atomic<UInt>(0)
    private let stopRequested = Atomic<Bool>(false)
    private let closedFlag = Atomic<Bool>(false)
    let exceptionHandler = LockedValue<ExceptionHandler?>(nil)

    // MARK: - Loop-thread state

    var ready = Deque<ReadyItem>()
    /// Tasks suspended in `sleep(.zero)`; resumed at the start of the next iteration's run.
    var yielders: [UnsafeContinuation<Void, Never>] = []
    private var spareInbox: [ReadyItem] = []
    /// Ready entries run since the selector was last polled; see `runOnce`.
    private var itemsSincePoll = 0
    private static let itemsBetweenPolls = 64
    var timers = TimerQueue()
    let selector: EpollSelector
    let clock: any LoopClock
    private var registrations: [IORegistration?] = []
    private var nextGeneration: UInt32 = 1
    /// Pending tasks, so that `allTasks` can list them and `close` can report them.
    var pendingTasks: [ObjectIdentifier: any AnyLoopTask] = [:]
    var debug = false
    var slowCallbackDuration: Duration = .milliseconds(100)
    /// Callbacks run by `shutdown` hooks (the default executor's shutdown, for instance).
    var defaultExecutor: ThreadPoolExecutor?
    /// Counters for `EventLoop.statistics`; written by the loop thread only (single writer, so a
    /// relaxed load and store suffice), readable from any thread.
    let counters = LoopCounters()
    weak var facade: EventLoop?
    /// Transports' per-loop state: the shared read buffer, signal handlers (Transports/LoopIOState.swift).
    lazy var io = LoopIOState()

    init(clock: any LoopClock) throws(SystemError) {
        self.clock = clock
        selector = try EpollSelector()
        let fd = casyncio_eventfd()
        guard fd >= 0 else {
            selector.close()
            throw SystemError(call: "eventfd")
        }
        wakeFD = fd
        do {
            try selector.register(fd: fd, interest: .readable, token: Self.wakeToken)
        } catch {
            selector.close()
            Glibc.close(fd)
            throw error
        }
    }

    private static let wakeToken = UInt64.max

    // MARK: - Threads

    /// True when called on the thread running this loop.
    @inline(__always)
    var isOnLoopThread: Bool { ownerThread.load(ordering: .relaxed) == UInt(pthread_self()) }

    var isRunning: Bool { ownerThread.load(ordering: .relaxed) != 0 }
    var isClosed: Bool { closedFlag.load(ordering: .relaxed) }

    func claimThread() -> Bool {
        ownerThread.compareExchange(expected: 0, desired: UInt(pthread_self()), ordering: .acquiring).exchanged
    }

    func releaseThread() {
        ownerThread.store(0, ordering: .releasing)
    }

    // MARK: - SerialExecutor / TaskExecutor

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if isOnLoopThread {
            // From the loop thread: straight into the ready queue, no lock, no syscall.
            counters.bump(.jobs)
            ready.append(.job(job))
        } else {
            pushThreadSafe(.job(job))
        }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(complexEquality: self)
    }

    func isSameExclusiveExecutionContext(other: LoopCore) -> Bool { self === other }

    func checkIsolated() {
        precondition(isOnLoopThread, "not on the event loop's thread")
    }

    func isIsolatingCurrentContext() -> Bool? { isOnLoopThread }

    /// Runs a job as the loop: isolated to the loop actor and with the loop as task executor, so
    /// the runtime sees both and never hops back to us.
    @inline(__always)
    private func run(_ job: UnownedJob) {
        job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
    }

    // MARK: - Scheduling

    /// Appends a callback to the ready queue. Loop thread only.
    @inline(__always)
    func callSoon(_ handle: Handle) {
        ready.append(.handle(handle))
    }

    /// Adds a timer. Loop thread only.
    func callAt(_ handle: Handle) {
        timers.push(handle)
    }

    func timerCancelled() {
        timers.cancelledCount += 1
    }

    /// Queues work from any thread and wakes the loop if it may be blocked.
    func pushThreadSafe(_ item: ReadyItem) {
        let wasEmpty = inbox.withLock { queue in
            queue.append(item)
            guard queue.count == 1 else { return false }
            inboxPending.store(true, ordering: .releasing)
            return true
        }
        // Only the push that makes the inbox non-empty writes the eventfd: one syscall per batch.
        if wasEmpty { wake() }
    }

    func wake() {
        _ = casyncio_eventfd_write(wakeFD)
    }

    func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
        if !isOnLoopThread { wake() }
    }

    private func drainInbox() {
        guard inboxPending.load(ordering: .acquiring) else { return }
        inbox.withLock { queue in
            swap(&queue, &spareInbox)
            inboxPending.store(false, ordering: .relaxed)
        }
        for item in spareInbox {
            if case .job = item { counters.bump(.jobs) }
            ready.append(item)
        }
        spareInbox.removeAll(keepingCapacity: true)
    }

    // MARK: - Running

    /// Runs iterations until `stop()` is requested. Loop thread only.
    func runUntilStopped() {
        stopRequested.store(false, ordering: .relaxed)
        while true {
            runOnce()
            if stopRequested.load(ordering: .relaxed) { break }
        }
        stopRequested.store(false, ordering: .relaxed)
    }

    /// One iteration; see `EventLoop+Run.swift` for the theory of operation.
    func runOnce() {
        counters.bump(.iterations)
        // 1. How long may we block? Not at all if work is ready, a stop is pending, or another
        //    thread has queued something; otherwise until the earliest timer (or forever, -1).
        //    nil: do not poll at all this time.
        let stopping = stopRequested.load(ordering: .relaxed)
        let hasWork = !ready.isEmpty || !yielders.isEmpty
        let timeout: Int64?
        if hasWork && itemsSincePoll < Self.itemsBetweenPolls && !stopping {
            // Work is ready and I/O was polled recently: skip the syscall this time (Tokio polls
            // its driver every 61 scheduler ticks for the same reason). A task switch through a
            // Future then costs no syscall, and I/O still waits at most a few dozen entries.
            timeout = nil
        } else if hasWork || stopping || inboxPending.load(ordering: .relaxed) {
            timeout = 0
        } else if let deadline = timers.earliestDeadline() {
            let now = clock.now().nanoseconds
            let jumped = deadline > now && clock.jump(to: LoopInstant(nanoseconds: deadline))
            timeout = deadline <= now || jumped ? 0 : deadline - now
        } else {
            timeout = -1
        }

        // 2. Block in epoll, then dispatch readiness inline.
        if let timeout {
            itemsSincePoll = 0
            do {
                try selector.wait(timeoutNanoseconds: timeout) { token, events in
                    dispatch(token: token, events: events)
                }
            } catch {
                reportException(message: "selector wait failed", error: error)
            }
        }

        // 3. What other threads queued while we were blocked runs in this iteration.
        drainInbox()

        // 4. Move due timers to the ready queue, in deadline order (ties: scheduling order).
        let now = clock.now().nanoseconds
        while let handle = timers.popDue(now: now) {
            if !handle.isCancelled { ready.append(.handle(handle)) }
        }
        timers.compactIfMostlyCancelled()

        // Tasks that yielded in the previous iteration are woken now, so they run in this one
        // (asyncio's sleep(0) resumes one iteration later, at the cost of a single job).
        if !yielders.isEmpty {
            let woken = yielders
            yielders.removeAll(keepingCapacity: true)
            for continuation in woken { continuation.resume() }
        }

        // 5. Run exactly what is ready now; what these schedule runs in the next iteration.
        var remaining = ready.count
        itemsSincePoll &+= remaining
        if debug {
            while remaining > 0, let item = ready.popFirst() {
                remaining -= 1
                runTimed(item)
            }
        } else {
            while remaining > 0, let item = ready.popFirst() {
                remaining -= 1
                switch item {
                case .job(let job): run(job)
                case .handle(let handle): runHandle(handle)
                }
            }
        }
    }

    @inline(__always)
    private func runHandle(_ handle: Handle) {
        guard !handle.isCancelled, let callback = handle.callback else {
            handle.callback = nil
            return
        }
        do {
            try callback()
        } catch {
            reportException(message: "Exception in callback", error: error, handle: handle)
        }
    }

    private func runTimed(_ item: ReadyItem) {
        let start = MonotonicClock.shared.now()
        let what: String
        switch item {
        case .job(let job):
            what = "a task step"
            run(job)
        case .handle(let handle):
            what = handle.description
            runHandle(handle)
        }
        let elapsed = MonotonicClock.shared.now() - start
        if elapsed >= slowCallbackDuration {
            logger.warning("Executing \(what) took \(elapsed)")
        }
    }

    private func dispatch(token: UInt64, events: SelectorEvents) {
        if token == Self.wakeToken {
            _ = casyncio_eventfd_drain(wakeFD)
            return
        }
        let fd = Int(UInt32(truncatingIfNeeded: token))
        guard fd < registrations.count, let registration = registrations[fd],
            registration.generation == UInt32(truncatingIfNeeded: token >> 32)
        else { return }
        if let handler = registration.handler {
            handler.ioReady(events)
            return
        }
        if events.contains(.readable), let reader = registration.reader {
            runHandle(reader)
        }
        // The reader may have removed the registration; look again before calling the writer.
        if events.contains(.writable), let current = registrations[fd], current === registration,
            let writer = registration.writer
        {
            runHandle(writer)
        }
    }

    // MARK: - File descriptors

    /// The registration for `fd`, made if absent. Loop thread only.
    func registration(for fd: Int32) -> IORegistration {
        let index = Int(fd)
        if index >= registrations.count {
            registrations.append(
                contentsOf: repeatElement(nil, count: max(index + 1, registrations.count * 2) - registrations.count)
            )
        }
        if let existing = registrations[index] { return existing }
        let registration = IORegistration(fd: fd, generation: nextGeneration)
        nextGeneration &+= 1
        registrations[index] = registration
        return registration
    }

    func existingRegistration(for fd: Int32) -> IORegistration? {
        let index = Int(fd)
        return index < registrations.count ? registrations[index] : nil
    }

    /// Makes the selector watch `interest` for the registration, adding or removing it as needed.
    func updateInterest(_ registration: IORegistration, to interest: SelectorEvents) throws(SystemError) {
        let old = registration.interest
        guard old != interest else { return }
        if interest.isEmpty {
            registration.interest = []
            try? selector.deregister(fd: registration.fd)
            registrations[Int(registration.fd)] = nil
            return
        }
        if old.isEmpty {
            try selector.register(fd: registration.fd, interest: interest, token: registration.token)
        } else {
            try selector.modify(fd: registration.fd, interest: interest, token: registration.token)
        }
        registration.interest = interest
    }

    // MARK: - Closing

    /// Releases the selector and the wake-up descriptor; returns what was still scheduled.
    func close() -> (tasks: [any AnyLoopTask], dropped: Int) {
        closedFlag.store(true, ordering: .relaxed)
        let tasks = Array(pendingTasks.values)
        pendingTasks.removeAll()
        drainInbox()
        let dropped = ready.count + timers.count
        ready.removeAll()
        _ = timers.removeAll()
        for case let registration? in registrations {
            registration.handler = nil
            registration.reader = nil
            registration.writer = nil
        }
        registrations.removeAll()
        selector.close()
        Glibc.close(wakeFD)
        return (tasks, dropped)
    }
}

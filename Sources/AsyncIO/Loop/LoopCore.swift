import CAsyncIOShims
import Glibc
import Logging
import Synchronization

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

/// Through which of its two roles a job reached the loop.
enum ExecutorRole {
    case serial
    case task
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

    /// Watched, with nothing to call: the interest a socket's finished wait leaves armed.
    var isLeftOver: Bool { handler == nil && reader == nil && writer == nil && !interest.isEmpty }
}

/// The loop's machinery: the executor Swift enqueues jobs on, the ready queue, timers, the selector,
/// and the thread-safe inbox.
///
/// `EventLoop` (the actor users see) is a facade over this object; its executor *is* this object.
/// Everything below `// MARK: - Loop-thread state` is touched only by the thread running the loop
/// (or by the thread that owns a loop that is not running); the thread-safe entry points are
/// `enqueue` from another thread, `pushThreadSafe` and `requestStop`, which go through the inbox
/// lock and the atomics.
final class LoopCore: SerialExecutor, @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): the loop-thread state is confined to the thread recorded in
    // `ownerThread` while the loop runs (checked by `isOnLoopThread` where it matters); the
    // cross-thread state is either atomic or guarded by `inbox`'s lock.

    // MARK: - Cross-thread state

    /// Work from other threads. Also guards `closedFlag` transitions, so nothing is queued after
    /// `close()` drained it.
    private let inboxLock = PThreadLock()
    /// Guarded by `inboxLock`.
    @exclusivity(unchecked) private var inbox = ReadyQueue()
    private let inboxPending = Atomic<Bool>(false)
    private let wakeFD: Int32
    /// `pthread_self()` of the thread running the loop; 0 when it is not running.
    private let ownerThread = Atomic<UInt>(0)
    private let stopRequested = Atomic<Bool>(false)
    private let closedFlag = Atomic<Bool>(false)
    let exceptionHandler = LockedValue<ExceptionHandler?>(nil)
    /// Where the default exception handler and debug mode's slow-callback reports go.
    let loggerBox = LockedValue<Logger>(defaultLogger)

    // MARK: - Loop-thread state

    // SAFETY (for `@exclusivity(unchecked)`): loop-thread state, and no access to it overlaps
    // another: no user code runs inside an append or a pop, and `close`, which drops every entry
    // at once, lets go of them only after the access has ended, so no deinit reenters. Without
    // it, every access is a dynamic exclusivity check (swift_beginAccess/endAccess, a TLS lookup
    // each): a quarter of the time of a callSoon round trip.
    @exclusivity(unchecked) var ready = ReadyQueue()
    /// Set while a `.resume` entry resumes its task: the job that resumption enqueues is kept here
    /// and run at once, in the entry's place, instead of going to the back of the queue.
    private var capturingResumedJob = false
    private var resumedJob: (UnownedJob, ExecutorRole)?
    /// The inbox's other buffer: swapped with it under the lock, then emptied into `ready`.
    @exclusivity(unchecked) private var spareInbox = ReadyQueue()
    /// The job running now (its address) and the role it runs in; the pending hop of that task.
    private var runningJob: UInt = 0
    private var runningRole = ExecutorRole.serial
    private var hopJob: UnownedJob?
    private var hopRole = ExecutorRole.serial
    /// The loop's task-executor role: the object tasks name as executor preference.
    /// Made with the core (it is read from any thread, and by every job the loop runs).
    let taskExecutor = LoopTaskExecutor()
    private let taskExecutorRef: UnownedTaskExecutor
    /// Ready entries run since the selector was last polled; see `runOnce`.
    private var itemsSincePoll = 0
    private static let itemsBetweenPolls = 64
    /// How many entries ahead of the one running the loop prefetches (see `ReadyQueue.prefetch`).
    private static let prefetchDistance = 8
    /// SAFETY (for `@exclusivity(unchecked)`): as for `ready`; the queue hands back what it drops.
    @exclusivity(unchecked) var timers = TimerQueue()
    let selector: EpollSelector
    let clock: any LoopClock
    @exclusivity(unchecked) private var registrations: [IORegistration?] = []
    private var nextGeneration: UInt32 = 1
    /// Tasks created but not started yet. With `runningTasks`, the pending tasks, which `allTasks`
    /// lists and `close` reports; a task is in one table only, so a suspended task costs one entry.
    var unstartedTasks: [ObjectIdentifier: any RunningLoopTask] = [:]
    /// Each LoopTask whose body is running, by its Swift task (see `RunningLoopTask`).
    /// SAFETY (for `@exclusivity(unchecked)`): loop thread only, and no access to it calls out
    /// (what it removes is dropped by the caller, after the access).
    @exclusivity(unchecked) var runningTasks = AddressTable<any RunningLoopTask>()
    /// Makes the loop's tasks when set (`EventLoop.setTaskFactory`).
    var taskFactory: (any TaskFactory)?
    /// The last token `Future.addDoneCallback` handed out, on any of this loop's Futures.
    var callbackTokens = 0
    /// Where each pending task was created, kept in debug mode only (for the reports about it).
    var taskSites: [ObjectIdentifier: CallSite] = [:]
    var debug = false
    var slowCallbackDuration: Duration = .milliseconds(100)
    /// Callbacks run by `shutdown` hooks (the default executor's shutdown, for instance).
    var defaultExecutor: ThreadPoolExecutor?
    /// Set by `shutdownDefaultExecutor`: `runInExecutor` then refuses to make a new default pool.
    var defaultExecutorShutDown = false
    /// Counters for `EventLoop.statistics`; written by the loop thread only (single writer, so a
    /// relaxed load and store suffice), readable from any thread.
    let counters = LoopCounters()
    weak var facade: EventLoop?
    /// Transports' per-loop state: the shared read buffer, signal handlers (`Transports/LoopIOState.swift`).
    /// Made on first use (a loop that does no I/O does not allocate the read buffer).
    var io: LoopIOState {
        if let ioStorage { return ioStorage }
        let made = LoopIOState()
        ioStorage = made
        return made
    }
    /// SAFETY (for `@exclusivity(unchecked)`, here and on the registration table below): loop
    /// thread only, and every access is a plain load or store that calls nothing back. A checked
    /// access (a `lazy var`'s, say) costs a thread-local lookup each time, on every read.
    @exclusivity(unchecked) private var ioStorage: LoopIOState?

    init(clock: any LoopClock) throws(SystemError) {
        self.clock = clock
        taskExecutorRef = taskExecutor.asUnownedTaskExecutor()
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
        taskExecutor.core = Unmanaged.passUnretained(self)
    }

    private static let wakeToken = UInt64.max

    deinit {
        if !isClosed { selector.close() }
        // The eventfd lives as long as the core, not the open loop: a thread that passed the
        // closed check in `pushThreadSafe` just before `close()` may still write to it, and a
        // descriptor closed under it could already be reused by another file.
        Glibc.close(wakeFD)
    }

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
        enqueue(UnownedJob(job), role: .serial)
    }

    /// Takes a job from the runtime, through either role.
    ///
    /// A job of the task that is running right now, arriving through the *other* role, is not new
    /// work: it is the runtime moving that task between loop-isolated and nonisolated code (a
    /// "hop", SE-0338). It runs as soon as the current job returns, ahead of the queue, as if the
    /// task had never suspended. Through the *same* role it is a real yield (`Task.yield()`) and
    /// queues behind everything else, FIFO.
    @inline(__always)
    func enqueue(_ job: UnownedJob, role: ExecutorRole) {
        if isOnLoopThread {
            if Self.address(of: job) == runningJob, role != runningRole, hopJob == nil {
                counters.bump(.hops)
                hopJob = job
                hopRole = role
                return
            }
            // From the loop thread: straight into the ready queue, no lock, no syscall.
            counters.bump(.jobs)
            if capturingResumedJob {
                capturingResumedJob = false
                resumedJob = (job, role)
                return
            }
            ready.append(role == .serial ? .job(job) : .taskJob(job))
        } else {
            pushThreadSafe(role == .serial ? .job(job) : .taskJob(job))
        }
    }

    /// The address of a job, for comparison only (a task's job is the task itself).
    @inline(__always)
    private static func address(of job: UnownedJob) -> UInt {
        // SAFETY: UnownedJob is a single pointer to the job; the value is only compared, never
        // dereferenced, so a layout change could only make the hop fast path miss, never misfire.
        unsafeBitCast(job, to: UInt.self)
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(complexEquality: self)
    }

    func isSameExclusiveExecutionContext(other: LoopCore) -> Bool { self === other }

    func checkIsolated() {
        precondition(isOnLoopThread, "not on the event loop's thread")
    }

    func isIsolatingCurrentContext() -> Bool? { isOnLoopThread }

    /// Runs a job in the role it came through, then any hop of the same task it caused.
    ///
    /// A serial-role job runs isolated to the loop with the loop as task executor; a task-role job
    /// runs on the loop as task executor only (nonisolated). Telling the runtime exactly where it
    /// is means it hops only when the code really changes isolation, and such hops are run at once
    /// (see `enqueue(_:role:)`).
    @inline(__always)
    private func run(_ job: UnownedJob, role: ExecutorRole) {
        // Runs may nest (an eager task's first step runs inside its creator's): restore the outer one.
        let outerJob = runningJob
        let outerRole = runningRole
        defer {
            runningJob = outerJob
            runningRole = outerRole
        }
        var job = job
        var role = role
        while true {
            runningJob = Self.address(of: job)
            runningRole = role
            // Through either role, the job runs isolated to the loop. A task-role job is a task
            // resumed outside any actor (a continuation resumes that way, even one parked in
            // loop-isolated code); run as the loop's, its step back into loop-isolated code needs
            // no hop. The loop thread is the loop's isolation whichever way a job came.
            job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: taskExecutorRef)
            guard let hop = hopJob else { break }
            hopJob = nil
            job = hop
            role = hopRole
        }
    }

    // MARK: - Scheduling

    /// Appends a callback to the ready queue. Loop thread only.
    @inline(__always)
    func callSoon(_ handle: consuming Handle) {
        ready.append(.handle(handle))
    }

    /// Adds a timer. Loop thread only.
    func callAt(_ handle: Handle) {
        timers.push(handle)
    }

    /// Queues work from any thread and wakes the loop if it may be blocked.
    ///
    /// - Returns: false, dropping `item`, if the loop is closed.
    @discardableResult
    func pushThreadSafe(_ item: consuming ReadyItem) -> Bool {
        // Not `withLock { … }`: a closure cannot consume `item`, and the copy it would make is a
        // retain and a release of the handle, on a cache line the loop thread is about to read.
        inboxLock.lock()
        guard !closedFlag.load(ordering: .relaxed) else {
            inboxLock.unlock()
            return false
        }
        inbox.append(item)
        let wasEmpty = inbox.count == 1
        if wasEmpty { inboxPending.store(true, ordering: .releasing) }
        inboxLock.unlock()
        // Only the push that makes the inbox non-empty writes the eventfd: one syscall per batch.
        if wasEmpty { wake() }
        return true
    }

    /// Runs `callback` on the loop thread in a later iteration; callable from any thread.
    ///
    /// - Returns: false, dropping `callback`, if the loop is closed.
    @discardableResult
    func callSoonThreadSafe(_ callback: @escaping () -> Void) -> Bool {
        pushThreadSafe(.handle(Handle(core: self, callback: callback)))
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
        inboxLock.withLock {
            swap(&inbox, &spareInbox)
            inboxPending.store(false, ordering: .relaxed)
        }
        while let item = spareInbox.popFirst() {
            switch item {
            case .job, .taskJob: counters.bump(.jobs)
            case .handle, .resume: break
            }
            ready.append(item)
        }
    }

    // MARK: - Running

    /// Runs iterations until `stop()` is requested. Loop thread only.
    ///
    /// A stop requested before the call is honoured after one iteration, as asyncio does (and so a
    /// `stop()` from another thread that races with the start of the run is never lost).
    func runUntilStopped() {
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
        let hasWork = !ready.isEmpty
        let timeout: Int64?
        if hasWork && itemsSincePoll < Self.itemsBetweenPolls && !stopping {
            // Work is ready and I/O was polled recently: skip the syscall this time (Tokio polls
            // its driver every 61 scheduler ticks for the same reason). A task switch through a
            // Future then costs no syscall, and I/O still waits at most a few dozen entries.
            timeout = nil
        } else if hasWork || stopping || inboxPending.load(ordering: .relaxed) {
            timeout = 0
        } else if let deadline = earliestTimerDeadline() {
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
        while let handle = timers.popDue(now: now) { ready.append(.handle(handle)) }
        _ = timers.compactIfMostlyCancelled()  // dropped here, once the queue's access ended

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
                ready.prefetch(at: Self.prefetchDistance)
                switch item {
                case .job(let job): run(job, role: .serial)
                case .taskJob(let job): run(job, role: .task)
                case .handle(let handle): runHandle(handle)
                case .resume(let continuation): resumeInPlace(continuation)
                }
            }
        }
    }

    /// The earliest deadline among live timers, dropping cancelled ones found at the front (each
    /// after the timer queue's access ended: a closure's deinit may schedule again).
    private func earliestTimerDeadline() -> Int64? {
        while let (deadline, isCancelled) = timers.first {
            guard isCancelled else { return deadline }
            _ = timers.removeFirst()  // dropped here, once the queue's access ended
            timers.noteCancelledRemoved()
        }
        return nil
    }

    /// Resumes a task that yielded and runs its next step at once, in the entry's queue position
    /// (asyncio's `sleep(0)` puts the task's step behind what was scheduled before it, ahead of
    /// what was scheduled after). Costs one job, like any resumption.
    private func resumeInPlace(_ continuation: UnsafeContinuation<Void, Never>) {
        runJobEnqueued { continuation.resume() }
    }

    /// Calls `body`, and runs at once (nested, on this thread) the job it makes the runtime enqueue
    /// here, instead of queueing it: a resumption in place, or an eager task's first step.
    ///
    /// A task whose executor is not this loop enqueues nothing here, and nothing is run.
    func runJobEnqueued(by body: () -> Void) {
        capturingResumedJob = true
        body()
        capturingResumedJob = false
        if let (job, role) = resumedJob {
            resumedJob = nil
            run(job, role: role)
        }
    }

    /// Runs a handle taken from the ready queue. Its callback is moved out, not copied: a handle
    /// runs once, and the move saves a retain and a release of the closure per callback.
    @inline(__always)
    private func runHandle(_ handle: Handle) {
        guard let callback = handle.callback.take() else {
            // Cancelled on the loop thread before it ran; a timer's cancellation was counted.
            if handle.deadline != .min { timers.noteCancelledRemoved() }
            return
        }
        guard !handle.isCancelled else { return }
        call(callback, of: handle)
    }

    /// Runs a reader's or writer's handle, which stays registered for the next readiness.
    private func runIOHandle(_ handle: Handle) {
        guard !handle.isCancelled, let callback = handle.callback else { return }
        call(callback, of: handle)
    }

    @inline(__always)
    private func call(_ callback: () throws -> Void, of handle: Handle) {
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
            run(job, role: .serial)
        case .taskJob(let job):
            what = "a task step"
            run(job, role: .task)
        case .handle(let handle):
            what = handle.description
            runHandle(handle)
        case .resume(let continuation):
            what = "a task step after sleep(0)"
            resumeInPlace(continuation)
        }
        let elapsed = MonotonicClock.shared.now() - start
        if elapsed >= slowCallbackDuration {
            let logger = loggerBox.withLock { $0 }
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
            runIOHandle(reader)
        }
        // The reader may have removed the registration; look again before calling the writer.
        if events.contains(.writable), let current = registrations[fd], current === registration,
            let writer = registration.writer
        {
            runIOHandle(writer)
        }
        // Readiness nobody waits for: a socket's finished wait left its interest armed
        // (EventLoop+SocketWaits.swift). Disarm it, or level-triggered epoll reports it on every poll.
        var unattended = events.intersection(registration.interest)
        if registration.reader != nil { unattended.remove(.readable) }
        if registration.writer != nil { unattended.remove(.writable) }
        if !unattended.isEmpty, registrations[fd] === registration, registration.handler == nil {
            try? updateInterest(registration, to: registration.interest.subtracting(unattended))
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
        if let existing = registrations[index] {
            // Armed with nothing attached: what a socket's finished wait left (EventLoop+SocketWaits.swift).
            // Whoever asks is not that socket, and the number may have been reused: start afresh.
            guard existing.isLeftOver else { return existing }
            try? selector.deregister(fd: fd)
        }
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

    /// Stops watching `fd` for `handler` (if it is still the descriptor's handler) and closes it.
    /// Loop thread only.
    func closeDescriptor(_ fd: Int32, ownedBy handler: any IOHandler) {
        if let registration = existingRegistration(for: fd), registration.handler === handler {
            registration.handler = nil
            try? updateInterest(registration, to: [])
        }
        Glibc.close(fd)
    }

    // MARK: - Closing

    /// Releases the selector and the wake-up descriptor; returns what was still scheduled.
    func close() -> (tasks: [any RunningLoopTask], dropped: Int) {
        // Under the inbox lock, so no push can land after the drain below.
        inboxLock.withLock { closedFlag.store(true, ordering: .relaxed) }
        let tasks = pendingTasks
        unstartedTasks.removeAll()
        let running = runningTasks.removeAll()
        _ = consume running
        drainInbox()
        // Take the ready queue out before dropping it: deinits of what it holds may run user code
        // that schedules again (see the SAFETY note on `ready`).
        let droppedReady = ready.removeAll()
        let droppedTimers = timers.removeAll()
        let dropped = droppedReady.count + droppedTimers.count
        for case let registration? in registrations {
            registration.handler = nil
            registration.reader = nil
            registration.writer = nil
        }
        registrations.removeAll()
        selector.close()
        return (tasks, dropped)
    }
}

/// The loop in its role of task executor: what tasks created on the loop prefer (SE-0417).
///
/// A separate object from `LoopCore` (the serial executor) so that the loop knows through which
/// role the runtime hands it a job, and can tell a task's executor hop from a real yield.
final class LoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    // SAFETY: the core outlives this object (the core owns it) and sets this in its init, before
    // anything can enqueue here; enqueue is thread-safe in the core. Unmanaged, not a reference:
    // reading a reference (even `unowned(unsafe)`) retained and released the core at every
    // resumption of a task.
    var core: Unmanaged<LoopCore>?

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        core.unsafelyUnwrapped._withUnsafeGuaranteedRef { $0.enqueue(job, role: .task) }
    }
}

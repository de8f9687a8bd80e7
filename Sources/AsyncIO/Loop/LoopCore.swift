import Glibc
import Logging
import Synchronization

/// The loop's machinery: the executor Swift enqueues jobs on, the ready queue, timers, the selector,
/// and the thread-safe inbox.
///
/// `EventLoop` (the actor users see) is a facade over this object; its executor *is* this object.
/// Everything below `// MARK: - Loop-thread state` is touched only by the thread running the loop
/// (or by the thread that owns a loop that is not running); the thread-safe entry points are
/// `enqueue` from another thread, `pushThreadSafe` and `requestStop`, which go through the inbox
/// lock and the atomics.
///
/// Its concerns, one file each:
/// - this file: the state, the threads, scheduling and the inbox, closing;
/// - `LoopCore+Executor.swift`: the `SerialExecutor` and `TaskExecutor` roles, and how a job runs;
/// - `EventLoop+Run.swift`: `runOnce`, one iteration, with the theory of operation;
/// - `Selector/Selector.swift`: the registration table, owned by `selector`.
final class LoopCore: @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): the loop-thread state is confined to the thread recorded in
    // `ownerThread` while the loop runs (checked by `isOnLoopThread` where it matters); the
    // cross-thread state is either atomic or guarded by `inbox`'s lock.

    // MARK: - Cross-thread state

    /// Work from other threads. Also guards `closedFlag` transitions, so nothing is queued after
    /// `close()` drained it.
    private let inboxLock = PThreadLock()
    /// Guarded by `inboxLock`.
    @exclusivity(unchecked) private var inbox = ReadyQueue()
    let inboxPending = Atomic<Bool>(false)
    /// Written when the inbox goes from empty to non-empty; watched by the selector. It lives as
    /// long as the core, not the open loop: a thread that passed the closed check in
    /// `pushThreadSafe` just before `close()` may still write to it, and a descriptor closed under
    /// it could already be reused by another file.
    private let wakeup: Wakeup
    /// `pthread_self()` of the thread running the loop; 0 when it is not running.
    private let ownerThread = Atomic<UInt>(0)
    let stopRequested = Atomic<Bool>(false)
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
    /// and run at once, in the entry's place, instead of going to the back of the queue
    /// (`runJobEnqueued`, in `LoopCore+Executor.swift`).
    var capturingResumedJob = false
    var resumedJob: (UnownedJob, ExecutorRole)?
    /// The inbox's other buffer: swapped with it under the lock, then emptied into `ready`.
    @exclusivity(unchecked) private var spareInbox = ReadyQueue()
    /// The job running now (its address) and the role it runs in; the pending hop of that task
    /// (see `enqueue(_:role:)`).
    var runningJob: UInt = 0
    var runningRole = ExecutorRole.serial
    var hopJob: UnownedJob?
    var hopRole = ExecutorRole.serial
    /// The loop's task-executor role: the object tasks name as executor preference.
    /// Made with the core (it is read from any thread, and by every job the loop runs).
    let taskExecutor = LoopTaskExecutor()
    let taskExecutorRef: UnownedTaskExecutor
    /// Ready entries run since the selector was last polled; see `runOnce`.
    var itemsSincePoll = 0
    static let itemsBetweenPolls = 64
    /// How many entries ahead of the one running the loop prefetches (see `ReadyQueue.prefetch`).
    static let prefetchDistance = 8
    /// SAFETY (for `@exclusivity(unchecked)`): as for `ready`; the queue hands back what it drops.
    @exclusivity(unchecked) var timers = TimerQueue()
    /// The descriptors the loop watches, and their registrations (`Selector/`).
    let selector: Selector
    let clock: any LoopClock
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
    /// The task groups whose scope is open, in the order they opened: their children count as
    /// awaited by their parent in the call graph (`CallGraph.swift`).
    var taskGroups: [LoopTaskGroup] = []
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
    /// SAFETY (for `@exclusivity(unchecked)`): loop thread only, and every access is a plain load
    /// or store that calls nothing back. A checked access (a `lazy var`'s, say) costs a
    /// thread-local lookup each time, on every read.
    @exclusivity(unchecked) private var ioStorage: LoopIOState?
    /// The transports' state if any transport was made (closing the loop reaps its children).
    var existingIO: LoopIOState? { ioStorage }

    init(clock: any LoopClock) throws(SystemError) {
        self.clock = clock
        taskExecutorRef = taskExecutor.asUnownedTaskExecutor()
        let wakeup = try Wakeup()
        do {
            selector = try Selector(wakeup: wakeup)
        } catch {
            wakeup.close()
            throw error
        }
        self.wakeup = wakeup
        taskExecutor.core = Unmanaged.passUnretained(self)
    }

    deinit {
        if !isClosed { selector.close() }
        wakeup.close()  // only now: see `wakeup`
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
        wakeup.wake()
    }

    func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
        if !isOnLoopThread { wake() }
    }

    /// Moves what other threads queued into the ready queue. Loop thread only.
    func drainInbox() {
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

    // MARK: - Closing

    /// Drops what is still scheduled and every registration, and releases the selector's kernel
    /// object (the wake-up stays until the core goes); returns what was still scheduled.
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
        selector.close()
        return (tasks, dropped)
    }
}

/// Through which of its two roles a job reached the loop.
enum ExecutorRole {
    case serial
    case task
}

// MARK: - SerialExecutor / TaskExecutor

extension LoopCore: SerialExecutor {
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
}

// MARK: - Running jobs

extension LoopCore {
    /// Runs a job in the role it came through, then any hop of the same task it caused.
    ///
    /// A serial-role job runs isolated to the loop with the loop as task executor; a task-role job
    /// runs on the loop as task executor only (nonisolated). Telling the runtime exactly where it
    /// is means it hops only when the code really changes isolation, and such hops are run at once
    /// (see `enqueue(_:role:)`). Loop thread only: called by `runOnce` and `runJobEnqueued`.
    @inline(__always)
    func run(_ job: UnownedJob, role: ExecutorRole) {
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

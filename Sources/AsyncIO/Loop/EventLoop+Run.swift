// Theory of operation
//
// One iteration of the loop (`LoopCore.runOnce`, below: the only place callbacks and task steps run)
// is asyncio's `_run_once`:
//
//   1. Decide how long to block: not at all if something is ready, a stop is pending, or another
//      thread queued work; else until the earliest live timer; else forever.
//   2. `epoll_wait` (nanosecond timeout through `epoll_pwait2`), then dispatch each ready fd inline:
//      the selector finds the event's registration in its table (`Selector/Selector.swift`), and a
//      transport reads and calls its protocol at once, as libuv and SwiftNIO do. The selector drains
//      the wake-up eventfd (`Loop/Wakeup.swift`).
//   3. Move what other threads queued (`callSoonThreadSafe`, jobs enqueued from other threads) into
//      the ready queue.
//   4. Move every timer due by now into the ready queue, in (deadline, sequence) order.
//   5. Run exactly the entries that are in the ready queue now, FIFO. What they schedule —
//      callbacks, woken tasks, resolved Futures' callbacks — lands behind them and runs in the next
//      iteration, so a callback that reschedules itself cannot starve I/O.
//
// Swift jobs and callbacks share the one ready queue, so a task woken by a Future and a callback
// scheduled at the same moment run in the order they were scheduled. A job enqueued from the loop
// thread is appended directly (no lock, no syscall); from another thread it goes through the inbox,
// which writes the eventfd only when it goes from empty to non-empty.
//
// The loop stops after the iteration in which `stop()` was called; callbacks scheduled by that
// iteration stay queued for the next run (asyncio's behaviour).
//
// Blocking run calls refuse to run inside a Swift task: a loop parked in epoll_wait on one of the
// cooperative pool's threads (one per core, two here) would starve every other Swift task.

extension EventLoop {
    /// Runs the loop until `stop()` is called. Mirrors `loop.run_forever()`.
    ///
    /// - Throws: `AsyncIOError.loopState` if the loop is closed or already running, if another loop
    ///   runs on this thread, or if called from inside a Swift task.
    public nonisolated func runForever() throws(AsyncIOError) {
        try enterRun()
        defer { exitRun() }
        core.runUntilStopped()
    }

    /// Runs `body` as a task on this loop, blocking the calling thread until it completes, and
    /// returns its result. Mirrors `loop.run_until_complete(coro)`.
    ///
    /// - Throws: `body`'s error; `CancelledError` if the task was cancelled;
    ///   `AsyncIOError.loopState` for the misuses `runForever` refuses, or if `stop()` ended the run
    ///   before the task completed.
    public nonisolated func runUntilComplete<Value>(
        _ body: @escaping (isolated EventLoop) async throws -> Value
    ) throws -> Value {
        try enterRun()
        defer { exitRun() }
        // SAFETY: `task` and `body` are created and used on this thread only: the closure below runs
        // synchronously on it (the loop is claimed by this thread, so assumeIsolated holds), and the
        // loop runs the task on this same thread until we return.
        nonisolated(unsafe) var task: LoopTask<Value>?
        nonisolated(unsafe) let operation = body
        assumeIsolated { loop in
            // Not eager, whatever the task factory says: the loop is not running yet (asyncio starts
            // a task eagerly only on a running loop).
            let created = loop.createTask(eagerStart: false) { try await operation(loop) }
            created.addDoneCallback { _ in loop.core.requestStop() }
            task = created
        }
        core.runUntilStopped()
        guard let task, task.isDone else {
            throw AsyncIOError.loopState("Event loop stopped before Future completed.")
        }
        return try task.result()
    }

    /// Stops the loop after the current iteration. Safe from any thread. Mirrors `loop.stop()`.
    public nonisolated func stop() {
        core.requestStop()
    }

    /// Closes the loop: drops what is still scheduled, reports tasks still pending, releases the
    /// epoll descriptor and shuts the default executor down without waiting.
    ///
    /// Closing twice does nothing. Mirrors `loop.close()`.
    /// - Throws: `AsyncIOError.loopState` if the loop is running.
    public nonisolated func close() throws(AsyncIOError) {
        guard !core.isClosed else { return }
        guard core.claimThread() else { throw AsyncIOError.loopState("Cannot close a running event loop") }
        defer { core.releaseThread() }
        // No child left behind: those still running are killed and reaped (see ChildProcessTransport).
        if let children = core.existingIO?.children.values {
            for child in children { child.reapAtClose() }
            core.existingIO?.children.removeAll()
        }
        let pending = core.close()
        for task in pending.tasks {
            core.reportException(message: "Task was destroyed but it is pending!", source: "\(task)")
        }
        core.taskSites.removeAll()
        core.defaultExecutor?.shutdown(wait: false)
        core.defaultExecutor = nil
    }

    private nonisolated func enterRun() throws(AsyncIOError) {
        guard !core.isClosed else { throw AsyncIOError.loopState("Event loop is closed") }
        guard withUnsafeCurrentTask(body: { $0 == nil }) else {
            throw AsyncIOError.loopState(
                "Cannot run an event loop from inside a Swift task: it would block a thread of the cooperative pool. "
                    + "Run it from synchronous code or on a thread of its own (EventLoopThread)."
            )
        }
        guard runningLoopSlot.value == nil else {
            throw AsyncIOError.loopState("Cannot run the event loop while another loop is running")
        }
        guard core.claimThread() else { throw AsyncIOError.loopState("This event loop is already running") }
        runningLoopSlot.value = self
    }

    private nonisolated func exitRun() {
        runningLoopSlot.value = nil
        core.releaseThread()
    }
}

// MARK: - One iteration

extension LoopCore {
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

    /// One iteration; see the theory of operation at the top of this file.
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
                try selector.wait(timeoutNanoseconds: timeout) { registration, events in
                    dispatch(registration, events)
                }
            } catch {
                reportException(message: "selector wait failed", error: error)
            }
        }

        // 3. What other threads queued while we were blocked runs in this iteration.
        drainInbox()

        // 4. Move due timers to the ready queue, in deadline order (ties: scheduling order).
        let now = clock.now().nanoseconds
        timers.moveDue(now: now, into: &ready)
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

    /// Calls what is registered for a ready descriptor: its handler (a transport), or its reader
    /// and writer callbacks. The selector passes only registrations still live.
    private func dispatch(_ registration: IORegistration, _ events: SelectorEvents) {
        if let handler = registration.handler {
            handler.ioReady(events)
            return
        }
        if events.contains(.readable), let reader = registration.reader {
            runIOHandle(reader)
        }
        // The reader may have removed the registration; look again before calling the writer.
        if events.contains(.writable), selector.existingRegistration(for: registration.fd) === registration,
            let writer = registration.writer
        {
            runIOHandle(writer)
        }
        // Readiness nobody waits for: a socket's finished wait left its interest armed
        // (EventLoop+SocketWaits.swift). Disarm it, or level-triggered epoll reports it on every poll.
        var unattended = events.intersection(registration.interest)
        if registration.reader != nil { unattended.remove(.readable) }
        if registration.writer != nil { unattended.remove(.writable) }
        if !unattended.isEmpty, selector.existingRegistration(for: registration.fd) === registration,
            registration.handler == nil
        {
            try? selector.updateInterest(registration, to: registration.interest.subtracting(unattended))
        }
    }
}

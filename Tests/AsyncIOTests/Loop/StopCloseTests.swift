import AsyncIO
import AsyncIOTesting
import Testing

@Suite struct StopCloseTests {
    @Test func stopFinishesTheCurrentBatchAndLeavesLaterCallbacksForTheNextRun() async throws {
        let events = try await onPlainThread { () throws -> [String] in
            let loop = try EventLoop(clock: VirtualClock())
            let log = EventLog<String>()
            try loop.callSoonThreadSafe {
                log.append("A calls stop()")
                loop.stop()
                _ = loop.assumeIsolated { loop in
                    loop.callSoon { log.append("C (scheduled by A)") }
                }
            }
            try loop.callSoonThreadSafe { log.append("B (same batch as A)") }
            try loop.runForever()
            log.append("first runForever returned")
            loop.stop()
            try loop.runForever()
            log.append("second runForever returned")
            try loop.close()
            return log.events
        }
        #expect(
            events == [
                "A calls stop()", "B (same batch as A)", "first runForever returned", "C (scheduled by A)",
                "second runForever returned",
            ]
        )
    }

    @Test func runUntilCompleteThrowsWhenStopEndsTheRunFirst() async throws {
        let outcome = try await onPlainThread { () throws -> String in
            let loop = try EventLoop(clock: VirtualClock())
            defer { try? loop.close() }
            do {
                try loop.runUntilComplete { loop in
                    loop.stop()
                    try await sleep(.seconds(1))
                }
                return "returned"
            } catch let error as AsyncIOError {
                return "\(error)"
            }
        }
        #expect(outcome == "RuntimeError: Event loop stopped before Future completed.")
    }

    @Test func closingARunningLoopIsAnError() async throws {
        let outcome = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            do {
                try loop.close()
                return "closed"
            } catch {
                return "\(error) running=\(loop.isRunning) closed=\(loop.isClosed)"
            }
        }
        #expect(outcome == "RuntimeError: Cannot close a running event loop running=true closed=false")
    }

    @Test func aClosedLoopRefusesWorkAndClosingTwiceIsFine() async throws {
        let events = try await onPlainThread { () throws -> [String] in
            let loop = try EventLoop(clock: VirtualClock())
            var events: [String] = []
            try loop.close()
            try loop.close()
            events.append("closed twice: \(loop.isClosed)")
            do {
                try loop.callSoonThreadSafe {}
            } catch {
                events.append("callSoonThreadSafe: \(error)")
            }
            do {
                try loop.runForever()
            } catch {
                events.append("runForever: \(error)")
            }
            do {
                _ = try loop.runCoroutineThreadSafe { _ in 1 }
            } catch {
                events.append("runCoroutineThreadSafe: \(error)")
            }
            return events
        }
        #expect(
            events == [
                "closed twice: true",
                "callSoonThreadSafe: RuntimeError: Event loop is closed",
                "runForever: RuntimeError: Event loop is closed",
                "runCoroutineThreadSafe: RuntimeError: Event loop is closed",
            ]
        )
    }

    @Test func closeReportsTasksStillPendingToTheExceptionHandler() async throws {
        let reports = try await onPlainThread { () throws -> [String] in
            let loop = try EventLoop(clock: VirtualClock())
            let log = EventLog<String>()
            loop.setExceptionHandler(recordingExceptionHandler(into: log))
            try loop.runUntilComplete { loop in
                loop.createTask(name: "sleeper") { try await sleep(.seconds(60)) }
                try await sleep(.zero)
            }
            try loop.close()
            return log.events
        }
        #expect(reports == ["Task was destroyed but it is pending!"])
    }

    @Test func inDebugModeAPendingTaskIsReportedWithWhereItWasCreated() async throws {
        let sources = try await onPlainThread { () throws -> [String] in
            let loop = try EventLoop(clock: VirtualClock())
            let log = EventLog<String>()
            loop.setExceptionHandler { _, context in log.append(context.source ?? "no source") }
            try loop.runUntilComplete { loop in
                loop.debug = true
                loop.createTask(name: "sleeper", fileID: "Example/Sleeper.swift", line: 7) {
                    try await sleep(.seconds(60))
                }
                loop.createTask(name: "done", fileID: "Example/Done.swift", line: 8) {}
                try await sleep(.zero)
            }
            try loop.close()
            return log.events
        }
        #expect(sources == ["<LoopTask sleeper pending created at Example/Sleeper.swift:7>"])
    }
}

@Suite struct RunGuardTests {
    @Test func runningALoopInsideASwiftTaskIsALoopStateError() async throws {
        let loop = try EventLoop(clock: VirtualClock())
        defer { try? loop.close() }
        #expect(throws: AsyncIOError.self) { try loop.runForever() }
        do {
            _ = try loop.runUntilComplete { _ in 1 }
            Issue.record("runUntilComplete ran inside a Swift task")
        } catch let error as AsyncIOError {
            guard case .loopState = error else { throw error }
        }
        #expect(throws: AsyncIOError.self) { try run { _ in 1 } }
    }

    @Test func runningALoopThatAlreadyRunsIsALoopStateError() async throws {
        let thread = try EventLoopThread(clock: VirtualClock())
        defer { thread.shutdown() }
        // Make sure the loop runs before trying to run it a second time.
        _ = try await thread.run { _ in 0 }
        let outcome = try await onPlainThread { () -> String in
            do {
                try thread.loop.runForever()
                return "ran"
            } catch {
                return "\(error)"
            }
        }
        #expect(outcome == "RuntimeError: This event loop is already running")
    }

    @Test func runningAnotherLoopFromALoopCallbackIsALoopStateError() async throws {
        let outcome = try await onPlainThread { () throws -> String in
            let outer = try EventLoop(clock: VirtualClock())
            let inner = try EventLoop(clock: VirtualClock())
            let log = EventLog<String>()
            try outer.callSoonThreadSafe {
                do {
                    try inner.runForever()
                } catch {
                    log.append("\(error)")
                }
                outer.stop()
            }
            try outer.runForever()
            try outer.close()
            try inner.close()
            return log.events.joined()
        }
        #expect(outcome == "RuntimeError: Cannot run the event loop while another loop is running")
    }
}

@Suite struct ExceptionHandlerTests {
    @Test func aThrowingCallbackIsReportedAndTheLoopGoesOn() async throws {
        let log = EventLog<String>()
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            loop.setExceptionHandler(recordingExceptionHandler(into: log))
            loop.callSoon { throw TaggedError(tag: "first") }
            loop.callSoon { events.append("next callback runs") }
            loop.callLater(.seconds(1)) { throw TaggedError(tag: "timer") }
            try await sleep(.seconds(2))
            events.append("task goes on")
            return events
        }
        #expect(events == ["next callback runs", "task goes on"])
        #expect(log.events == ["Exception in callback: first", "Exception in callback: timer"])
    }

    @Test func aFailedTaskNobodyLookedAtIsReportedAsNeverRetrieved() async throws {
        let log = EventLog<String>()
        try await EventLoopThread.run(clock: VirtualClock()) { loop in
            loop.setExceptionHandler(recordingExceptionHandler(into: log))
            loop.createTask(name: "forgotten") { throw TaggedError(tag: "lost") }
            let looked = loop.createTask(name: "looked at") { () throws -> Int in throw TaggedError(tag: "seen") }
            for _ in 0..<3 { try await sleep(.zero) }
            #expect(looked.isDone)
            #expect(throws: TaggedError.self) { try looked.result() }
        }
        #expect(log.events == ["Task exception was never retrieved: lost"])
    }

    @Test func aFailedFutureNobodyLookedAtIsReportedAsNeverRetrieved() async throws {
        let log = EventLog<String>()
        try await EventLoopThread.run(clock: VirtualClock()) { loop in
            loop.setExceptionHandler(recordingExceptionHandler(into: log))
            do {
                let future = loop.createFuture(of: Int.self)
                try future.setException(TaggedError(tag: "dropped"))
            }
            let cancelled = loop.createFuture(of: Int.self)
            cancelled.cancel()
        }
        #expect(log.events == ["Future exception was never retrieved: dropped"])
    }

    /// asyncio's `Future.cancel()` and `Task.cancel()` clear the "never retrieved" flag before they
    /// look at the state: cancelling a Future that already failed returns False and counts as
    /// having looked at its exception.
    @Test func cancellingAFailedFutureReturnsFalseAndCountsAsRetrievingItsError() async throws {
        let log = EventLog<String>()
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            loop.setExceptionHandler(recordingExceptionHandler(into: log))
            var events: [String] = []
            do {
                let future = loop.createFuture(of: Int.self)
                try future.setException(TaggedError(tag: "future, cancelled after it failed"))
                events.append("future cancel: \(future.cancel())")
            }
            do {
                let task = loop.createTask { () throws -> Int in
                    throw TaggedError(tag: "task, cancelled after it failed")
                }
                try await sleep(.zero)
                events.append("task done: \(task.isDone), cancel: \(task.cancel())")
            }
            return events
        }
        #expect(events == ["future cancel: false", "task done: true, cancel: false"])
        #expect(log.events == [])
    }

    @Test func callExceptionHandlerReachesTheInstalledHandler() async throws {
        let log = EventLog<String>()
        let installed = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var installed = ["default: \(loop.getExceptionHandler() == nil)"]
            loop.setExceptionHandler(recordingExceptionHandler(into: log))
            loop.callExceptionHandler(ExceptionContext(message: "custom", error: TaggedError(tag: "x"), source: nil))
            // What getExceptionHandler returns is the installed handler: a wrapper can chain to it.
            let previous = try #require(loop.getExceptionHandler())
            loop.setExceptionHandler { loop, context in
                previous(loop, ExceptionContext(message: "wrapped \(context.message)", error: context.error))
            }
            loop.callExceptionHandler(ExceptionContext(message: "again"))
            loop.setExceptionHandler(nil)
            installed.append("after reset: \(loop.getExceptionHandler() == nil)")
            return installed
        }
        #expect(installed == ["default: true", "after reset: true"])
        #expect(log.events == ["custom: x", "wrapped again"])
    }

    /// asyncio's `loop.call_soon(cb); loop.call_later(1, …); loop.run_forever()` on a loop not yet
    /// running: the loop's API is isolated to it, so the calls go in a first `runUntilComplete`
    /// (FromPython.md shows it); they run when the loop runs. `callSoonThreadSafe` works before too.
    @Test func callbacksScheduledBeforeTheLoopRunsRunOnceItRuns() async throws {
        let events = try await onPlainThread { () throws -> [String] in
            let loop = try EventLoop(clock: VirtualClock())
            defer { try? loop.close() }
            let log = EventLog<String>()
            try loop.callSoonThreadSafe { log.append("thread-safe, scheduled before") }
            try loop.runUntilComplete { loop in
                loop.callSoon { log.append("soon") }
                loop.callLater(.seconds(1)) {
                    log.append("later, at \(loop.time.seconds)")
                    loop.stop()
                }
            }
            log.append("scheduled")
            try loop.runForever()
            return log.events
        }
        #expect(events == ["thread-safe, scheduled before", "soon", "scheduled", "later, at 1.0"])
    }

    /// Issue 12: a wait on a Future of a closed loop used to end with "Result is not set".
    @Test func awaitingAFutureWhoseLoopClosedSaysSo() async throws {
        let thread = try EventLoopThread(clock: VirtualClock())
        let pending = try await thread.run { loop in SendableBox(loop.createFuture(of: Int.self)) }
        thread.shutdown()
        do {
            _ = try await pending.value.value
            Issue.record("the wait returned")
        } catch {
            #expect("\(error)".hasPrefix("RuntimeError: Event loop is closed: the Future can never complete"))
        }
    }
}

/// Carries a loop-bound object out of the loop, for a test that uses it after the loop closed.
struct SendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

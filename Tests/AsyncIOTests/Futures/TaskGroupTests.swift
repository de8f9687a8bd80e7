import AsyncIO
import AsyncIOTesting
import Testing

@Suite struct TaskGroupTests {
    @Test(arguments: TaskStart.allCases)
    func aGroupWaitsForEveryChild(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            let (value, tasks) = try await withLoopTaskGroup { group in
                let tasks = try [2, 1, 3].map { seconds in
                    try group.createTask(name: "child-\(seconds)") {
                        try await sleep(.seconds(seconds))
                        events.append("child \(seconds) done \(loop.now)")
                        return seconds * 10
                    }
                }
                events.append("body done \(loop.now)")
                return ("body value", tasks)
            }
            events.append("group done \(loop.now): \(value), \(try tasks.map { try $0.result() })")
            return events
        }
        #expect(
            events == [
                "body done t=0.0s", "child 1 done t=1.0s", "child 2 done t=2.0s", "child 3 done t=3.0s",
                "group done t=3.0s: body value, [20, 10, 30]",
            ]
        )
    }

    @Test(arguments: TaskStart.allCases)
    func aFailingChildCancelsTheOthersAndTheBody(start: TaskStart) async throws {
        let (events, sibling) = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            // The sibling's story is kept apart: whether it or the body resumes first is the core's
            // scheduling, not the group's rule.
            var sibling: [String] = []
            do {
                try await withLoopTaskGroup { group in
                    try group.createTask { () async throws -> Void in
                        try await sleep(.seconds(1))
                        throw Boom("child")
                    }
                    try group.createTask {
                        do { try await sleep(.seconds(10)) } catch {
                            sibling.append("sibling got \(error) \(loop.now)")
                            throw error
                        }
                    }
                    do { try await sleep(.seconds(10)) } catch {
                        events.append("body got \(error) \(loop.now)")
                        throw error
                    }
                }
            } catch let error as ExceptionGroup {
                events.append("group threw \(error.errors) \(loop.now)")
            }
            // The group took its own cancellation of this task back: the task goes on.
            events.append("cancelling: \(currentTask()!.cancelling())")
            try await sleep(.seconds(1))
            events.append("task goes on \(loop.now)")
            return (events, sibling)
        }
        #expect(
            events == [
                "body got CancelledError t=1.0s", "group threw [Boom(child)] t=1.0s", "cancelling: 0",
                "task goes on t=2.0s",
            ]
        )
        #expect(sibling == ["sibling got CancelledError t=1.0s"])
    }

    @Test(arguments: TaskStart.allCases)
    func twoChildrenFailingTogetherBothComeBack(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            do {
                try await withLoopTaskGroup { group in
                    for name in ["a", "b"] {
                        try group.createTask { () async throws -> Void in
                            try await sleep(.seconds(1))
                            throw Boom(name)
                        }
                    }
                }
                return ["returned"]
            } catch let error as ExceptionGroup {
                return ["\(error.message): \(error.errors)", loop.now]
            }
        }
        #expect(events == ["unhandled errors in a TaskGroup: [Boom(a), Boom(b)]", "t=1.0s"])
    }

    @Test(arguments: TaskStart.allCases)
    func aChildThatFailsWhileBeingCancelledAddsItsError(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            do {
                try await withLoopTaskGroup { group in
                    try group.createTask { () async throws -> Void in
                        try await sleep(.seconds(1))
                        throw Boom("first")
                    }
                    try group.createTask { () async throws -> Void in
                        do { try await sleep(.seconds(10)) } catch { throw Boom("cleanup") }
                    }
                }
                return ["returned"]
            } catch let error as ExceptionGroup {
                return ["\(error.errors)", loop.now]
            }
        }
        #expect(events == ["[Boom(first), Boom(cleanup)]", "t=1.0s"])
    }

    @Test(arguments: TaskStart.allCases)
    func aFailingBodyCancelsTheChildrenAndComesBackInTheGroup(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            do {
                try await withLoopTaskGroup { group in
                    try group.createTask {
                        do { try await sleep(.seconds(10)) } catch {
                            events.append("child got \(error) \(loop.now)")
                            throw error
                        }
                    }
                    try await sleep(.seconds(1))
                    throw Boom("body")
                }
            } catch let error as ExceptionGroup {
                events.append("group threw \(error.errors) \(loop.now)")
            }
            return events
        }
        #expect(events == ["child got CancelledError t=1.0s", "group threw [Boom(body)] t=1.0s"])
    }

    @Test(arguments: TaskStart.allCases)
    func createTaskAfterTheGroupIsDoneThrows(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            let group = try await withLoopTaskGroup { group in
                try group.createTask { 1 }
                return group
            }
            do {
                try group.createTask { 2 }
                return ["created"]
            } catch {
                return ["\(error)"]
            }
        }
        #expect(events == ["InvalidStateError: LoopTaskGroup is finished"])
    }

    @Test(arguments: TaskStart.allCases)
    func createTaskWhileTheGroupIsShuttingDownThrows(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            try? await withLoopTaskGroup { group in
                try group.createTask { () async throws -> Void in throw Boom("child") }
                do { try await sleep(.seconds(10)) } catch {}
                do {
                    try group.createTask { 2 }
                } catch {
                    events.append("\(error)")
                }
            }
            return events
        }
        #expect(events == ["InvalidStateError: LoopTaskGroup is shutting down"])
    }

    @Test(arguments: TaskStart.allCases)
    func cancellingTheParentCancelsTheChildrenAndStaysCancelledError(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            let parent = loop.createTask {
                do {
                    try await withLoopTaskGroup { group in
                        for name in ["a", "b"] {
                            try group.createTask {
                                do { try await sleep(.seconds(10)) } catch {
                                    events.append("\(name) got \(error) \(loop.now)")
                                    throw error
                                }
                            }
                        }
                        try await sleep(.seconds(10))
                    }
                } catch {
                    events.append("group threw \(error)")
                    throw error
                }
            }
            try await sleep(.seconds(1))
            parent.cancel(message: "shutdown")
            try? await parent.value
            events.append("parent cancelled: \(parent.isCancelled)")
            return events
        }
        #expect(
            events == [
                "a got CancelledError t=1.0s", "b got CancelledError t=1.0s", "group threw CancelledError(shutdown)",
                "parent cancelled: true",
            ]
        )
    }

    @Test(arguments: TaskStart.allCases)
    func cancellingTheParentWhileTheGroupWaitsForChildrenCancelsThem(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            let parent = loop.createTask {
                do {
                    try await withLoopTaskGroup { group in
                        try group.createTask {
                            do { try await sleep(.seconds(10)) } catch {
                                events.append("child got \(error) \(loop.now)")
                                throw error
                            }
                        }
                    }
                } catch {
                    events.append("group threw \(error)")
                    throw error
                }
            }
            try await sleep(.seconds(1))
            parent.cancel(message: "shutdown")
            try? await parent.value
            events.append("parent cancelled: \(parent.isCancelled)")
            return events
        }
        #expect(
            events == [
                "child got CancelledError t=1.0s", "group threw CancelledError(shutdown)",
                "parent cancelled: true",
            ]
        )
    }

    @Test(arguments: TaskStart.allCases)
    func childErrorsWinOverAnOutsideCancellationWhichIsKept(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            let parent = loop.createTask {
                do {
                    try await withLoopTaskGroup { group in
                        try group.createTask { () async throws -> Void in
                            do { try await sleep(.seconds(10)) } catch { throw Boom("child") }
                        }
                        try await sleep(.seconds(10))
                    }
                } catch {
                    events.append("group threw \(error)")
                }
                events.append("cancelling: \(currentTask()!.cancelling())")
                do { try await sleep(.seconds(1)) } catch { events.append("next await got \(error)") }
            }
            try await sleep(.seconds(1))
            parent.cancel(message: "shutdown")
            try? await parent.value
            return events
        }
        #expect(
            events == [
                "group threw unhandled errors in a TaskGroup (1 sub-exception): [Boom(child)]", "cancelling: 1",
                "next await got CancelledError",
            ]
        )
    }

    @Test(arguments: TaskStart.allCases)
    func aGroupOutsideALoopTaskIsALoopStateError(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            // A Swift task on the loop (not a LoopTask) cannot own a group.
            let swiftTask = Task(executorPreference: loop.taskExecutor) { () async -> String in
                do {
                    try await withLoopTaskGroup { _ in }
                    return "entered"
                } catch {
                    return "\(error)"
                }
            }
            return [await swiftTask.value]
        }
        #expect(events == ["RuntimeError: LoopTaskGroup should be used inside a task"])
    }
}

extension TaskGroupTests {
    @Test(arguments: TaskStart.allCases)
    func aChildFailingAfterTheBodyReturnedCancelsItsSiblings(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            do {
                try await withLoopTaskGroup { group in
                    try group.createTask { () async throws -> Void in
                        try await sleep(.seconds(1))
                        throw Boom("late")
                    }
                    try group.createTask {
                        do { try await sleep(.seconds(10)) } catch {
                            events.append("sibling got \(error) \(loop.now)")
                            throw error
                        }
                    }
                    events.append("body returns \(loop.now)")
                }
            } catch let error as ExceptionGroup {
                events.append("group threw \(error.errors) \(loop.now)")
            }
            events.append("cancelling: \(currentTask()!.cancelling())")
            return events
        }
        #expect(
            events == [
                "body returns t=0.0s", "sibling got CancelledError t=1.0s", "group threw [Boom(late)] t=1.0s",
                "cancelling: 0",
            ]
        )
    }

    @Test(arguments: TaskStart.allCases)
    func aTimeoutAroundAGroupCancelsItsChildrenAndBecomesTimeout(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            do {
                try await timeout(.seconds(1)) { _ in
                    try await withLoopTaskGroup { group in
                        try group.createTask {
                            do { try await sleep(.seconds(10)) } catch {
                                events.append("child got \(error) \(loop.now)")
                                throw error
                            }
                        }
                    }
                }
            } catch {
                events.append("threw \(error) \(loop.now)")
            }
            events.append("cancelling: \(currentTask()!.cancelling())")
            return events
        }
        #expect(events == ["child got CancelledError t=1.0s", "threw TimeoutError t=1.0s", "cancelling: 0"])
    }

    @Test(arguments: TaskStart.allCases)
    func childErrorsWinOverAnExpiringTimeoutAroundTheGroup(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            do {
                try await timeout(.seconds(1)) { _ in
                    try await withLoopTaskGroup { group in
                        try group.createTask { () async throws -> Void in
                            do { try await sleep(.seconds(10)) } catch { throw Boom("while cancelled") }
                        }
                    }
                }
            } catch {
                events.append("threw \(error)")
            }
            events.append("cancelling: \(currentTask()!.cancelling())")
            try await sleep(.seconds(1))
            events.append("next await fine \(loop.now)")
            return events
        }
        #expect(
            events == [
                "threw unhandled errors in a TaskGroup (1 sub-exception): [Boom(while cancelled)]", "cancelling: 0",
                "next await fine t=2.0s",
            ]
        )
    }
}

extension TaskGroupTests {
    @Test(arguments: TaskStart.allCases)
    func aChildCanAddChildrenAndTheGroupWaitsForThemToo(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            try await withLoopTaskGroup { group in
                try group.createTask {
                    try await sleep(.seconds(1))
                    try group.createTask {
                        try await sleep(.seconds(1))
                        events.append("grandchild done \(loop.now)")
                    }
                    events.append("child done \(loop.now)")
                }
            }
            events.append("group done \(loop.now)")
            return events
        }
        #expect(events == ["child done t=1.0s", "grandchild done t=2.0s", "group done t=2.0s"])
    }
}

// MARK: - Errors that end the program (Python's BaseException)

extension TaskGroupTests {
    /// CPython's `test_taskgroup_20`: the body throws `KeyboardInterrupt` while the group unwinds
    /// after a child failed. It comes out alone; the child's error goes to the exception handler
    /// (gh-135736) instead of being lost.
    @Test(arguments: TaskStart.allCases)
    func aKeyboardInterruptFromTheBodyAfterAChildFailedComesOutAlone(start: TaskStart) async throws {
        let log = EventLog<String>()
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            loop.setExceptionHandler(recordingExceptionHandler(into: log))
            do {
                try await withLoopTaskGroup { group in
                    try group.createTask { () async throws -> Void in
                        try await sleep(.seconds(1))
                        throw Boom("child")
                    }
                    do { try await sleep(.seconds(10)) } catch { throw KeyboardInterrupt() }
                }
                return ["returned"]
            } catch {
                return ["threw \(error) \(loop.now)", "cancelling: \(currentTask()!.cancelling())"]
            }
        }
        #expect(events == ["threw KeyboardInterrupt t=1.0s", "cancelling: 0"])
        #expect(
            log.events == [
                "TaskGroup task exception was not propagated because the TaskGroup body is ending with "
                    + "KeyboardInterrupt: Boom(child)"
            ]
        )
    }

    /// CPython's `_test_taskgroup_21` (disabled there: a task that raises KeyboardInterrupt stops
    /// CPython's loop): a child's `KeyboardInterrupt` wins over the body's ordinary error.
    @Test(arguments: TaskStart.allCases)
    func aKeyboardInterruptFromAChildComesOutAloneOverTheBodysError(start: TaskStart) async throws {
        let log = EventLog<String>()
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            loop.setExceptionHandler(recordingExceptionHandler(into: log))
            do {
                try await withLoopTaskGroup { group in
                    try group.createTask { () async throws -> Void in
                        try await sleep(.seconds(1))
                        throw KeyboardInterrupt()
                    }
                    do { try await sleep(.seconds(10)) } catch { throw Boom("body") }
                }
                return ["returned"]
            } catch {
                return ["threw \(error) \(loop.now)"]
            }
        }
        #expect(events == ["threw KeyboardInterrupt t=1.0s"])
        #expect(
            log.events == [
                "TaskGroup task exception was not propagated because the TaskGroup body is ending with "
                    + "KeyboardInterrupt: Boom(body)"
            ]
        )
    }
}

extension TaskGroupTests {
    /// A program's own "SystemExit": any `ExitingError` gets `KeyboardInterrupt`'s treatment.
    struct Exit: ExitingError, CustomStringConvertible {
        var code: Int32
        var description: String { "Exit(\(code))" }
    }

    @Test(arguments: TaskStart.allCases)
    func anExitingErrorOfYourOwnComesOutAloneToo(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            do {
                try await withLoopTaskGroup { group in
                    try group.createTask { () async throws -> Void in
                        try await sleep(.seconds(1))
                        throw Exit(code: 3)
                    }
                    try group.createTask { () async throws -> Void in
                        try await sleep(.seconds(2))
                        throw Exit(code: 4)
                    }
                }
                return ["returned"]
            } catch let exit as Exit {
                return ["threw \(exit) \(loop.now)"]
            }
        }
        #expect(events == ["threw Exit(3) t=1.0s"])
    }
}

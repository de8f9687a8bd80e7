import AsyncIO
import AsyncIOTesting
import Testing

/// Eager children of a task group: the group's rules hold for them exactly as for lazy ones
/// (the whole `TaskGroupTests` suite also runs under the eager factory). Modelled on CPython 3.14's
/// `test_taskgroups.py` under `eager_task_factory` and its eager regression tests (gh-128550).
@Suite struct EagerTaskGroupTests {
    @Test func aChildThatFailsBeforeItsFirstSuspensionAbortsTheGroupFromTheNextIteration() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            do {
                try await withLoopTaskGroup { group in
                    let failing = try group.createTask(eagerStart: true) { () async throws -> Void in
                        events.append("child runs inside createTask")
                        throw Boom("at once")
                    }
                    events.append("createTask returned, child done: \(failing.isDone)")
                    // The group learns of the failure from a done callback, as for a lazy child:
                    // the body goes on until its next await, which is cancelled.
                    do { try await sleep(.seconds(10)) } catch {
                        events.append("body got \(error) \(loop.now)")
                        throw error
                    }
                }
            } catch let error as ExceptionGroup {
                events.append("group threw \(error.errors) \(loop.now)")
            }
            events.append("cancelling: \(currentTask()!.cancelling())")
            try await sleep(.zero)
            events.append("no cancellation leaked out of the group")
            return events
        }
        #expect(
            events == [
                "child runs inside createTask", "createTask returned, child done: true",
                "body got CancelledError t=0.0s", "group threw [Boom(at once)] t=0.0s", "cancelling: 0",
                "no cancellation leaked out of the group",
            ]
        )
    }

    @Test func aChildThatFinishesAtOnceIsDoneWhenCreateTaskReturns() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let value = try await withLoopTaskGroup { group in
                let quick = try group.createTask(eagerStart: true) { 42 }
                events.append("done: \(quick.isDone), result: \(try quick.result())")
                let slow = try group.createTask(eagerStart: true) {
                    events.append("slow starts")
                    try await sleep(.seconds(1))
                    return 7
                }
                events.append("slow done: \(slow.isDone)")
                return (quick, slow)
            }
            events.append("group done \(loop.now): \(try value.0.result()), \(try value.1.result())")
            return events
        }
        #expect(
            events == [
                "done: true, result: 42", "slow starts", "slow done: false", "group done t=1.0s: 42, 7",
            ]
        )
    }

    /// CPython's `test_cancels_task_if_created_during_creation` (gh-128550): an eager child creates
    /// a sibling that fails at once; the child is still cancelled at its next suspension.
    @Test(arguments: TaskStart.allCases)
    func aChildCreatedByAnEagerChildThatFailsAtOnceStillCancelsItsCreator(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            do {
                try await withLoopTaskGroup { group in
                    try group.createTask {
                        try group.createTask { () async throws -> Void in throw Boom("third") }
                        do {
                            try await sleep(.zero)  // eager tasks are cancelled here
                            try await sleep(.zero)  // lazy ones here
                            events.append("second not cancelled")
                        } catch {
                            events.append("second got \(error)")
                        }
                    }
                }
            } catch let error as ExceptionGroup {
                events.append("group threw \(error.errors)")
            }
            return events
        }
        #expect(events == ["second got CancelledError", "group threw [Boom(third)]"])
    }

    @Test func cancellingTheGroupWhileEagerChildrenWaitCancelsThem() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let parent = loop.createTask {
                do {
                    try await withLoopTaskGroup { group in
                        for name in ["a", "b"] {
                            try group.createTask(eagerStart: true) {
                                events.append("\(name) started eagerly \(loop.now)")
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
                "a started eagerly t=0.0s", "b started eagerly t=0.0s", "a got CancelledError t=1.0s",
                "b got CancelledError t=1.0s", "group threw CancelledError(shutdown)", "parent cancelled: true",
            ]
        )
    }

    /// The group is cancelled while an eager child's first step runs: the child cancels the task
    /// running the group before it suspends. The body's next await throws, the group aborts, and
    /// the child is cancelled at its own suspension like any other.
    @Test func cancellingTheGroupDuringAnEagerChildsFirstStepCancelsThatChild() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let parent = loop.createTask {
                let me = currentTask()!
                do {
                    try await withLoopTaskGroup { group in
                        try group.createTask(eagerStart: true) {
                            me.cancel(message: "from the child")
                            events.append("child cancelled its parent, parent cancelling: \(me.cancelling())")
                            do { try await sleep(.seconds(10)) } catch {
                                events.append("child got \(error) \(loop.now)")
                                throw error
                            }
                        }
                        events.append("body goes on")
                        try await sleep(.seconds(10))
                        events.append("body not cancelled")
                    }
                } catch {
                    events.append("group threw \(error)")
                    throw error
                }
            }
            try? await parent.value
            events.append("parent cancelled: \(parent.isCancelled)")
            return events
        }
        #expect(
            events == [
                "child cancelled its parent, parent cancelling: 1", "body goes on", "child got CancelledError t=0.0s",
                "group threw CancelledError(from the child)", "parent cancelled: true",
            ]
        )
    }
}

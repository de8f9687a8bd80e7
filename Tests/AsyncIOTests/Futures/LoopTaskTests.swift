import AsyncIO
import AsyncIOTesting
import Testing

@Suite struct LoopTaskTests {
    @Test func aTaskCanBeRenamedFromOutsideAndFromItsOwnCode() async throws {
        let names = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let task = loop.createTask(name: "first") {
                try await sleep(.zero)
                currentTask()?.setName("third")
            }
            var names = [task.name]
            task.setName("second")
            names.append(task.description)
            try await task.value
            names.append(task.name)
            return names
        }
        #expect(names == ["first", "<LoopTask second pending>", "third"])
    }

    @Test func cancellingATaskCancelsTheFutureItAwaitsWithTheMessage() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let awaited = loop.createFuture(of: Int.self)
            let task = loop.createTask(name: "waiter") {
                do {
                    _ = try await awaited.value
                } catch let error as CancelledError {
                    events.append("task sees \(error)")
                    throw error
                }
            }
            try await sleep(.zero)
            events.append("cancel: \(task.cancel(message: "enough")) cancelling: \(task.cancelling())")
            do { try await task.value } catch { events.append("awaiting the task: \(error)") }
            events.append("future cancelled: \(awaited.isCancelled) task cancelled: \(task.isCancelled)")
            events.append("cancel done task: \(task.cancel())")
            return events
        }
        #expect(
            events == [
                "cancel: true cancelling: 1",
                "task sees CancelledError(enough)",
                "awaiting the task: CancelledError(enough)",
                "future cancelled: true task cancelled: true",
                "cancel done task: false",
            ]
        )
    }

    @Test func aTaskMayCatchCancellationUncancelAndGoOn() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let task = loop.createTask { () -> String in
                do {
                    try await sleep(.seconds(10))
                } catch is CancelledError {
                    let task = currentTask()!
                    events.append("caught, cancelling \(task.cancelling())")
                    events.append("uncancel -> \(task.uncancel())")
                }
                try await sleep(.seconds(1))
                events.append("slept again at \(loop.time.seconds)")
                return "finished"
            }
            try await sleep(.seconds(1))
            task.cancel()
            events.append("result: \(try await task.value)")
            return events
        }
        #expect(
            events == ["caught, cancelling 1", "uncancel -> 0", "slept again at 2.0", "result: finished"]
        )
    }

    @Test func uncancelBeforeTheCancellationIsDeliveredWithdrawsIt() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let task = loop.createTask { () -> String in
                // Not awaiting anything when cancelled: the request is pending until the next await.
                let me = currentTask()!
                me.cancel(message: "one")
                me.cancel(message: "two")
                events.append("cancelling \(me.cancelling())")
                events.append("uncancel -> \(me.uncancel())")
                events.append("uncancel -> \(me.uncancel())")
                try await sleep(.zero)
                return "not cancelled"
            }
            events.append(try await task.value)
            return events
        }
        #expect(events == ["cancelling 2", "uncancel -> 1", "uncancel -> 0", "not cancelled"])
    }

    @Test func aTaskCancelledAfterItsLastAwaitEndsCancelled() async throws {
        let outcome = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let task = loop.createTask { () -> Int in
                currentTask()!.cancel(message: "late")
                return 1
            }
            do {
                return "value \(try await task.value)"
            } catch {
                return "\(error) cancelled=\(task.isCancelled)"
            }
        }
        #expect(outcome == "CancelledError(late) cancelled=true")
    }

    @Test func eagerStartRunsTheBodySynchronouslyToItsFirstSuspension() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            events.append("before createTask")
            let eager = loop.createTask(eagerStart: true) {
                events.append("eager body starts")
                try await sleep(.zero)
                events.append("eager body resumes")
            }
            let lazy = loop.createTask { events.append("lazy body starts") }
            events.append("after createTask")
            let finished = loop.createTask(eagerStart: true) { 5 }
            events.append("eager task without suspension done: \(finished.isDone)")
            try await eager.value
            try await lazy.value
            return events
        }
        #expect(
            events == [
                "before createTask", "eager body starts", "after createTask",
                "eager task without suspension done: true", "eager body resumes", "lazy body starts",
            ]
        )
    }

    @Test func currentTaskAndAllTasksSeeLoopTasksOnly() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let main = currentTask()!
            events.append("main is a default-named task: \(main.name.hasPrefix("Task-"))")
            let child = loop.createTask(name: "child") {
                events.append("inside child: \(currentTask()?.name ?? "nil")")
                try await sleep(.seconds(1))
            }
            loop.callSoon { events.append("in a callback: \(currentTask()?.name ?? "nil")") }
            try await sleep(.zero)
            let all = loop.allTasks().map { $0 === main ? "main" : $0.name }.sorted()
            events.append("all: \(all)")
            await withTaskGroup(of: String.self) { group in
                group.addTask { "in a Swift child task: \(currentTask()?.name ?? "nil")" }
                for await line in group { events.append(line) }
            }
            try await child.value
            events.append("all after: \(loop.allTasks().map { $0 === main ? "main" : $0.name })")
            return events
        }
        #expect(
            events == [
                "main is a default-named task: true", "inside child: child", "in a callback: nil",
                "all: [\"child\", \"main\"]", "in a Swift child task: nil", "all after: [\"main\"]",
            ]
        )
    }

    @Test func cancellingATaskThatAwaitsAnotherTaskCancelsTheInnerOne() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let inner = loop.createTask(name: "inner") {
                do {
                    try await sleep(.seconds(60))
                } catch {
                    events.append("inner sees \(error)")
                    throw error
                }
            }
            let outer = loop.createTask(name: "outer") {
                do {
                    try await inner.value
                } catch {
                    events.append("outer sees \(error)")
                    throw error
                }
            }
            try await sleep(.seconds(1))
            outer.cancel(message: "stop both")
            _ = try? await outer.value
            events.append("inner cancelled: \(inner.isCancelled) outer cancelled: \(outer.isCancelled)")
            return events
        }
        #expect(
            events == [
                "inner sees CancelledError(stop both)", "outer sees CancelledError(stop both)",
                "inner cancelled: true outer cancelled: true",
            ]
        )
    }

    @Test func tasksCannotBeCompletedFromOutside() async throws {
        let errors = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let task = loop.createTask { 1 }
            var errors: [String] = []
            do { try task.setResult(2) } catch { errors.append("\(error)") }
            do { try task.setException(TaggedError()) } catch { errors.append("\(error)") }
            errors.append("value \(try await task.value)")
            return errors
        }
        #expect(
            errors == [
                "InvalidStateError: Task does not support setResult",
                "InvalidStateError: Task does not support setException", "value 1",
            ]
        )
    }
}

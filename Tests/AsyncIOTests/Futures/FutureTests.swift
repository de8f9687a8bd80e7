import AsyncIO
import AsyncIOTesting
import Testing

@Suite struct FutureTests {
    @Test func resultAndExceptionFollowTheFutureState() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            func describe(_ body: () throws -> String) -> String {
                do { return try body() } catch { return "throws \(error)" }
            }
            let pending = loop.createFuture(of: Int.self)
            events.append("pending result: " + describe { "\(try pending.result())" })
            events.append("pending exception: " + describe { "\(String(describing: try pending.exception()))" })
            let succeeded = loop.createFuture(of: Int.self)
            try succeeded.setResult(7)
            events.append("result: " + describe { "\(try succeeded.result())" })
            events.append("exception: " + describe { "\(String(describing: try succeeded.exception()))" })
            let failed = loop.createFuture(of: Int.self)
            try failed.setException(TaggedError())
            events.append("failed result: " + describe { "\(try failed.result())" })
            events.append("failed exception: " + describe { "\(try failed.exception()!)" })
            let cancelled = loop.createFuture(of: Int.self)
            events.append("cancel: \(cancelled.cancel(message: "bye")) again: \(cancelled.cancel())")
            events.append("cancelled result: " + describe { "\(try cancelled.result())" })
            events.append("cancelled exception: " + describe { "\(String(describing: try cancelled.exception()))" })
            events.append(
                "flags: \(pending.isDone)\(pending.isCancelled) \(succeeded.isDone)\(succeeded.isCancelled) "
                    + "\(cancelled.isDone)\(cancelled.isCancelled)"
            )
            pending.cancel()
            return events
        }
        #expect(
            events == [
                "pending result: throws InvalidStateError: Result is not set.",
                "pending exception: throws InvalidStateError: Exception is not set.",
                "result: 7",
                "exception: nil",
                "failed result: throws boom",
                "failed exception: boom",
                "cancel: true again: false",
                "cancelled result: throws CancelledError(bye)",
                "cancelled exception: throws CancelledError(bye)",
                "flags: falsefalse truefalse truetrue",
            ]
        )
    }

    @Test func settingADoneFutureIsInvalidStateNeverACrash() async throws {
        let errors = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var errors: [String] = []
            let future = loop.createFuture(of: Int.self)
            try future.setResult(1)
            do { try future.setResult(2) } catch { errors.append("\(error)") }
            do { try future.setException(TaggedError()) } catch { errors.append("\(error)") }
            let cancelled = loop.createFuture(of: Int.self)
            cancelled.cancel()
            do { try cancelled.setResult(2) } catch { errors.append("\(error)") }
            errors.append("still \(try future.result())")
            return errors
        }
        #expect(
            errors == [
                "InvalidStateError: finished: cannot set a result",
                "InvalidStateError: finished: cannot set an exception",
                "InvalidStateError: cancelled: cannot set a result",
                "still 1",
            ]
        )
    }

    @Test func doneCallbacksAreScheduledWithCallSoonInTheOrderTheyWereAdded() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let future = loop.createFuture(of: String.self)
            future.addDoneCallback { events.append("first sees \(try! $0.result())") }
            let removed = future.addDoneCallback { _ in events.append("removed") }
            future.addDoneCallback { _ in events.append("second") }
            events.append("removed count: \(future.removeDoneCallback(removed))")
            events.append("removed again: \(future.removeDoneCallback(removed))")
            try future.setResult("x")
            events.append("set (callbacks not run yet)")
            future.addDoneCallback { _ in events.append("added after done, also soon") }
            try await sleep(.zero)
            return events
        }
        #expect(
            events == [
                "removed count: 1", "removed again: 0", "set (callbacks not run yet)", "first sees x", "second",
                "added after done, also soon",
            ]
        )
    }

    @Test func removingTheFirstCallbackKeepsTheOthers() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let future = loop.createFuture(of: Int.self)
            let first = future.addDoneCallback { _ in events.append("first") }
            future.addDoneCallback { _ in events.append("second") }
            future.addDoneCallback { _ in events.append("third") }
            future.removeDoneCallback(first)
            future.cancel()
            try await sleep(.zero)
            return events
        }
        #expect(events == ["second", "third"])
    }

    @Test func awaitingAFutureReturnsItsValueOrThrowsItsError() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let value = loop.createFuture(of: Int.self)
            loop.callLater(.seconds(1)) { try value.setResult(42) }
            events.append("value \(try await value.value) at \(loop.time.seconds)")
            let failing = loop.createFuture(of: Int.self)
            loop.callSoon { try failing.setException(TaggedError()) }
            do { _ = try await failing.value } catch { events.append("error \(error)") }
            let cancelled = loop.createFuture(of: Int.self)
            loop.callSoon { cancelled.cancel(message: "stop") }
            do { _ = try await cancelled.value } catch { events.append("cancelled \(error)") }
            events.append("done future: \(try await value.value)")
            return events
        }
        #expect(events == ["value 42 at 1.0", "error boom", "cancelled CancelledError(stop)", "done future: 42"])
    }

    @Test func severalTasksAwaitingOneFutureResumeInTheOrderTheyStartedWaiting() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let future = loop.createFuture(of: Int.self)
            for name in ["a", "b", "c"] {
                loop.createTask { events.append("\(name) got \(try await future.value)") }
            }
            try await sleep(.zero)  // the tasks start and wait
            future.addDoneCallback { _ in events.append("callback") }
            try future.setResult(1)
            try await sleep(.zero)
            return events
        }
        #expect(events == ["a got 1", "b got 1", "c got 1", "callback"])
    }

    @Test func aResolverCompletesTheFutureFromAnotherThreadOnlyOnce() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let future = loop.createFuture(of: Int.self)
            let resolver = future.resolver
            let other = try await toThread {
                resolver.resolve(.success(1))
                resolver.resolve(.success(2))
                return "resolved twice from a pool thread"
            }
            events.append(other)
            events.append("value \(try await future.value)")
            let cancelled = loop.createFuture(of: Int.self)
            cancelled.cancel()
            cancelled.resolver.resolve(catching: { 3 })
            try await sleep(.zero)
            events.append("cancelled stays cancelled: \(cancelled.isCancelled)")
            return events
        }
        #expect(events == ["resolved twice from a pool thread", "value 1", "cancelled stays cancelled: true"])
    }
}

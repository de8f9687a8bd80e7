import AsyncIO
import AsyncIOTesting
import Testing

/// `WaitPoint`, the public reusable wait of the low-level surface, used as a library outside the
/// module would use it (this target imports `AsyncIO` without `@testable`).
@Suite struct WaitPointTests {
    /// A byte source built on the public surface only: a protocol side that feeds and wakes, a
    /// task side that waits until enough has arrived (what an HTTP body or a Redis reply reader does).
    final class Source {
        var buffer: [UInt8] = []
        var ended = false
        let arrived: WaitPoint

        init(loop: EventLoop) { arrived = WaitPoint(loop: loop) }

        func feed(_ bytes: [UInt8]) {
            buffer += bytes
            arrived.wake()
        }

        func end() {
            ended = true
            arrived.wake()
        }

        func read(atLeast count: Int) async throws -> [UInt8] {
            while buffer.count < count && !ended { try await arrived.wait() }
            defer { buffer = [] }
            return buffer
        }
    }

    @Test func aWaitEndsAtTheWakeAndThePointIsReusedForTheNextOne() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let source = Source(loop: loop)
            var events: [String] = []
            loop.callLater(.seconds(1)) { source.feed([1, 2]) }
            loop.callLater(.seconds(2)) { source.feed([3]) }
            loop.callLater(.seconds(3)) { source.end() }
            events.append("busy before: \(source.arrived.isBusy)")
            events.append("read \(try await source.read(atLeast: 3))")
            events.append("busy after: \(source.arrived.isBusy)")
            events.append("read \(try await source.read(atLeast: 1))")
            return events
        }
        #expect(events == ["busy before: false", "read [1, 2, 3]", "busy after: false", "read []"])
    }

    @Test func aWakeWithNobodyWaitingIsNotRemembered() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let point = WaitPoint(loop: loop)
            var events: [String] = []
            point.wake()
            events.append("waiting: \(point.isWaiting)")
            loop.callLater(.seconds(1)) {
                events.append("waiting at 1 s: \(point.isWaiting)")
                point.wake()
            }
            let start = loop.time
            try await point.wait()
            events.append("woken after \(loop.time - start)")
            return events
        }
        #expect(events == ["waiting: false", "waiting at 1 s: true", "woken after 1.0 seconds"])
    }

    @Test func wakeThrowingMakesTheWaitThrowThatError() async throws {
        let outcome = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let point = WaitPoint(loop: loop)
            loop.callSoon { point.wake(throwing: TaggedError(tag: "peer reset")) }
            do {
                try await point.wait()
                return "returned"
            } catch {
                return "\(error), busy \(point.isBusy)"
            }
        }
        #expect(outcome == "peer reset, busy false")
    }

    @Test func cancellingTheWaitingTaskThrowsCancelledErrorWithItsMessage() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let point = WaitPoint(loop: loop)
            let task = loop.createTask {
                do {
                    try await point.wait()
                    return "returned"
                } catch let error as CancelledError {
                    return "cancelled: \(error.message ?? "nil")"
                }
            }
            try await sleep(.seconds(1))
            let waiting = point.isWaiting
            task.cancel(message: "shutting down")
            let result = try await task.value
            return ["waiting \(waiting)", result, "busy \(point.isBusy)"]
        }
        #expect(events == ["waiting true", "cancelled: shutting down", "busy false"])
    }

    @Test func cancelEndsThePendingWaitAndSaysWhetherOneWasPending() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let point = WaitPoint(loop: loop)
            var events = ["cancel with nobody waiting: \(point.cancel(message: "early"))"]
            loop.callSoon { events.append("cancel while waiting: \(point.cancel(message: "m"))") }
            do { try await point.wait() } catch let error as CancelledError { events.append("threw \(error.message!)") }
            return events
        }
        #expect(events == ["cancel with nobody waiting: false", "cancel while waiting: true", "threw m"])
    }

    @Test func aSecondWaiterAtOnceIsAnInvalidStateError() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let point = WaitPoint(loop: loop)
            let first = loop.createTask { try await point.wait() }
            try await sleep(.zero)
            var events: [String] = []
            do { try await point.wait() } catch { events.append("second: \(error)") }
            point.wake()
            try await first.value
            events.append("first woken")
            return events
        }
        #expect(
            events == [
                "second: \(AsyncIOError.invalidState("another task is already waiting on this WaitPoint"))",
                "first woken",
            ]
        )
    }

    @Test func waitingOnAnotherLoopsPointIsALoopStateError() async throws {
        let other = try await EventLoopThread.run { loop in UnsafeSendableBox(WaitPoint(loop: loop)) }
        let outcome = try await EventLoopThread.run { loop in
            do {
                try await other.value.wait()
                return "returned"
            } catch {
                return "\(error)"
            }
        }
        #expect(outcome == "\(AsyncIOError.loopState("a WaitPoint was waited on off its loop's thread"))")
    }

    @Test func theRunningLoopFormBindsToTheLoopAndThrowsWithoutOne() async throws {
        let sameLoop = try await EventLoopThread.run { loop in try WaitPoint().loop === loop }
        #expect(sameLoop)
        let error = try await onPlainThread { () -> String in
            do {
                _ = try WaitPoint()
                return "made one"
            } catch {
                return "\(error)"
            }
        }
        #expect(error.contains("no running event loop"))
    }

    @Test func aFutureMadeWithoutALoopArgumentBelongsToTheRunningLoop() async throws {
        let value = try await EventLoopThread.run { loop in
            let future = try Future<Int>()
            loop.callSoon { try? future.setResult(7) }
            return (future.loop === loop, try await future.value)
        }
        #expect(value == (true, 7))
        let error = try await onPlainThread { () -> String in
            do {
                _ = try Future<Int>()
                return "made one"
            } catch {
                return "\(error)"
            }
        }
        #expect(error.contains("no running event loop"))
    }
}

/// Moves a loop-bound object out of its loop for a test that misuses it on purpose.
struct UnsafeSendableBox<Value>: @unchecked Sendable {
    // SAFETY: the tests only hand the value to another loop to check that it is refused there.
    let value: Value
    init(_ value: Value) { self.value = value }
}

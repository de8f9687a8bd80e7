import AsyncIO
import AsyncIOTesting
import Foundation
import Testing

enum Request {
    @TaskLocal static var id: String?
}

/// Task-local values follow tasks as asyncio's `contextvars` do: a task starts with those of the
/// code that created it.
@Suite struct TaskLocalTests {
    @Test(arguments: TaskStart.allCases)
    func tasksSeeTheValuesOfTheCodeThatCreatedThem(start: TaskStart) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            start.install(on: loop)
            var events: [String] = []
            try await Request.$id.withValue("r1") {
                let task = loop.createTask { events.append("task: \(Request.id ?? "none")") }
                let eager = loop.createTask(eagerStart: true) {
                    events.append("eager task: \(Request.id ?? "none")")
                    try await sleep(.zero)
                    events.append("eager task after an await: \(Request.id ?? "none")")
                }
                try await withLoopTaskGroup { group in
                    try group.createTask { events.append("group child: \(Request.id ?? "none")") }
                    try group.createTask(eagerStart: true) {
                        events.append("eager group child: \(Request.id ?? "none")")
                    }
                }
                _ = try await gather([{ events.append("gather's task: \(Request.id ?? "none")") }])
                try await task.value
                try await eager.value
            }
            try await loop.createTask { events.append("made after the binding ended: \(Request.id ?? "none")") }.value
            return events.sorted()
        }
        #expect(
            events == [
                "eager group child: r1", "eager task after an await: r1", "eager task: r1", "gather's task: r1",
                "group child: r1", "made after the binding ended: none", "task: r1",
            ]
        )
    }

    @Test func aTaskKeepsItsCopyWhenItsCreatorRebinds() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let task = Request.$id.withValue("first") {
                loop.createTask {
                    try await sleep(.seconds(1))
                    events.append("task still sees \(Request.id ?? "none")")
                }
            }
            try await Request.$id.withValue("second") {
                events.append("creator now sees \(Request.id ?? "none")")
                try await task.value
            }
            return events
        }
        #expect(events == ["creator now sees second", "task still sees first"])
    }

    @Test func toThreadAndRunInExecutorCarryTheCallersValues() async throws {
        let events = try await EventLoopThread.run { loop in
            try await Request.$id.withValue("r2") {
                let fromToThread = try await toThread { Request.id ?? "none" }
                let fromRunInExecutor = try await loop.runInExecutor { Request.id ?? "none" }.value
                let pool = ThreadPoolExecutor(maxWorkers: 1)
                defer { pool.shutdown(wait: false) }
                let fromOwnPool = try await loop.runInExecutor(pool) { Request.id ?? "none" }.value
                return [
                    "toThread: \(fromToThread)", "runInExecutor: \(fromRunInExecutor)",
                    "runInExecutor on a pool of its own: \(fromOwnPool)",
                ]
            }
        }
        #expect(events == ["toThread: r2", "runInExecutor: r2", "runInExecutor on a pool of its own: r2"])
    }

    @Test func runInExecutorOnAShutDownPoolStillFailsAndRunsNothing() async throws {
        let events = try await EventLoopThread.run { loop in
            let pool = ThreadPoolExecutor(maxWorkers: 1)
            pool.shutdown()
            let ran = LockedFlag()
            do {
                try await loop.runInExecutor(pool) { ran.set() }.value
                return ["returned", "ran: \(ran.isSet)"]
            } catch {
                return ["\(error)", "ran: \(ran.isSet)"]
            }
        }
        #expect(events == ["RuntimeError: cannot schedule new futures after shutdown", "ran: false"])
    }

    /// A callback runs outside any task, so a task it creates starts with no values (asyncio runs a
    /// callback in the context captured by `call_soon`; see FromPython.md).
    @Test func aTaskCreatedFromACallbackStartsWithNone() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let seen = loop.createFuture(of: String.self)
            Request.$id.withValue("r3") {
                loop.callSoon {
                    loop.createTask { try? seen.setResult(Request.id ?? "none") }
                }
            }
            return [try await seen.value]
        }
        #expect(events == ["none"])
    }
}

/// A flag set from a pool thread.
final class LockedFlag: @unchecked Sendable {
    // SAFETY: `value` is only touched with `lock` held.
    private let lock = NSLock()
    private var value = false

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

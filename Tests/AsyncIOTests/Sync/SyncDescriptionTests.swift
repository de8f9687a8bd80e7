import AsyncIO
import Testing

@Suite struct SyncDescriptionTests {
    @Test func descriptionsReadLikeCPythonsRepr() async throws {
        let lines = try await runStory { loop in
            let lock = Lock()
            let event = Event()
            let condition = Condition()
            let semaphore = try Semaphore(value: 2)
            let bounded = try BoundedSemaphore(value: 0)
            let barrier = try Barrier(parties: 3)
            var lines = ["\(lock)", "\(event)", "\(condition)", "\(semaphore)", "\(bounded)", "\(barrier)"]
            try await lock.acquire()
            let waiters = [
                loop.createTask { try await lock.acquire() },
                loop.createTask { try await event.wait() },
                loop.createTask { try await bounded.acquire() },
                loop.createTask { _ = try await barrier.wait() },
            ]
            try await settle()
            event.set()
            lines += ["\(lock)", "\(event)", "\(bounded)", "\(barrier)"]
            for task in waiters { task.cancel() }
            for task in waiters { _ = try await outcome(of: task) }
            return lines
        }
        #expect(
            lines == [
                "<Lock [unlocked]>", "<Event [unset]>", "<Condition [unlocked]>", "<Semaphore [unlocked, value:2]>",
                "<BoundedSemaphore [locked]>", "<Barrier [filling, waiters:0/3]>",
                "<Lock [locked, waiters:1]>", "<Event [set, waiters:1]>", "<BoundedSemaphore [locked, waiters:1]>",
                "<Barrier [filling, waiters:1/3]>",
            ]
        )
    }
}

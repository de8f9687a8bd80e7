import AsyncIO
import Testing

/// A primitive binds to a loop only when it must wait. Using one bound primitive from a second
/// loop (asyncio's "is bound to a different event loop") cannot be written in safe Swift: handing
/// it to a second loop's `run` closure sends it, and region isolation then forbids touching it
/// again, so that check in `LoopBinding` is defence in depth and has no test here.
@Suite struct LoopBindingTests {
    @Test func waitingWithoutARunningLoopIsAnError() async throws {
        // The test itself runs in a Swift task, on no loop: a primitive cannot make its Future.
        let event = Event()
        await #expect(throws: AsyncIOError.self) { try await event.wait() }
        event.set()
        try await event.wait()  // the fast path needs no loop
    }

    @Test func theFastPathsNeedNoLoop() async throws {
        let lock = Lock()
        try await lock.acquire()
        try lock.release()
        let queue = Queue<Int>()
        try queue.putNowait(1)
        #expect(try await queue.get() == 1)
        let error = await #expect(throws: AsyncIOError.self) { _ = try await queue.get() }
        guard case .loopState = error else {
            Issue.record("expected loopState, got \(String(describing: error))")
            return
        }
    }
}

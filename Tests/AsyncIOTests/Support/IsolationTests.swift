import AsyncIO
import AsyncIOTesting
import Testing

/// `EventLoop.runIsolated`: how a transport written outside the module calls its protocol's
/// loop-isolated callbacks from its own plain methods.
@Suite struct IsolationTests {
    /// A non-Sendable object with a plain method, like a transport's `write`.
    final class Notifier {
        let loop: EventLoop
        var proto: RecordingProtocol?
        var calls: [String] = []

        init(loop: EventLoop) { self.loop = loop }

        /// Called on the loop thread by loop-isolated code, but not isolated itself.
        func bufferGrew(by count: Int) {
            loop.runIsolated(self, count) { notifier, count, loop in
                notifier.calls.append("grew \(count)")
                notifier.proto?.pauseWriting(loop: loop)
            }
            loop.runIsolated(self) { notifier, loop in
                // Isolated: the loop's API is at hand without an `await`.
                loop.callSoon { notifier.calls.append("scheduled") }
            }
        }
    }

    @Test func runIsolatedCallsTheBodyAtOnceIsolatedToTheLoop() async throws {
        let events = try await EventLoopThread.run { loop in
            let notifier = Notifier(loop: loop)
            let proto = RecordingProtocol(loop: loop)
            notifier.proto = proto
            notifier.bufferGrew(by: 3)
            let before = notifier.calls
            try await sleep(.zero)
            return before + notifier.calls + proto.events
        }
        #expect(events == ["grew 3", "grew 3", "scheduled", "PW"])
    }

    @Test func runIsolatedOffTheLoopThreadStopsTheProgram() async {
        await #expect(processExitsWith: .failure) {
            let loop = try EventLoop()
            final class Object {}
            loop.runIsolated(Object()) { _, _ in }
        }
    }
}

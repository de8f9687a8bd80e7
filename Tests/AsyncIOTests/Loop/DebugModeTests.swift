import AsyncIO
import AsyncIOTesting
import Logging
import Testing

/// A swift-log handler that records each message with its level.
struct RecordingLogHandler: LogHandler {
    let log: EventLog<String>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        log.append("\(event.level): \(event.message)")
    }
}

@Suite struct DebugModeTests {
    @Test func debugModeReportsSlowCallbacksWithWhereTheyWereScheduled() async throws {
        let log = EventLog<String>()
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            loop.logger = Logger(label: "test") { _ in RecordingLogHandler(log: log) }
            loop.debug = true
            // Every callback is "slow" against a zero threshold, so no wall-clock time is involved.
            loop.slowCallbackDuration = .zero
            loop.callSoon({}, fileID: "Example/Scheduler.swift", line: 42)
            try await sleep(.zero)
            loop.debug = false
            loop.callSoon({}, fileID: "Example/Quiet.swift", line: 7)
            try await sleep(.zero)
            return [loop.slowCallbackDuration == .zero ? "threshold zero" : "threshold changed"]
        }
        #expect(events == ["threshold zero"])
        let reports = log.events.filter { $0.contains("Executing <Handle") }
        #expect(reports.count == 1)
        #expect(
            reports.first?.hasPrefix("warning: Executing <Handle created at Example/Scheduler.swift:42> took") == true
        )
    }

    @Test func theDefaultExceptionHandlerLogsThroughTheLoopLogger() async throws {
        let log = EventLog<String>()
        try await EventLoopThread.run(clock: VirtualClock()) { loop in
            loop.logger = Logger(label: "test") { _ in RecordingLogHandler(log: log) }
            loop.callSoon { throw TaggedError(tag: "logged") }
            try await sleep(.zero)
        }
        #expect(log.events.contains { $0.hasPrefix("error: Exception in callback") && $0.hasSuffix(": logged") })
    }

    @Test func debugIsOffByDefaultWithAHundredMillisecondThreshold() async throws {
        let settings = try await EventLoopThread.run(clock: VirtualClock(), debug: false) { loop in
            "\(loop.debug) \(loop.slowCallbackDuration)"
        }
        #expect(settings == "false 0.1 seconds")
    }
}

import AsyncIO
import AsyncIOTesting
import Testing

/// A transport stand-in that records what the reader asks of it.
final class RecordingReadTransport: ReadTransport {
    let loop: EventLoop
    var events: [String] = []
    var extraInfo: TransportExtraInfo { TransportExtraInfo() }
    var isClosing: Bool { false }
    var isReading: Bool { true }
    init(loop: EventLoop) { self.loop = loop }
    func close() {}
    func pauseReading() { events.append("pauseReading") }
    func resumeReading() { events.append("resumeReading") }
}

struct StreamFailure: Error, Equatable {}

@Suite struct StreamReaderStoryTests {
    @Test func readUntilPastTheLimitThrowsAndKeepsTheData() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { _ in
            var events: [String] = []
            let reader = try StreamReader(limit: 4)
            try reader.feedData(Array("abcdefgh\nxyz".utf8))
            events.append(await outcome { try await reader.readUntil() })
            events.append(await outcome { try await reader.read(100) })
            try reader.feedData(Array("abcdefgh".utf8))
            events.append(await outcome { try await reader.readUntil() })
            events.append(await outcome { try await reader.readExactly(8) })
            return events
        }
        #expect(
            events == [
                "limitOverrun(8)",  // separator found at 8 > limit: nothing consumed
                #"ok "abcdefgh\nxyz""#,
                "limitOverrun(8)",  // no separator in 8 bytes (offset 8 + 1 - 1 > limit)
                #"ok "abcdefgh""#,
            ]
        )
    }

    @Test func readLinePastTheLimitDropsTheLongLineAndThrows() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { _ in
            var events: [String] = []
            let reader = try StreamReader(limit: 4)
            // The newline is buffered: exactly the long line and its newline are dropped.
            try reader.feedData(Array("abcdefgh\nxyz\n".utf8))
            events.append(await outcome { try await reader.readLine() })
            events.append(await outcome { try await reader.readLine() })
            // No newline buffered yet: the whole buffer is dropped.
            try reader.feedData(Array("abcdefgh".utf8))
            events.append(await outcome { try await reader.readLine() })
            try reader.feedData(Array("ij\n".utf8))
            events.append(await outcome { try await reader.readLine() })
            return events
        }
        #expect(events == ["limitOverrun(8)", #"ok "xyz\n""#, "limitOverrun(8)", #"ok "ij\n""#])
    }

    @Test func limitOverrunWhileWaitingCountsTheBytesScannedSoFar() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let reader = try StreamReader(limit: 4)
            let feeder = loop.createTask {
                _ = loop.time
                for chunk in ["ab", "cd", "ef"] {
                    try reader.feedData(Array(chunk.utf8))
                    try await sleep(.zero)
                }
            }
            // After "ab", "cd" (4 bytes, offset 4: not over), "ef" makes offset 6 > 4.
            events.append(await outcome { try await reader.readUntil() })
            events.append(await outcome { try await reader.read(100) })
            try await feeder.value
            return events
        }
        #expect(events == ["limitOverrun(6)", #"ok "abcdef""#])
    }

    @Test func anExceptionWakesTheWaitingReadAndFailsEveryLaterRead() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let reader = StreamReader()
            try reader.feedData(Array("partial".utf8))
            loop.callSoon { reader.setException(StreamFailure()) }
            events.append(await outcome { try await reader.readLine() })
            events.append(await outcome { try await reader.read(1) })
            events.append(await outcome { try await reader.readExactly(1) })
            events.append(await outcome { try await reader.readUntil(anyOf: [[0x0A]]) })
            events.append("exception() is StreamFailure: \(reader.exception() is StreamFailure)")
            return events
        }
        #expect(
            events == [
                "error StreamFailure()", "error StreamFailure()", "error StreamFailure()", "error StreamFailure()",
                "exception() is StreamFailure: true",
            ]
        )
    }

    @Test func twoTasksWaitingAtOnceIsAnErrorForTheSecond() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let reader = StreamReader()
            let first = loop.createTask {
                _ = loop.time
                return await outcome { try await reader.readLine() }
            }
            // A new task needs a few loop iterations to reach its first await; bounded.
            for _ in 0..<10 where !reader.description.contains("waiter") {
                try await sleep(.zero)
            }
            events.append("first is waiting: \(reader.description.contains("waiter"))")
            events.append(await outcome { try await reader.read(10) })
            try reader.feedData(Array("line\n".utf8))
            events.append(try await first.value)
            return events
        }
        #expect(events == ["first is waiting: true", "invalidState", #"ok "line\n""#])
    }

    @Test func feedingAfterEOFIsAnErrorAndAtEOFWaitsForTheBufferToEmpty() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { _ in
            var events: [String] = []
            let reader = StreamReader()
            try reader.feedData(Array("ab".utf8))
            reader.feedEOF()
            events.append("atEOF \(reader.atEOF)")
            do {
                try reader.feedData([1])
            } catch {
                events.append("feedData: \(error)")
            }
            events.append(await outcome { try await reader.read(-1) })
            events.append("atEOF \(reader.atEOF)")
            return events
        }
        #expect(
            events == [
                "atEOF false", "feedData: InvalidStateError: feedData after feedEOF", #"ok "ab""#, "atEOF true",
            ]
        )
    }

    @Test func aCancelledReadLeavesTheReaderUsable() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let reader = StreamReader()
            let waiting = loop.createTask {
                _ = loop.time
                return await outcome { try await reader.readLine() }
            }
            try await sleep(.zero)
            waiting.cancel(message: "bye")
            events.append(try await waiting.value)
            try reader.feedData(Array("next\n".utf8))
            events.append(await outcome { try await reader.readLine() })
            return events
        }
        #expect(events == [#"error CancelledError(bye)"#, #"ok "next\n""#])
    }

    /// As asyncio, for what happens after data woke a read but before its task runs again: a
    /// cancellation is thrown at the read's `await` (the task's must-cancel) and the data stays
    /// buffered; an exception does not take the data from the woken read, the next read throws it.
    @Test(arguments: [
        ("cancel", [#"error CancelledError(late)"#, #"ok "data""#]),
        ("setException", [#"ok "data""#, "error StreamFailure()"]),
    ])
    func whatComesAfterTheWakeUp(_ step: String, expected: [String]) async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let reader = StreamReader()
            let waiting = loop.createTask {
                _ = loop.time
                return await outcome { try await reader.read(10) }
            }
            try await sleep(.zero)
            try reader.feedData(Array("data".utf8))
            if step == "cancel" { waiting.cancel(message: "late") } else { reader.setException(StreamFailure()) }
            events.append(try await waiting.value)
            events.append(await outcome { try await reader.read(10) })
            return events
        }
        #expect(events == expected)
    }

    /// A plain Swift task isolated to the loop (not a LoopTask) reading: woken by data, and
    /// cancelled the Swift way; a reader whose wait was cancelled serves the next reads.
    @Test func aSwiftTaskReadsAndIsCancelledTheSwiftWay() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            var events: [String] = []
            let reader = StreamReader()
            for round in 0..<20 {
                let woken = Task {
                    _ = loop.isRunning
                    return await outcome { try await reader.read(10) }
                }
                try await sleep(.milliseconds(1))
                try reader.feedData(Array("r\(round)".utf8))
                let result = await woken.value
                let cancelled = Task {
                    _ = loop.isRunning
                    return await outcome { try await reader.read(10) }
                }
                try await sleep(.milliseconds(1))
                cancelled.cancel()
                let failure = await cancelled.value
                if round == 0 || round == 19 { events += [result, failure] }
            }
            try reader.feedData(Array("last".utf8))
            events.append(await outcome { try await reader.read(10) })
            return events
        }
        #expect(
            events == [
                #"ok "r0""#, "error CancelledError", #"ok "r19""#, "error CancelledError", #"ok "last""#,
            ]
        )
    }

    @Test func readingPausesTheTransportAboveTwiceTheLimitAndResumesAtTheLimit() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let transport = RecordingReadTransport(loop: loop)
            let reader = try StreamReader(limit: 4)
            try reader.setTransport(transport)
            try reader.feedData(Array("12345678".utf8))  // 8 = 2 × limit: not over
            transport.events.append("fed 8")
            try reader.feedData(Array("9".utf8))  // 9 > 8: pause
            transport.events.append("fed 9")
            try reader.feedData(Array("abc".utf8))  // already paused: nothing
            transport.events.append("fed 12")
            _ = try await reader.read(7)  // 5 left > limit
            transport.events.append("read 7")
            _ = try await reader.read(1)  // 4 left <= limit: resume
            transport.events.append("read 1")
            do {
                try reader.setTransport(transport)
            } catch {
                transport.events.append("setTransport again: \(error)")
            }
            return transport.events
        }
        #expect(
            events == [
                "fed 8", "pauseReading", "fed 9", "fed 12", "read 7", "resumeReading", "read 1",
                "setTransport again: InvalidStateError: Transport already set",
            ]
        )
    }

    @Test func readExactlyBeyondTwiceTheLimitResumesThePausedTransportWhileItWaits() async throws {
        let events = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let transport = RecordingReadTransport(loop: loop)
            let reader = try StreamReader(limit: 2)
            try reader.setTransport(transport)
            let feeder = loop.createTask {
                _ = loop.time
                for chunk in ["abc", "de", "fgh"] {
                    try reader.feedData(Array(chunk.utf8))
                    transport.events.append("fed \(chunk)")
                    try await sleep(.zero)
                }
            }
            let data = try await reader.readExactly(8)
            transport.events.append("read \(String(decoding: data, as: UTF8.self))")
            try await feeder.value
            return transport.events
        }
        #expect(
            events == [
                "fed abc", "pauseReading", "fed de",  // 5 > 2 × limit
                "resumeReading",  // the read still waits: it resumes reading
                "pauseReading", "fed fgh", "resumeReading",  // the read takes all 8: buffer empty
                "read abcdefgh",
            ]
        )
    }

    @Test func theReaderIsAnAsyncSequenceOfLines() async throws {
        let lines = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let reader = StreamReader()
            let feeder = loop.createTask {
                _ = loop.time
                for chunk in ["one\ntw", "o\n", "", "three"] {
                    try reader.feedData(Array(chunk.utf8))
                    try await sleep(.zero)
                }
                reader.feedEOF()
            }
            var lines: [String] = []
            for try await line in reader {
                lines.append(String(decoding: line, as: UTF8.self))
            }
            try await feeder.value
            return lines
        }
        #expect(lines == ["one\n", "two\n", "three"])
    }

    @Test func reusingOneBufferForManySmallFeedsAndReadsKeepsEveryByteInOrder() async throws {
        let total = try await EventLoopThread.run(clock: VirtualClock()) { _ in
            let reader = StreamReader()
            var expected: UInt8 = 0
            var checked = 0
            for round in 0..<2_000 {
                try reader.feedData(
                    (0..<(round % 97 + 1)).map { _ in
                        defer { expected &+= 1 }
                        return expected
                    }
                )
                if round % 3 == 0 { _ = 0 }
            }
            expected = 0
            reader.feedEOF()
            while true {
                let block = try await reader.read(37)
                if block.isEmpty { break }
                for byte in block {
                    guard byte == expected else { return -1 }
                    expected &+= 1
                    checked += 1
                }
            }
            return checked
        }
        #expect(total == (0..<2_000).reduce(0) { $0 + $1 % 97 + 1 })
    }

    /// The reader keeps a small array it handed out, to fill it again once the caller drops it
    /// (no allocation per message): an array the caller still holds must never change.
    @Test func anArrayHandedOutNeverChangesWhateverTheReaderReceivesNext() async throws {
        let reads = try await EventLoopThread.run(clock: VirtualClock()) { _ in
            let reader = StreamReader()
            var reads: [[UInt8]] = []
            try reader.feedData(Array("ping\n".utf8))
            _ = try await reader.read(100)  // dropped at once: its storage may be filled again
            for chunk in ["pong\n", "next\n", String(repeating: "a", count: 4_096), "tail\n"] {
                try reader.feedData(Array(chunk.utf8))
                reads.append(try await reader.read(8_192))
            }
            try reader.feedData(Array("pa".utf8))
            reads.append(try await reader.read(1))  // a part is copied out; the rest stays
            try reader.feedData(Array("rt".utf8))
            reads.append(try await reader.read(100))
            return reads.map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(reads == ["pong\n", "next\n", String(repeating: "a", count: 4_096), "tail\n", "p", "art"])
    }
}

import AsyncIO
import AsyncIOTesting
import Testing

/// `WriteFlowControl`: the water-mark rules every transport shares (asyncio's `_FlowControlMixin`).
@Suite struct WriteFlowControlTests {
    /// A story of buffer sizes and what the transport is told: pause strictly over high, resume at
    /// or under low, each only once until the other.
    @Test func pauseStrictlyOverHighAndResumeAtLow() throws {
        var flow = WriteFlowControl()
        try flow.setLimits(high: 100, low: 40)
        var events: [String] = []
        for (step, size) in [
            ("queue", 100), ("queue", 101), ("queue", 500), ("flush", 41), ("flush", 40), ("flush", 0),
        ] {
            if step == "queue", flow.shouldPause(size: size) { events.append("pause at \(size)") }
            if step == "flush", flow.shouldResume(size: size) { events.append("resume at \(size)") }
        }
        #expect(events == ["pause at 101", "resume at 40"])
        #expect(!flow.isProtocolPaused)
    }

    @Test func resumeIsNotAnsweredWithoutAPause() {
        var flow = WriteFlowControl()
        let resumedUnpaused = flow.shouldResume(size: 0)
        let pausedAtDefault = flow.shouldPause(size: 64 * 1024 + 1)
        #expect(!resumedUnpaused && pausedAtDefault && flow.isProtocolPaused)
    }

    @Test(
        arguments: [
            // (high, low) given → (low, high) set, as asyncio's `_set_write_buffer_limits`.
            (nil, nil, 16_384, 65_536),
            (nil, 1000, 1000, 4000),
            (1000, nil, 250, 1000),
            (10, 10, 10, 10),
            (0, 0, 0, 0),
        ] as [(Int?, Int?, Int, Int)]
    )
    func limitsTakeAsyncioDefaults(high: Int?, low: Int?, expectedLow: Int, expectedHigh: Int) throws {
        var flow = WriteFlowControl()
        try flow.setLimits(high: high, low: low)
        #expect(flow.limits == (expectedLow, expectedHigh))
        #expect(flow.low == expectedLow && flow.high == expectedHigh)
    }

    @Test func limitsOutOfOrderAreRejectedAndLeftUnchanged() throws {
        var flow = WriteFlowControl()
        try flow.setLimits(high: 100, low: 10)
        var errors: [TransportError] = []
        for (high, low) in [(10, 20), (10, -1)] {
            do { try flow.setLimits(high: high, low: low) } catch { errors.append(error) }
        }
        #expect(
            errors == [
                .invalidValue("high (10) must be >= low (20) must be >= 0"),
                .invalidValue("high (10) must be >= low (-1) must be >= 0"),
            ]
        )
        #expect(flow.limits == (10, 100))
    }

    /// The in-memory transport (AsyncIOTesting, outside this module) uses the same state, so
    /// lowering the marks under what is buffered pauses its protocol at once, as a socket does.
    @Test(arguments: [TransportConformanceTests.Kind.memory, .tcp4Server])
    func loweringTheMarksUnderTheBufferPausesTheProtocol(kind: TransportConformanceTests.Kind) async throws {
        let pauses = try await EventLoopThread.run { loop in
            let proto = RecordingProtocol(loop: loop)
            proto.recordData = false
            let peer = try await TransportConformanceTests.connect(kind)(loop, proto)
            let transport = proto.transport!
            // Marks nothing reaches, then bytes the peer (which does not read) leaves queued.
            try transport.setWriteBufferLimits(high: 1 << 30, low: 0)
            let chunk = [UInt8](repeating: 1, count: 1 << 20)
            while transport.writeBufferSize == 0 { try transport.write(chunk) }
            var pauses = [proto.events.filter { $0 == "PW" }.count]
            try transport.setWriteBufferLimits(high: 10, low: 5)
            pauses.append(proto.events.filter { $0 == "PW" }.count)
            try transport.setWriteBufferLimits(high: 1, low: 0)
            pauses.append(proto.events.filter { $0 == "PW" }.count)
            transport.abort()
            try await proto.waitLost(loop: loop)
            _ = peer
            return pauses
        }
        // Paused once when the marks dropped under the buffer, and not again while paused.
        #expect(pauses == [0, 1, 1])
    }
}

import AsyncIO

/// The far end of a connection under test, driven from the test (a blocking socket on threads for
/// real sockets; the other half of a pair for in-memory transports).
public protocol TransportPeer: AnyObject {
    func send(_ bytes: [UInt8]) async throws
    /// Exactly `count` bytes, or fewer if EOF comes first.
    func receive(exactly count: Int) async throws -> [UInt8]
    func receiveToEOF() async throws -> [UInt8]
    func shutdownWrite() async throws
    /// Ends the connection abruptly (TCP: RST), so the transport sees an error.
    func reset() async throws
}

/// A protocol that records its callbacks as strings, for story-style tests.
///
/// Events: `"CM"`, `"DR <text>"`, `"ER"`, `"PW"`, `"RW"`, `"CL nil"` / `"CL error"`, plus
/// `"AFTER-CL <callback>"` if anything is called after `connectionLost` (a conformance failure).
public final class RecordingProtocol: ConnectionProtocol {
    /// The callbacks so far, as story events (see the type's documentation).
    public private(set) var events: [String] = []
    /// Every byte `dataReceived` was given, in order.
    public private(set) var received: [UInt8] = []
    /// The transport `connectionMade` was given.
    public private(set) var transport: (any Transport)?
    /// The error `connectionLost` was given, if any.
    public private(set) var lostError: (any Error)?
    /// What `eofReceived` returns.
    public var keepOpenOnEOF = false
    /// Record each `dataReceived` as one event (off for big transfers: `received` still grows).
    public var recordData = true
    /// Called after the event is recorded, to script reactions.
    public var onEvent: ((String, RecordingProtocol) -> Void)?
    private var lost = false
    private var lostWaiters: [Future<Void>] = []
    private let loop: EventLoop

    /// Creates a recording protocol on `loop`.
    public init(loop: isolated EventLoop) {
        self.loop = loop
    }

    private func record(_ event: String) {
        events.append(lost ? "AFTER-CL \(event)" : event)
        onEvent?(event, self)
    }

    public func connectionMade(_ transport: any Transport, loop: isolated EventLoop) {
        self.transport = transport
        record("CM")
    }

    public func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {
        received.append(contentsOf: data)
        if recordData { record("DR \(String(decoding: data, as: UTF8.self))") }
    }

    public func eofReceived(loop: isolated EventLoop) -> Bool {
        record("ER")
        return keepOpenOnEOF
    }

    public func pauseWriting(loop: isolated EventLoop) { record("PW") }
    public func resumeWriting(loop: isolated EventLoop) { record("RW") }

    public func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        lostError = error
        record(error == nil ? "CL nil" : "CL error")
        lost = true
        for waiter in lostWaiters where !waiter.isDone { try? waiter.setResult(()) }
        lostWaiters = []
    }

    /// Waits until `connectionLost` was called.
    public func waitLost(loop: isolated EventLoop) async throws {
        guard !lost else { return }
        let waiter = loop.createFuture(of: Void.self)
        lostWaiters.append(waiter)
        try await waiter.value
    }
}

/// A conformance failure: what was expected and what happened.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// The scenario that failed.
    public var scenario: String
    /// What was seen instead of what was expected.
    public var detail: String
    public var description: String { "\(scenario): \(detail)" }
}

/// The transport conformance suite, written once and run against every transport (TCP, Unix
/// sockets, in-memory pairs): asyncio's documented callback order, half-close, flow control,
/// abort, close with pending data, reset mid-write, write after writeEOF.
///
/// Each scenario takes a `connect` function that makes a connection whose local side is the
/// transport under test, driving the given protocol, and returns the peer. Scenarios throw
/// `ConformanceFailure` on a mismatch.
public enum TransportConformance {
    /// Makes a connection whose local side is the transport under test, driving the given
    /// protocol, and returns the far end.
    public typealias Connect = (isolated EventLoop, RecordingProtocol) async throws -> any TransportPeer

    static func expect(_ condition: Bool, _ scenario: String, _ detail: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(scenario: scenario, detail: detail()) }
    }

    /// Every scenario, in order. Returns the names of the scenarios run.
    @discardableResult
    public static func runAll(loop: isolated EventLoop, connect: Connect) async throws -> [String] {
        try await callbackOrder(loop: loop, connect: connect)
        try await halfClose(loop: loop, connect: connect)
        try await eofClosesWhenProtocolSaysSo(loop: loop, connect: connect)
        try await flowControl(loop: loop, connect: connect)
        try await abortDropsDataAndCallsConnectionLostOnce(loop: loop, connect: connect)
        try await closeFlushesPendingData(loop: loop, connect: connect)
        try await writeAfterWriteEOFThrows(loop: loop, connect: connect)
        try await resetMidWrite(loop: loop, connect: connect)
        try await pauseReadingHoldsDataBack(loop: loop, connect: connect)
        return [
            "callbackOrder", "halfClose", "eofClosesWhenProtocolSaysSo", "flowControl",
            "abortDropsDataAndCallsConnectionLostOnce", "closeFlushesPendingData", "writeAfterWriteEOFThrows",
            "resetMidWrite", "pauseReadingHoldsDataBack",
        ]
    }

    /// `CM -> DR* -> ER -> CL`, nothing after CL.
    public static func callbackOrder(loop: isolated EventLoop, connect: Connect) async throws {
        let proto = RecordingProtocol(loop: loop)
        let peer = try await connect(loop, proto)
        try await peer.send(Array("hello".utf8))
        while proto.received.count < 5 { try await sleep(.milliseconds(1)) }
        try await peer.shutdownWrite()
        try await proto.waitLost(loop: loop)
        try await sleep(.milliseconds(10))
        try expect(proto.events == ["CM", "DR hello", "ER", "CL nil"], "callbackOrder", "\(proto.events)")
    }

    /// `eofReceived` returning true keeps the write side open: the protocol answers after EOF.
    public static func halfClose(loop: isolated EventLoop, connect: Connect) async throws {
        let proto = RecordingProtocol(loop: loop)
        proto.keepOpenOnEOF = true
        proto.onEvent = { event, proto in
            guard event == "ER", let transport = proto.transport else { return }
            try? transport.write(Array("reply after EOF".utf8))
            transport.close()
        }
        let peer = try await connect(loop, proto)
        try await peer.send(Array("ping".utf8))
        try await peer.shutdownWrite()
        let reply = try await peer.receiveToEOF()
        try await proto.waitLost(loop: loop)
        try expect(String(decoding: reply, as: UTF8.self) == "reply after EOF", "halfClose", "peer got \(reply)")
        try expect(proto.events == ["CM", "DR ping", "ER", "CL nil"], "halfClose", "\(proto.events)")
    }

    /// `eofReceived` returning false closes the transport: `CL nil` follows.
    public static func eofClosesWhenProtocolSaysSo(loop: isolated EventLoop, connect: Connect) async throws {
        let proto = RecordingProtocol(loop: loop)
        let peer = try await connect(loop, proto)
        try await peer.shutdownWrite()
        try await proto.waitLost(loop: loop)
        let rest = try await peer.receiveToEOF()
        try expect(rest.isEmpty, "eofClosesWhenProtocolSaysSo", "peer got \(rest.count) bytes")
        try expect(proto.events == ["CM", "ER", "CL nil"], "eofClosesWhenProtocolSaysSo", "\(proto.events)")
    }

    /// A peer that does not read makes the transport call `pauseWriting` (strictly over the high
    /// mark), and `resumeWriting` once the peer drains it; every byte arrives in order.
    public static func flowControl(loop: isolated EventLoop, connect: Connect) async throws {
        let proto = RecordingProtocol(loop: loop)
        let peer = try await connect(loop, proto)
        guard let transport = proto.transport else {
            throw ConformanceFailure(scenario: "flowControl", detail: "no CM")
        }
        try transport.setWriteBufferLimits(high: 64 * 1024, low: 16 * 1024)
        let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
        var sent = 0
        while !proto.events.contains("PW") && sent < 64 * 1024 * 1024 {
            try transport.write(chunk)
            sent += chunk.count
        }
        try expect(proto.events.last == "PW", "flowControl", "no pauseWriting after \(sent) bytes: \(proto.events)")
        try expect(transport.writeBufferSize > 64 * 1024, "flowControl", "paused at \(transport.writeBufferSize)")
        let received = try await peer.receive(exactly: sent)
        try expect(received.count == sent, "flowControl", "peer got \(received.count) of \(sent)")
        try expect(proto.events == ["CM", "PW", "RW"], "flowControl", "\(proto.events)")
        try expect(transport.writeBufferSize == 0, "flowControl", "buffer \(transport.writeBufferSize) left")
        transport.close()
        try await proto.waitLost(loop: loop)
    }

    /// `abort` drops buffered data; `connectionLost(nil)` comes once, in a later iteration.
    public static func abortDropsDataAndCallsConnectionLostOnce(loop: isolated EventLoop, connect: Connect) async throws
    {
        let proto = RecordingProtocol(loop: loop)
        let peer = try await connect(loop, proto)
        defer { withExtendedLifetime(peer) {} }
        guard let transport = proto.transport else { throw ConformanceFailure(scenario: "abort", detail: "no CM") }
        transport.pauseReading()
        try transport.write([UInt8](repeating: 1, count: 4 * 1024 * 1024))
        transport.abort()
        try expect(transport.isClosing, "abort", "isClosing false after abort")
        try expect(proto.events == ["CM"] || proto.events == ["CM", "PW"], "abort", "CL too early: \(proto.events)")
        transport.abort()
        transport.close()
        try await proto.waitLost(loop: loop)
        try await sleep(.milliseconds(10))
        let lost = proto.events.filter { $0.hasPrefix("CL") }
        try expect(lost == ["CL nil"], "abort", "\(proto.events) \(String(describing: proto.lostError))")
        try expect(transport.writeBufferSize == 0, "abort", "buffer kept \(transport.writeBufferSize)")
    }

    /// `close` with data still queued flushes it all before `connectionLost(nil)` and EOF.
    public static func closeFlushesPendingData(loop: isolated EventLoop, connect: Connect) async throws {
        let proto = RecordingProtocol(loop: loop)
        let peer = try await connect(loop, proto)
        guard let transport = proto.transport else { throw ConformanceFailure(scenario: "close", detail: "no CM") }
        var payload = [UInt8](repeating: 0, count: 3 * 1024 * 1024)
        for index in payload.indices { payload[index] = UInt8(truncatingIfNeeded: index &* 7) }
        try transport.write(payload)
        transport.close()
        try expect(proto.events.allSatisfy { !$0.hasPrefix("CL") }, "close", "CL before the flush")
        // Writing to a closing transport does not crash.
        for _ in 0..<6 { try? transport.write(Array("late".utf8)) }
        let received = try await peer.receiveToEOF()
        try await proto.waitLost(loop: loop)
        try expect(received.count >= payload.count, "close", "peer got \(received.count) of \(payload.count)")
        try expect(Array(received.prefix(payload.count)) == payload, "close", "bytes differ")
        try expect(proto.events.filter { $0.hasPrefix("CL") } == ["CL nil"], "close", "\(proto.events)")
    }

    /// `write` after `writeEOF` throws `TransportError.writeAfterEOF`; the peer sees EOF.
    public static func writeAfterWriteEOFThrows(loop: isolated EventLoop, connect: Connect) async throws {
        let proto = RecordingProtocol(loop: loop)
        proto.keepOpenOnEOF = true
        let peer = try await connect(loop, proto)
        guard let transport = proto.transport else { throw ConformanceFailure(scenario: "writeEOF", detail: "no CM") }
        try expect(transport.canWriteEOF, "writeEOF", "canWriteEOF is false")
        try transport.write(Array("last".utf8))
        try transport.writeEOF()
        var caught: TransportError?
        do { try transport.write(Array("more".utf8)) } catch { caught = error }
        try expect(caught == .writeAfterEOF, "writeEOF", "write after writeEOF gave \(String(describing: caught))")
        let received = try await peer.receiveToEOF()
        try expect(received == Array("last".utf8), "writeEOF", "peer got \(received)")
        try await peer.shutdownWrite()
        try await sleep(.milliseconds(5))
        transport.close()
        try await proto.waitLost(loop: loop)
        try expect(proto.events == ["CM", "ER", "CL nil"], "writeEOF", "\(proto.events)")
    }

    /// A peer that resets while the transport writes: `connectionLost(error)` exactly once, and
    /// nothing after it.
    public static func resetMidWrite(loop: isolated EventLoop, connect: Connect) async throws {
        let proto = RecordingProtocol(loop: loop)
        proto.recordData = false
        let peer = try await connect(loop, proto)
        guard let transport = proto.transport else { throw ConformanceFailure(scenario: "reset", detail: "no CM") }
        let chunk = [UInt8](repeating: 2, count: 256 * 1024)
        try transport.write(chunk)
        try await peer.reset()
        var writes = 0
        while proto.lostError == nil && !proto.events.contains("CL nil") && writes < 10_000 {
            try? transport.write(chunk)
            writes += 1
            try await sleep(.milliseconds(1))
        }
        try await proto.waitLost(loop: loop)
        for _ in 0..<10 { try? transport.write(chunk) }
        try await sleep(.milliseconds(10))
        let lost = proto.events.filter { $0.contains("CL") }
        try expect(lost == ["CL error"], "reset", "\(proto.events)")
        try expect(!proto.events.contains { $0.hasPrefix("AFTER-CL") }, "reset", "\(proto.events)")
    }

    /// `pauseReading` stops `dataReceived` (and `eofReceived`) until `resumeReading`; nothing is lost.
    public static func pauseReadingHoldsDataBack(loop: isolated EventLoop, connect: Connect) async throws {
        let proto = RecordingProtocol(loop: loop)
        let peer = try await connect(loop, proto)
        guard let transport = proto.transport else { throw ConformanceFailure(scenario: "pause", detail: "no CM") }
        transport.pauseReading()
        try expect(!transport.isReading, "pause", "isReading after pauseReading")
        try await peer.send(Array("held".utf8))
        try await peer.shutdownWrite()
        try await sleep(.milliseconds(30))
        try expect(proto.events == ["CM"], "pause", "callbacks while paused: \(proto.events)")
        transport.resumeReading()
        try expect(transport.isReading, "pause", "not reading after resumeReading")
        try await proto.waitLost(loop: loop)
        try expect(proto.events == ["CM", "DR held", "ER", "CL nil"], "pause", "\(proto.events)")
    }
}

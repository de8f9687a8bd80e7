// Theory of operation
//
// Two `MemoryTransport`s joined back to back on one loop: what one writes, the other's protocol
// receives in a later iteration (as with a socket, never inside `write`). Bytes written and not yet
// delivered to the other side's protocol count in the writer's `writeBufferSize`, so a side that
// pauses reading makes the writer pause (strictly over its high-water mark) and resume (at its
// low-water mark) exactly as a socket whose peer stops reading does. EOF (`writeEOF`, `close`)
// travels behind the data. `reset()` ends the other side with ECONNRESET, like a TCP RST.
import AsyncIO
import Glibc

/// One end of an in-memory connection: a `Transport` for tests that need no sockets.
///
/// Make a pair with `MemoryTransport.pair(loop:_:_:)`. Mirrors nothing in asyncio (its tests use
/// mocks); it is the in-memory transport DESIGN.md asks `AsyncIOTesting` to provide.
public final class MemoryTransport: Transport {
    public let loop: EventLoop
    fileprivate var other: MemoryTransport?
    private var proto: (any StreamingProtocol)?
    /// Bytes from the other end not yet handed to our protocol.
    fileprivate var incoming: [UInt8] = []
    fileprivate var incomingEOF = false
    private var eofDelivered = false
    private var deliveryScheduled = false
    private var reading = true
    public private(set) var isClosing = false
    private var eofWritten = false
    private var lost = false
    /// The water marks, shared with the socket transports' rules.
    private var flow = WriteFlowControl()

    init(loop: EventLoop, proto: any StreamingProtocol) {
        self.loop = loop
        self.proto = proto
    }

    /// Connects `first` and `second` back to back and calls both `connectionMade`s.
    ///
    /// - Throws: `TransportError.invalidValue` if a protocol is neither a `ConnectionProtocol` nor
    ///   a `BufferedConnectionProtocol`.
    public static func pair(
        loop: isolated EventLoop,
        _ first: any StreamingProtocol,
        _ second: any StreamingProtocol
    ) throws -> (MemoryTransport, MemoryTransport) {
        for proto in [first, second] where !(proto is any ConnectionProtocol || proto is any BufferedConnectionProtocol)
        {
            throw TransportError.invalidValue("\(type(of: proto)) is not a stream protocol")
        }
        let a = MemoryTransport(loop: loop, proto: first)
        let b = MemoryTransport(loop: loop, proto: second)
        a.other = b
        b.other = a
        first.connectionMade(a, loop: loop)
        second.connectionMade(b, loop: loop)
        return (a, b)
    }

    public var extraInfo: TransportExtraInfo { TransportExtraInfo() }

    /// Hands the connection to `proto`; see `Transport.setProtocol(_:)`.
    public func setProtocol(_ proto: any StreamingProtocol) throws(TransportError) {
        guard !lost, self.proto != nil else { throw TransportError.closed }
        guard proto is any ConnectionProtocol || proto is any BufferedConnectionProtocol else {
            throw TransportError.invalidValue("\(type(of: proto)) is not a stream protocol")
        }
        self.proto = proto
    }

    // MARK: - Reading

    public var isReading: Bool { reading && !isClosing }

    public func pauseReading() {
        guard !isClosing, reading else { return }
        reading = false
    }

    public func resumeReading() {
        guard !isClosing, !reading else { return }
        reading = true
        scheduleDelivery()
    }

    fileprivate func scheduleDelivery() {
        guard !deliveryScheduled, reading, !lost, !incoming.isEmpty || (incomingEOF && !eofDelivered) else { return }
        deliveryScheduled = true
        loop.runIsolated(self) { transport, loop in
            loop.callSoon { transport.deliver(loop: loop) }
        }
    }

    private func deliver(loop: isolated EventLoop) {
        deliveryScheduled = false
        guard reading, !lost, let proto else { return }
        if !incoming.isEmpty {
            let bytes = incoming
            incoming = []
            if let plain = proto as? any ConnectionProtocol {
                plain.dataReceived(bytes.span, loop: loop)
            } else if let buffered = proto as? any BufferedConnectionProtocol {
                var offset = 0
                while offset < bytes.count, !lost {
                    let buffer = buffered.getBuffer(sizeHint: bytes.count - offset, loop: loop)
                    let count = min(buffer.count, bytes.count - offset)
                    guard count > 0 else { break }
                    bytes.withUnsafeBytes {
                        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + count]))
                    }
                    offset += count
                    buffered.bufferUpdated(count, loop: loop)
                }
            }
            other?.writerDrained(loop: loop)
        }
        if incomingEOF && incoming.isEmpty && !eofDelivered && !lost {
            eofDelivered = true
            if !proto.eofReceived(loop: loop) { close() }
        }
    }

    // MARK: - Writing

    public func write(_ data: Span<UInt8>) throws(TransportError) {
        guard !eofWritten else { throw TransportError.writeAfterEOF }
        guard !lost, let other, !other.lost, !data.isEmpty else { return }
        other.incoming.append(contentsOf: data)
        other.scheduleDelivery()
        maybePauseProtocol()
    }

    /// Pauses our protocol strictly over the high-water mark (once until it is resumed).
    private func maybePauseProtocol() {
        if flow.shouldPause(size: writeBufferSize) {
            loop.runIsolated(self) { transport, loop in transport.proto?.pauseWriting(loop: loop) }
        }
    }

    /// Called when the other side consumed what we wrote.
    fileprivate func writerDrained(loop: isolated EventLoop) {
        if flow.shouldResume(size: writeBufferSize) {
            proto?.resumeWriting(loop: loop)
        }
        if writeBufferSize == 0 {
            if isClosing { finish(nil) } else if eofWritten { sendEOF() }
        }
    }

    public func writeEOF() throws(TransportError) {
        guard !isClosing, !eofWritten else { return }
        eofWritten = true
        if writeBufferSize == 0 { sendEOF() }
    }

    private func sendEOF() {
        guard let other, !other.incomingEOF else { return }
        other.incomingEOF = true
        other.scheduleDelivery()
    }

    public var canWriteEOF: Bool { true }

    public func setWriteBufferLimits(high: Int?, low: Int?) throws(TransportError) {
        try flow.setLimits(high: high, low: low)
        maybePauseProtocol()
    }

    public var writeBufferSize: Int { other?.incoming.count ?? 0 }

    public var writeBufferLimits: (low: Int, high: Int) { flow.limits }

    // MARK: - Closing

    public func close() {
        guard !isClosing else { return }
        isClosing = true
        if writeBufferSize == 0 { finish(nil) }
    }

    public func abort() {
        guard !lost else { return }
        other?.incoming.removeAll()
        isClosing = true
        finish(nil)
    }

    /// Ends the connection abruptly: the other side's protocol gets `connectionLost(ECONNRESET)`.
    public func reset() {
        other?.finish(SystemError(call: "recv", errno: ECONNRESET))
        other?.other = nil
        other = nil
        isClosing = true
        finish(nil)
    }

    /// Sends EOF to the other side and schedules `connectionLost(error)` once.
    private func finish(_ error: (any Error)?) {
        guard !lost else { return }
        lost = true
        isClosing = true
        incoming.removeAll()
        sendEOF()
        loop.runIsolated(self) { transport, loop in
            loop.callSoon {
                let proto = transport.proto
                transport.proto = nil
                proto?.connectionLost(error, loop: loop)
            }
        }
    }
}

/// The test's side of a `MemoryTransport` pair, as a `TransportPeer` for the conformance suite.
///
/// Like a blocking socket that nobody reads, it holds incoming bytes back (reading paused) until
/// `receive` asks for them, so flow control on the other side can be observed.
public final class MemoryPeer: TransportPeer {
    private final class Collector: ConnectionProtocol {
        var received: [UInt8] = []
        var eof = false

        func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) { received.append(contentsOf: data) }

        func eofReceived(loop: isolated EventLoop) -> Bool {
            eof = true
            return true
        }

        func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) { eof = true }
    }

    /// The peer's own end of the pair.
    public let transport: MemoryTransport
    private let collector: Collector

    /// Makes a pair: `proto` drives the returned transport, the peer drives the other end.
    public static func connect(
        loop: isolated EventLoop,
        _ proto: any StreamingProtocol
    ) throws -> (MemoryTransport, MemoryPeer) {
        let collector = Collector()
        let (tested, peerSide) = try MemoryTransport.pair(loop: loop, proto, collector)
        peerSide.pauseReading()
        return (tested, MemoryPeer(transport: peerSide, collector: collector))
    }

    private init(transport: MemoryTransport, collector: Collector) {
        self.transport = transport
        self.collector = collector
    }

    public func send(_ bytes: [UInt8]) async throws { try transport.write(bytes) }

    public func receive(exactly count: Int) async throws -> [UInt8] {
        transport.resumeReading()
        defer { transport.pauseReading() }
        var idle = 0
        while collector.received.count < count && !collector.eof {
            try await sleep(.milliseconds(1))
            idle += 1
            if idle > 10_000 { throw SystemError(call: "recv (deadline)", errno: EAGAIN) }
        }
        let taken = Array(collector.received.prefix(count))
        collector.received.removeFirst(taken.count)
        return taken
    }

    public func receiveToEOF() async throws -> [UInt8] { try await receive(exactly: Int.max) }

    public func shutdownWrite() async throws { try transport.writeEOF() }

    public func reset() async throws { transport.reset() }
}

import AsyncIO
import AsyncIOTesting
import Glibc
import Logging
import Testing

/// Faults and bad input: what a misbehaving peer or caller must not be able to do to a transport.
@Suite struct TransportFaultTests {
    /// A peer that half-closes and stops reading while the transport has queued data and reading
    /// is paused: the loop must sleep, not spin on the pending hang-up.
    @Test func aHalfClosedPeerThatStopsReadingDoesNotMakeTheLoopSpin() async throws {
        let iterations = try await EventLoopThread.run { loop in
            let proto = RecordingProtocol(loop: loop)
            proto.recordData = false
            let server = try await loop.createServer({ proto }, host: "127.0.0.1", port: 0)
            defer { server.close() }
            let peer = try await BlockingPeer.connect(to: try server.sockets[0].localAddress())
            try await waitUntil { proto.transport != nil }
            let transport = proto.transport!
            transport.pauseReading()
            let chunk = [UInt8](repeating: 7, count: 1024 * 1024)
            while transport.writeBufferSize == 0 { try transport.write(chunk) }
            try await peer.shutdownWrite()
            try await sleep(.milliseconds(50))
            let before = loop.statistics.iterations
            try await sleep(.milliseconds(200))
            let spent = loop.statistics.iterations - before
            transport.abort()
            try await proto.waitLost(loop: loop)
            return spent
        }
        // Sleeping 200 ms in one timer costs a handful of iterations; a spinning loop makes thousands.
        #expect(iterations < 50)
    }

    /// Writes after the connection is lost do not fail or crash: they are dropped, and the fifth
    /// one logs asyncio's "socket.send() raised exception." once. Empty writes are no writes and do
    /// not count (asyncio returns before counting them).
    @Test func writesAfterTheConnectionIsLostAreDroppedAndWarnedAboutOnce() async throws {
        let log = EventLog<String>()
        try await EventLoopThread.run { loop in
            loop.logger = Logger(label: "test") { _ in RecordingLogHandler(log: log) }
            let listener = try BlockingListener()
            async let accepted = listener.accept()
            let proto = RecordingProtocol(loop: loop)
            let (transport, _) = try await loop.createConnection(
                { proto },
                host: "127.0.0.1",
                port: listener.address.port!
            )
            _ = try await accepted
            transport.abort()
            for _ in 0..<10 { try transport.write([]) }
            for _ in 0..<4 { try transport.write(Array("x".utf8)) }
            #expect(log.events.isEmpty)
            for _ in 0..<10 { try transport.write(Array("x".utf8)) }
            try await proto.waitLost(loop: loop)
        }
        #expect(log.events == ["warning: socket.send() raised exception."])
    }

    @Test func setWriteBufferLimitsRejectsLowAboveHigh() async throws {
        let outcome = try await EventLoopThread.run { loop in
            let (transport, _) = try MemoryPeer.connect(loop: loop, RecordingProtocol(loop: loop))
            var errors: [String] = []
            do { try transport.setWriteBufferLimits(high: 10, low: 20) } catch { errors.append("\(error)") }
            try transport.setWriteBufferLimits(high: nil, low: 1000)
            return (errors.count, transport.writeBufferLimits.low, transport.writeBufferLimits.high)
        }
        #expect(outcome.0 == 1 && outcome.1 == 1000 && outcome.2 == 4000)
    }

    @Test func socketTransportWaterMarksDefaultToAsyncios() async throws {
        let limits = try await EventLoopThread.run { loop in
            let listener = try BlockingListener()
            async let accepted = listener.accept()
            let (transport, _) = try await loop.createConnection(
                { RecordingProtocol(loop: loop) },
                host: "127.0.0.1",
                port: listener.address.port!
            )
            _ = try await accepted
            let limits = transport.writeBufferLimits
            let noDelay = try Socket(adopting: dup(transport.extraInfo.fileDescriptor!), family: AF_INET, type: 1)
                .option(level: Int32(IPPROTO_TCP), name: TCP_NODELAY)
            transport.close()
            return [limits.low, limits.high, Int(noDelay)]
        }
        #expect(limits == [16 * 1024, 64 * 1024, 1])
    }

    @Test func badAddressesAreTypedErrorsNotCrashes() async throws {
        let outcomes = try await EventLoopThread.run { loop in
            var outcomes: [String] = []
            func attempt(_ name: String, _ body: () async throws -> Void) async {
                do {
                    try await body()
                    outcomes.append("\(name): no error")
                } catch let error as SystemError {
                    outcomes.append("\(name): SystemError \(error.errno)")
                } catch let error as AddressResolutionError {
                    outcomes.append("\(name): resolution \(error.code < 0)")
                } catch let error as TransportError {
                    outcomes.append("\(name): TransportError \(error)")
                } catch {
                    outcomes.append("\(name): other \(error)")
                }
            }
            await attempt("port out of range") {
                _ = try await loop.createServer({ EchoProtocol() }, host: "127.0.0.1", port: 70_000)
            }
            await attempt("unix path too long") {
                _ = try await loop.createUnixServer(
                    { EchoProtocol() },
                    path: "/tmp/" + String(repeating: "p", count: 200)
                )
            }
            await attempt("unknown host") {
                _ = try await loop.createConnection({ EchoProtocol() }, host: "no-such-host.invalid", port: 80)
            }
            await attempt("host and socket") {
                let socket = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
                _ = try await loop.createServer({ EchoProtocol() }, host: "127.0.0.1", socket: socket)
            }
            await attempt("recv on a closed socket") {
                let socket = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
                socket.close()
                _ = try await loop.sockRecv(socket, maxBytes: 10)
            }
            await attempt("address in use") {
                let first = try await loop.createServer({ EchoProtocol() }, host: "127.0.0.1", port: 0)
                defer { first.close() }
                let port = try first.sockets[0].localAddress().port!
                _ = try await loop.createServer({ EchoProtocol() }, host: "127.0.0.1", port: port, reuseAddress: false)
            }
            return outcomes
        }
        #expect(
            outcomes == [
                "port out of range: SystemError \(EINVAL)",
                "unix path too long: SystemError \(ENAMETOOLONG)",
                "unknown host: resolution true",
                "host and socket: TransportError ValueError: host/port and socket can not be specified at the same time",
                "recv on a closed socket: SystemError \(EBADF)",
                "address in use: SystemError \(EADDRINUSE)",
            ]
        )
    }

    /// A socket closed while a task waits in `sockRecv` leaves a reader behind; the connection that
    /// reuses its descriptor number must still work, and cancelling the stranded task must not
    /// disturb it.
    @Test func aDescriptorNumberReusedAfterAStrandedReaderStillWorks() async throws {
        let reply = try await EventLoopThread.run { loop in
            let stranded = try Socket(family: AF_INET, type: Int32(SOCK_DGRAM.rawValue))
            try stranded.bind(to: .ipv4(host: "127.0.0.1", port: 0))
            let number = stranded.fileDescriptor
            let waiting = loop.createTask { try await loop.sockRecv(stranded, maxBytes: 10) }
            try await settle()
            // Replace the stranded descriptor by a listening socket under the same number, at once
            // (dup2 closes the old one atomically, so no other test can take the number meanwhile).
            let fresh = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            try fresh.bind(to: .ipv4(host: "127.0.0.1", port: 0))
            #expect(dup2(fresh.fileDescriptor, number) == number)
            _ = stranded.detach()
            fresh.close()
            let listening = Socket(adopting: number, family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            let server = try await loop.createServer({ EchoProtocol() }, socket: listening)
            defer { server.close() }
            let reused = server.sockets[0].fileDescriptor == number
            let peer = try await BlockingPeer.connect(to: try server.sockets[0].localAddress())
            try await peer.send(Array("still works".utf8))
            let echoed = try await peer.receive(exactly: 11)
            waiting.cancel()
            _ = try? await waiting.value
            try await peer.send(Array("after cancel".utf8))
            let again = try await peer.receive(exactly: 12)
            return "\(reused) \(String(decoding: echoed, as: UTF8.self)) \(String(decoding: again, as: UTF8.self))"
        }
        #expect(reply == "true still works after cancel")
    }
}

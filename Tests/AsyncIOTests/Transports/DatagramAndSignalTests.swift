import AsyncIO
import AsyncIOTesting
import Glibc
import Testing

final class DatagramEcho: DatagramProtocol {
    var transport: (any DatagramTransport)?
    var events: [String] = []

    func connectionMade(_ transport: any DatagramTransport, loop: isolated EventLoop) {
        self.transport = transport
        events.append("CM")
    }

    func datagramReceived(_ data: Span<UInt8>, from address: SocketAddress, loop: isolated EventLoop) {
        let text = String(decoding: data, as: UTF8.self)
        events.append("DG \(text)")
        try? transport?.sendTo(Array(text.uppercased().utf8), address: address)
    }

    func errorReceived(_ error: any Error, loop: isolated EventLoop) {
        events.append("ERR \((error as? SystemError)?.errno == ECONNREFUSED ? "ECONNREFUSED" : "\(error)")")
    }

    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) { events.append("CL") }
}

/// Records the socket name its transport still reports inside `connectionLost`.
final class SocketNameAtLoss: DatagramProtocol {
    var transport: (any DatagramTransport)?
    var lost = false
    var nameAtLoss: SocketAddress?

    func connectionMade(_ transport: any DatagramTransport, loop: isolated EventLoop) { self.transport = transport }
    func datagramReceived(_ data: Span<UInt8>, from address: SocketAddress, loop: isolated EventLoop) {}

    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        nameAtLoss = transport?.extraInfo.socketName
        lost = true
    }
}

@Suite struct DatagramTests {
    /// As for stream transports, asyncio closes the socket only after `connection_lost` returns.
    @Test func connectionLostCanStillReadTheSocketName() async throws {
        let names = try await EventLoopThread.run { loop in
            let (transport, probe) = try await loop.createDatagramEndpoint(
                { SocketNameAtLoss() },
                localAddress: ("127.0.0.1", 0)
            )
            let bound = transport.extraInfo.socketName
            transport.close()
            try await waitUntil { probe.lost }
            return (bound, probe.nameAtLoss)
        }
        #expect(names.0 != nil)
        #expect(names.1 == names.0)
    }

    @Test func aDatagramEndpointEchoesToAConnectedClientEndpoint() async throws {
        let result = try await EventLoopThread.run { loop in
            let (serverTransport, server) = try await loop.createDatagramEndpoint(
                { DatagramEcho() },
                localAddress: ("127.0.0.1", 0)
            )
            let serverAddress = serverTransport.extraInfo.socketName!
            let (clientTransport, client) = try await loop.createDatagramEndpoint(
                { DatagramEcho() },
                remoteAddress: ("127.0.0.1", serverAddress.port!)
            )
            #expect(clientTransport.extraInfo.peerName == serverAddress)
            try clientTransport.sendTo("ping")
            try await waitUntil { client.events.count >= 2 }
            // The client echoes the upper-cased reply back once more; stop the ping-pong there.
            clientTransport.close()
            try await waitUntil { client.events.last == "CL" }
            serverTransport.close()
            try await waitUntil { server.events.last == "CL" }
            return (Array(server.events.prefix(2)), Array(client.events.prefix(2)))
        }
        #expect(result.0 == ["CM", "DG ping"])
        #expect(result.1 == ["CM", "DG PING"])
    }

    @Test func aConnectedEndpointReportsRefusalToErrorReceivedAndStaysOpen() async throws {
        let events = try await EventLoopThread.run { loop in
            let probe = try Socket(family: AF_INET, type: Int32(SOCK_DGRAM.rawValue))
            try probe.bind(to: .ipv4(host: "127.0.0.1", port: 0))
            let port = try probe.localAddress().port!
            probe.close()
            let (transport, proto) = try await loop.createDatagramEndpoint(
                { DatagramEcho() },
                remoteAddress: ("127.0.0.1", port)
            )
            try transport.sendTo("anyone?")
            try await waitUntil { proto.events.count >= 2 }
            let open = !transport.isClosing
            transport.close()
            try await waitUntil { proto.events.last == "CL" }
            return proto.events + ["open after error: \(open)"]
        }
        #expect(events == ["CM", "ERR ECONNREFUSED", "CL", "open after error: true"])
    }

    @Test func sendToAnotherAddressOnAConnectedEndpointIsAnError() async throws {
        let error = try await EventLoopThread.run { loop -> TransportError? in
            let (transport, _) = try await loop.createDatagramEndpoint(
                { DatagramEcho() },
                remoteAddress: ("127.0.0.1", 9)
            )
            defer { transport.close() }
            do {
                try transport.sendTo("x", address: .ipv4(host: "127.0.0.1", port: 10))
                return nil
            } catch {
                return error as? TransportError
            }
        }
        guard case .invalidValue = error else {
            Issue.record("expected invalidValue, got \(String(describing: error))")
            return
        }
    }
}

@Suite struct SignalTests {
    @Test func aSignalHandlerRunsOnTheLoopAndRemovingItRestoresTheDefault() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            try loop.addSignalHandler(SIGUSR1) {
                events.append("SIGUSR1 on the loop")
            }
            kill(getpid(), SIGUSR1)
            try await waitUntil { !events.isEmpty }
            kill(getpid(), SIGUSR1)
            try await waitUntil { events.count == 2 }
            events.append("removed \(loop.removeSignalHandler(SIGUSR1))")
            events.append("removed again \(loop.removeSignalHandler(SIGUSR1))")
            var current = sigaction()
            sigaction(SIGUSR1, nil, &current)
            events.append(
                "default restored \(unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 0)"
            )
            return events
        }
        #expect(
            events == [
                "SIGUSR1 on the loop", "SIGUSR1 on the loop", "removed true", "removed again false",
                "default restored true",
            ]
        )
    }

    /// SIGKILL and SIGSTOP cannot be caught; 0, 32 and 33 (glibc's own), and numbers past the
    /// real-time range, are not valid signals (Python's `signal.valid_signals()`). A refused first
    /// handler leaves nothing behind: the next valid one works.
    @Test(arguments: [SIGKILL, SIGSTOP, 0, 32, 33, 65, -1])
    func signalsThatCannotBeHandledAreRefused(_ signal: Int32) async throws {
        let outcome = try await EventLoopThread.run { loop in
            do {
                try loop.addSignalHandler(signal) {}
                return "added"
            } catch is TransportError {
                try loop.addSignalHandler(SIGUSR2) {}
                return "refused; SIGUSR2 removed \(loop.removeSignalHandler(SIGUSR2))"
            }
        }
        #expect(outcome == "refused; SIGUSR2 removed true")
    }
}

@Suite struct ManyClientsTests {
    /// 2 000 blocking clients at once, each echoing a distinct message; raises the soft fd limit
    /// to the hard one (client and server share this process's descriptors).
    @Test func twoThousandConcurrentClientsAreEchoed() async throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        try #require(limit.rlim_cur >= 4_200, "needs 4 200 descriptors, the hard limit is \(limit.rlim_max)")
        let count = try await EventLoopThread.run { loop in
            let server = try await loop.createServer({ EchoProtocol() }, host: "127.0.0.1", port: 0, backlog: 2048)
            defer { server.close() }
            let address = try server.sockets[0].localAddress()
            let clients = 2000
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                // Swift tasks off the loop: each client is a blocking socket driven by its threads.
                for index in 0..<clients {
                    group.addTask {
                        let peer = try await BlockingPeer.connect(to: address, timeoutSeconds: 30)
                        let message = Array("client \(index)".utf8)
                        try await peer.send(message)
                        return try await peer.receive(exactly: message.count) == message
                    }
                }
                var ok = 0
                for try await echoed in group where echoed { ok += 1 }
                return ok
            }
            return results
        }
        #expect(count == 2000)
    }
}

import AsyncIO
import AsyncIOTesting
import Glibc
import Testing

/// An echo protocol that also shows the isolated-callback design: inside `dataReceived` it creates a
/// task and schedules a timer on the loop, capturing `self` and the transport, with no
/// `assumeIsolated` and no unsafe code.
final class EchoProtocol: ConnectionProtocol {
    var transport: (any Transport)?
    var tasksRun = 0

    func connectionMade(_ transport: any Transport, loop: isolated EventLoop) {
        self.transport = transport
    }

    func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {
        let copy = Array(data)
        if copy == Array("via a task".utf8) {
            loop.createTask {
                self.tasksRun += 1
                try self.transport?.write(copy)
            }
            return
        }
        if copy == Array("via a timer".utf8) {
            loop.callLater(.milliseconds(1)) { try? self.transport?.write(copy) }
            return
        }
        try? transport?.write(data)
    }

    func pauseWriting(loop: isolated EventLoop) { transport?.pauseReading() }
    func resumeWriting(loop: isolated EventLoop) { transport?.resumeReading() }
}

/// Reads into a buffer it owns (asyncio's BufferedProtocol).
final class BufferedCollector: BufferedConnectionProtocol {
    var storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 7, alignment: 1)
    var collected: [UInt8] = []
    var events: [String] = []

    deinit { storage.deallocate() }

    func connectionMade(_ transport: any Transport, loop: isolated EventLoop) { events.append("CM") }

    func getBuffer(sizeHint: Int, loop: isolated EventLoop) -> UnsafeMutableRawBufferPointer {
        events.append("GB")
        return storage
    }

    func bufferUpdated(_ count: Int, loop: isolated EventLoop) {
        events.append("BU \(count)")
        collected.append(contentsOf: storage.prefix(count))
    }

    func eofReceived(loop: isolated EventLoop) -> Bool {
        events.append("ER")
        return false
    }

    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) { events.append("CL") }
}

@Suite struct ServerTests {
    @Test func protocolCallbacksCanCreateTasksAndTimersCapturingSelf() async throws {
        let replies = try await EventLoopThread.run { loop in
            let server = try await loop.createServer({ EchoProtocol() }, host: "127.0.0.1", port: 0)
            defer { server.close() }
            let peer = try await BlockingPeer.connect(to: try server.sockets[0].localAddress())
            var replies: [String] = []
            for message in ["plain", "via a task", "via a timer"] {
                try await peer.send(Array(message.utf8))
                replies.append(String(decoding: try await peer.receive(exactly: message.utf8.count), as: UTF8.self))
            }
            return replies
        }
        #expect(replies == ["plain", "via a task", "via a timer"])
    }

    @Test func aNilHostListensOnEveryInterfaceOneSocketPerAddress() async throws {
        let answers = try await EventLoopThread.run { loop in
            let server = try await loop.createServer({ EchoProtocol() }, port: 0)
            defer { server.close() }
            let addresses = try server.sockets.map { try $0.localAddress() }
            var answers: [String] = []
            for address in addresses.sorted(by: { $0.family < $1.family }) {
                let loopback: SocketAddress =
                    address.family == AF_INET
                    ? .ipv4(host: "127.0.0.1", port: address.port!) : .ipv6(host: "::1", port: address.port!)
                let peer = try await BlockingPeer.connect(to: loopback)
                try await peer.send(Array("hi".utf8))
                answers.append(
                    "\(address.family == AF_INET ? "v4" : "v6") \(String(decoding: try await peer.receive(exactly: 2), as: UTF8.self))"
                )
            }
            return answers
        }
        #expect(answers == ["v4 hi", "v6 hi"])
    }

    /// asyncio treats `host=''` as None: every interface, not a name to resolve.
    @Test func anEmptyHostListensOnEveryInterfaceAsANilHostDoes() async throws {
        let hosts = try await EventLoopThread.run { loop in
            let server = try await loop.createServer({ EchoProtocol() }, host: "", port: 0)
            defer { server.close() }
            return try server.sockets.map { try $0.localAddress().host }.sorted()
        }
        #expect(hosts == ["0.0.0.0", "::"])
    }

    @Test func waitClosedWaitsForConnectionsAndCloseClientsEndsThem() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let server = try await loop.createServer({ EchoProtocol() }, host: "127.0.0.1", port: 0)
            let peer = try await BlockingPeer.connect(to: try server.sockets[0].localAddress())
            try await peer.send(Array("x".utf8))
            _ = try await peer.receive(exactly: 1)
            events.append("serving \(server.isServing)")
            server.close()
            events.append("closed, serving \(server.isServing), sockets \(server.sockets.count)")
            let waiter = loop.createTask {
                try await server.waitClosed()
                events.append("waitClosed returned")
            }
            try await settle()
            events.append("still connected")
            server.closeClients()
            try await waiter.value
            let rest = try await peer.receiveToEOF()
            events.append("peer got EOF after \(rest.count) bytes")
            return events
        }
        #expect(
            events == [
                "serving true", "closed, serving false, sockets 0", "still connected", "waitClosed returned",
                "peer got EOF after 0 bytes",
            ]
        )
    }

    @Test func serveForeverEndsWithCancelledErrorWhenItsTaskIsCancelled() async throws {
        let outcome = try await EventLoopThread.run { loop in
            let server = try await loop.createServer(
                { EchoProtocol() },
                host: "127.0.0.1",
                port: 0,
                startServing: false
            )
            #expect(!server.isServing)
            let serving = loop.createTask { try await server.serveForever() }
            try await settle()
            let wasServing = server.isServing
            serving.cancel()
            do {
                try await serving.value
                return "returned"
            } catch is CancelledError {
                return "cancelled, was serving \(wasServing), now \(server.isServing)"
            }
        }
        #expect(outcome == "cancelled, was serving true, now false")
    }

    @Test func aBufferedProtocolReadsIntoItsOwnBuffer() async throws {
        let result = try await EventLoopThread.run { loop in
            let proto = BufferedCollector()
            let server = try await loop.createServer({ proto }, host: "127.0.0.1", port: 0)
            defer { server.close() }
            let peer = try await BlockingPeer.connect(to: try server.sockets[0].localAddress())
            try await peer.send(Array("0123456789".utf8))
            try await waitUntil { proto.collected.count == 10 }
            try await peer.shutdownWrite()
            try await waitUntil { proto.events.last == "CL" }
            return (String(decoding: proto.collected, as: UTF8.self), proto.events)
        }
        #expect(result.0 == "0123456789")
        #expect(result.1 == ["CM", "GB", "BU 7", "GB", "BU 3", "GB", "ER", "CL"])
    }

    @Test func aUnixServerRemovesItsSocketFileWhenClosed() async throws {
        let path = temporarySocketPath()
        let existedWhileServing = try await EventLoopThread.run { loop in
            let server = try await loop.createUnixServer({ EchoProtocol() }, path: path)
            let peer = try await BlockingPeer.connect(to: .unix(path: path))
            try await peer.send(Array("unix".utf8))
            let reply = try await peer.receive(exactly: 4)
            let existed = access(path, F_OK) == 0
            server.close()
            return existed && reply == Array("unix".utf8)
        }
        #expect(existedWhileServing)
        #expect(access(path, F_OK) != 0)
    }

    @Test func happyEyeballsConnectsPastAnAddressThatRefuses() async throws {
        // "localhost" resolves to 127.0.0.1 only here, so race a refusing IPv6 listener-less
        // address against the IPv4 one through a host that resolves to both families: use the
        // numeric IPv4 host and a second attempt via createConnection with interleaving.
        let reply = try await EventLoopThread.run { loop in
            let server = try await loop.createServer({ EchoProtocol() }, host: "127.0.0.1", port: 0)
            defer { server.close() }
            let port = try server.sockets[0].localAddress().port!
            let (transport, proto) = try await loop.createConnection(
                { RecordingProtocol(loop: loop) },
                host: "127.0.0.1",
                port: port,
                happyEyeballsDelay: .milliseconds(250)
            )
            try transport.write("eyeballs")
            try await waitUntil { proto.received.count == 8 }
            transport.close()
            try await proto.waitLost(loop: loop)
            return String(decoding: proto.received, as: UTF8.self)
        }
        #expect(reply == "eyeballs")
    }

    @Test func createConnectionToAClosedPortThrowsConnectionRefused() async throws {
        let errno = try await EventLoopThread.run { loop -> Int32 in
            let probe = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            try probe.bind(to: .ipv4(host: "127.0.0.1", port: 0))
            let port = try probe.localAddress().port!
            probe.close()
            do {
                _ = try await loop.createConnection({ EchoProtocol() }, host: "127.0.0.1", port: port)
                return 0
            } catch let error as SystemError {
                return error.errno
            }
        }
        #expect(errno == ECONNREFUSED)
    }
}

import AsyncIO
import AsyncIOTesting
import Glibc
import Testing

/// `sockAccept`, `sockConnect`, `sockRecv`, `sockRecvInto`, `sockSendAll`, `sockRecvFrom`,
/// `sockSendTo`, readers and writers, name resolution — each against a blocking peer.
@Suite struct SocketCoroutineTests {
    @Test func sockAcceptSockRecvAndSockSendAllEchoABlockingPeer() async throws {
        let echoed = try await EventLoopThread.run { loop in
            let (client, connected, peerAddress) = try await acceptBlockingPeer(on: loop)
            #expect(peerAddress.host == "127.0.0.1")
            try await connected.send(Array("hello, sockets".utf8))
            var received: [UInt8] = []
            while received.count < 14 {
                received += try await loop.sockRecv(client, maxBytes: 1024)
            }
            // A payload bigger than the socket buffers: sockSendAll must wait for the peer to drain.
            let big = [UInt8](repeating: 0x5A, count: 8 * 1024 * 1024)
            async let drained = connected.receive(exactly: big.count)
            try await loop.sockSendAll(client, big)
            let got = try await drained
            #expect(got.count == big.count)
            try await connected.shutdownWrite()
            let eof = try await loop.sockRecv(client, maxBytes: 10)
            #expect(eof.isEmpty)
            return String(decoding: received, as: UTF8.self)
        }
        #expect(echoed == "hello, sockets")
    }

    /// `sockRecv` receives through the loop's 64 KiB shared buffer up to that size and through a
    /// buffer of its own above it: every byte arrives, in order, whatever the size asked for.
    @Test(arguments: [1, 4_096, 65_536, 100_000])
    func sockRecvOfAnySizeReceivesEveryByteInOrder(maxBytes: Int) async throws {
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let received = try await EventLoopThread.run { loop in
            let (client, connected, _) = try await acceptBlockingPeer(on: loop)
            async let sent: Void = {
                try await connected.send(payload)
                try await connected.shutdownWrite()
            }()
            var received: [UInt8] = []
            while true {
                let chunk = try await loop.sockRecv(client, maxBytes: maxBytes)
                #expect(chunk.count <= maxBytes)
                if chunk.isEmpty { break }
                received += chunk
            }
            try await sent
            #expect(try await loop.sockRecv(client, maxBytes: 0).isEmpty)
            return received
        }
        #expect(received == payload)
    }

    @Test func sockConnectAndSockRecvIntoTalkToABlockingListener() async throws {
        let result = try await EventLoopThread.run { loop in
            let listener = try BlockingListener()
            async let accepted = listener.accept()
            let socket = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            try await loop.sockConnect(socket, to: listener.address)
            let peer = try await accepted
            try await peer.send(Array("abc".utf8))
            var buffer = [UInt8](repeating: 0, count: 16)
            let count = try await loop.sockRecvInto(socket, &buffer)
            return Array(buffer.prefix(count))
        }
        #expect(result == Array("abc".utf8))
    }

    @Test func sockConnectToAClosedPortThrowsConnectionRefused() async throws {
        let errno = try await EventLoopThread.run { loop -> Int32 in
            let probe = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            try probe.bind(to: .ipv4(host: "127.0.0.1", port: 0))
            let unused = try probe.localAddress()
            probe.close()
            let socket = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            do {
                try await loop.sockConnect(socket, to: unused)
                return 0
            } catch let error as SystemError {
                return error.errno
            }
        }
        #expect(errno == ECONNREFUSED)
    }

    @Test func sockSendToAndSockRecvFromExchangeDatagrams() async throws {
        let result = try await EventLoopThread.run { loop in
            let a = try Socket(family: AF_INET, type: Int32(SOCK_DGRAM.rawValue))
            let b = try Socket(family: AF_INET, type: Int32(SOCK_DGRAM.rawValue))
            try a.bind(to: .ipv4(host: "127.0.0.1", port: 0))
            try b.bind(to: .ipv4(host: "127.0.0.1", port: 0))
            try await loop.sockSendTo(a, Array("datagram".utf8), to: try b.localAddress())
            let (bytes, from) = try await loop.sockRecvFrom(b, maxBytes: 100)
            return (String(decoding: bytes, as: UTF8.self), from == (try a.localAddress()))
        }
        #expect(result.0 == "datagram")
        #expect(result.1)
    }

    /// The per-message coroutines run on their caller's executor; called off the loop's thread
    /// (here, from the test's own task while the loop runs on its thread) they hop to the loop,
    /// and wait there for readiness.
    @Test func socketCoroutinesCalledOffTheLoopsThreadHopToTheLoop() async throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let loop = thread.loop
        let a = try Socket(family: AF_INET, type: Int32(SOCK_DGRAM.rawValue))
        let b = try Socket(family: AF_INET, type: Int32(SOCK_DGRAM.rawValue))
        try a.bind(to: .ipv4(host: "127.0.0.1", port: 0))
        try b.bind(to: .ipv4(host: "127.0.0.1", port: 0))
        let bAddress = try b.localAddress()
        async let datagram = loop.sockRecvFrom(b, maxBytes: 100)
        try await Task.sleep(for: .milliseconds(20))  // the receive above waits by now
        #expect(try await loop.sockSendTo(a, Array("off".utf8), to: bAddress) == 3)
        #expect(try await datagram.0 == Array("off".utf8))

        let listener = try BlockingListener()
        async let accepted = listener.accept()
        let client = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
        try await loop.sockConnect(client, to: listener.address)
        let peer = try await accepted
        try await loop.sockSendAll(client, "ping")
        #expect(try await peer.receive(exactly: 4) == Array("ping".utf8))
        async let sent: Void = peer.send(Array("pong!".utf8))
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(try await loop.sockRecvInto(client, &buffer) == 4)
        #expect(buffer == Array("pong".utf8))
        try await sent
        #expect(try await loop.sockRecv(client, maxBytes: 100) == Array("!".utf8))
    }

    @Test func addReaderCallsBackWhileReadableAndRemoveReaderStopsIt() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // not inherited by other tests' children
            defer {
                close(fds[0])
                close(fds[1])
            }
            try loop.addReader(fds[0]) {
                var byte: UInt8 = 0
                _ = read(fds[0], &byte, 1)
                events.append("read \(byte)")
            }
            var one: UInt8 = 1
            _ = write(fds[1], &one, 1)
            try await waitUntil { events.count == 1 }
            events.append("removed \(loop.removeReader(fds[0]))")
            _ = write(fds[1], &one, 1)
            try await sleep(.milliseconds(20))
            events.append("removed again \(loop.removeReader(fds[0]))")
            try loop.addWriter(fds[1]) {
                events.append("writable")
                loop.removeWriter(fds[1])
            }
            try await waitUntil { events.count == 4 }
            return events
        }
        #expect(events == ["read 1", "removed true", "removed again false", "writable"])
    }

    @Test func getAddrInfoResolvesNumericHostsAndLocalhost() async throws {
        let results = try await EventLoopThread.run { loop in
            let numeric = try await loop.getAddrInfo("::1", port: 80, type: Int32(SOCK_STREAM.rawValue))
            let named = try await loop.getAddrInfo(
                "localhost",
                port: 80,
                family: AF_INET,
                type: Int32(SOCK_STREAM.rawValue)
            )
            var failure: AddressResolutionError?
            do {
                _ = try await loop.getAddrInfo("no-such-host.invalid", port: 80)
            } catch let error as AddressResolutionError {
                failure = error
            }
            let (host, service) = try await loop.getNameInfo(
                .ipv4(host: "127.0.0.1", port: 80),
                flags: NI_NUMERICHOST | NI_NUMERICSERV
            )
            return (numeric.map(\.address), named.map(\.address), failure != nil, host, service)
        }
        #expect(results.0 == [.ipv6(host: "::1", port: 80)])
        #expect(results.1 == [.ipv4(host: "127.0.0.1", port: 80)])
        #expect(results.2)
        #expect(results.3 == "127.0.0.1" && results.4 == "80")
    }
}

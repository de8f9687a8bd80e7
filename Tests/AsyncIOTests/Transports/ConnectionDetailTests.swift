import AsyncIOTesting
import Glibc
import Testing

@testable import AsyncIO

@Suite struct ConnectionDetailTests {
    @Test func createConnectionBindsToTheLocalAddressFirst() async throws {
        let seen = try await EventLoopThread.run { loop in
            let probe = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            try probe.bind(to: .ipv4(host: "127.0.0.1", port: 0))
            let localPort = try probe.localAddress().port!
            probe.close()
            let listener = try BlockingListener()
            async let accepted = listener.accept()
            let (transport, _) = try await loop.createConnection(
                { RecordingProtocol(loop: loop) },
                host: "127.0.0.1",
                port: listener.address.port!,
                localAddress: ("127.0.0.1", localPort)
            )
            _ = try await accepted
            let socketName = transport.extraInfo.socketName
            let peerName = transport.extraInfo.peerName
            transport.close()
            return (socketName == .ipv4(host: "127.0.0.1", port: localPort), peerName == listener.address)
        }
        #expect(seen.0 && seen.1)
    }

    /// asyncio closes the socket after `connection_lost` returns, so the protocol can still say
    /// whom it was talking to; here too, even if nobody asked before.
    @Test func connectionLostCanStillReadThePeerAndSocketNames() async throws {
        let seen = try await EventLoopThread.run { loop in
            let listener = try BlockingListener()
            async let accepted = listener.accept()
            let (transport, proto) = try await loop.createConnection(
                { RecordingProtocol(loop: loop) },
                host: "127.0.0.1",
                port: listener.address.port!
            )
            _ = try await accepted
            var names: [String] = []
            proto.onEvent = { event, proto in
                guard event == "CL nil", let info = proto.transport?.extraInfo else { return }
                names = [info.peerName == listener.address ? "peer" : "no peer", info.socketName?.host ?? "no name"]
            }
            transport.close()
            try await proto.waitLost(loop: loop)
            return names
        }
        #expect(seen == ["peer", "127.0.0.1"])
    }

    /// asyncio's `create_connection(sock=)` raises ValueError for anything but a stream socket.
    @Test func createConnectionRefusesASocketThatIsNotAStreamSocket() async throws {
        let refusals = try await EventLoopThread.run { loop in
            var refusals: [String] = []
            let datagram = try Socket(family: AF_INET, type: Int32(SOCK_DGRAM.rawValue))
            do {
                _ = try await loop.createConnection({ RecordingProtocol(loop: loop) }, socket: datagram)
            } catch TransportError.invalidValue {
                refusals.append("tcp")
            }
            let inet = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            do {
                _ = try await loop.createUnixConnection({ RecordingProtocol(loop: loop) }, socket: inet)
            } catch TransportError.invalidValue {
                refusals.append("unix")
            }
            return refusals
        }
        #expect(refusals == ["tcp", "unix"])
    }

    @Test func connectAcceptedSocketWrapsASocketFromSockAccept() async throws {
        let reply = try await EventLoopThread.run { loop in
            let (client, connected, _) = try await acceptBlockingPeer(on: loop)
            _ = try await loop.connectAcceptedSocket({ EchoProtocol() }, socket: client)
            try await connected.send(Array("adopted".utf8))
            return String(decoding: try await connected.receive(exactly: 7), as: UTF8.self)
        }
        #expect(reply == "adopted")
    }

    @Test func cancellingATaskBlockedInSockRecvRemovesItsReader() async throws {
        let outcome = try await EventLoopThread.run { loop in
            let listener = try BlockingListener()
            async let accepted = listener.accept()
            let socket = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            try await loop.sockConnect(socket, to: listener.address)
            let peer = try await accepted
            let blocked = loop.createTask { try await loop.sockRecv(socket, maxBytes: 10) }
            try await settle()
            blocked.cancel()
            var cancelled = false
            do { _ = try await blocked.value } catch is CancelledError { cancelled = true }
            let stillWatched = loop.removeReader(socket.fileDescriptor)
            try await peer.send(Array("next".utf8))
            let next = try await loop.sockRecv(socket, maxBytes: 10)
            return (cancelled, stillWatched, String(decoding: next, as: UTF8.self))
        }
        #expect(outcome.0)
        #expect(!outcome.1)
        #expect(outcome.2 == "next")
    }

    /// asyncio's `create_server` skips an address that cannot be bound with EADDRNOTAVAIL (`::` in a
    /// container without IPv6, bpo-30945) and listens on the others; it fails only if none is left.
    @Test func serverBindingSkipsAnAddressThatIsNotAvailableHere() throws {
        func info(_ address: SocketAddress) -> AddressInfo {
            AddressInfo(
                family: address.family,
                type: Int32(SOCK_STREAM.rawValue),
                protocol: 0,
                canonicalName: "",
                address: address
            )
        }
        let absent = info(.ipv4(host: "192.0.2.1", port: 0))  // TEST-NET-1: on no interface here
        let loopback = info(.ipv4(host: "127.0.0.1", port: 0))
        let bound = try EventLoop.bindListeningSockets([absent, loopback], reuseAddress: true, reusePort: false)
        #expect(try bound.map { try $0.localAddress().host } == ["127.0.0.1"])
        #expect(throws: SystemError.self) {
            try EventLoop.bindListeningSockets([absent], reuseAddress: true, reusePort: false)
        }
    }

    @Test func happyEyeballsInterleavesAddressFamilies() {
        func info(_ host: String) -> AddressInfo {
            let address: SocketAddress = host.contains(":") ? .ipv6(host: host, port: 1) : .ipv4(host: host, port: 1)
            return AddressInfo(family: address.family, type: 1, protocol: 6, canonicalName: "", address: address)
        }
        let infos = ["::1", "::2", "::3", "10.0.0.1", "10.0.0.2"].map(info)
        let once = EventLoop.interleaveByFamily(infos, firstFamilyCount: 1).map(\.address.host)
        let twice = EventLoop.interleaveByFamily(infos, firstFamilyCount: 2).map(\.address.host)
        #expect(once == ["::1", "10.0.0.1", "::2", "10.0.0.2", "::3"])
        #expect(twice == ["::1", "::2", "10.0.0.1", "::3", "10.0.0.2"])
    }

    /// Happy Eyeballs over two addresses: one that refuses or never answers, one that listens.
    /// The staggered race must end connected to the listening one, and so must the sequential path.
    @Test func staggeredAndSequentialConnectsGetPastAFailingAddress() async throws {
        let peers = try await EventLoopThread.run { loop in
            let listener = try BlockingListener()
            let probe = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            try probe.bind(to: .ipv4(host: "127.0.0.1", port: 0))
            let refusing = try probe.localAddress()
            probe.close()
            func info(_ address: SocketAddress) -> AddressInfo {
                AddressInfo(
                    family: AF_INET,
                    type: Int32(SOCK_STREAM.rawValue),
                    protocol: 0,
                    canonicalName: "",
                    address: address
                )
            }
            // A listener whose accept queue is full: Linux drops further SYNs, so a connect to it
            // hangs (retransmitting) — the slow first address Happy Eyeballs is for.
            let full = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            try full.bind(to: .ipv4(host: "127.0.0.1", port: 0))
            try full.listen(backlog: 0)
            let fullAddress = try full.localAddress()
            var fillers: [BlockingPeer] = []
            fillers.append(try await BlockingPeer.connect(to: fullAddress, timeoutSeconds: 2))
            let blackhole = info(fullAddress)
            var peers: [String] = []
            async let first = listener.accept()
            let staggered = try await loop.staggeredConnect(
                [blackhole, info(listener.address)],
                locals: [],
                delay: .milliseconds(50)
            )
            _ = try await first
            peers.append("staggered \(try staggered.peerAddress() == listener.address)")
            async let second = listener.accept()
            let sequential = try await loop.sequentialConnect([info(refusing), info(listener.address)], locals: [])
            _ = try await second
            peers.append("sequential \(try sequential.peerAddress() == listener.address)")
            withExtendedLifetime((full, fillers)) {}
            return peers
        }
        #expect(peers == ["staggered true", "sequential true"])
    }

    @Test func writeLinesSendsEveryChunkInOrderAndWriteAcceptsEveryByteSource() async throws {
        let received = try await EventLoopThread.run { loop in
            let listener = try BlockingListener()
            async let accepted = listener.accept()
            let (transport, _) = try await loop.createConnection(
                { RecordingProtocol(loop: loop) },
                host: "127.0.0.1",
                port: listener.address.port!
            )
            let peer = try await accepted
            try transport.writeLines([Array("one ".utf8), Array("two ".utf8), [], Array("three ".utf8)])
            try transport.write("string ")
            try transport.write(Array("array ".utf8)[...])
            try transport.write(Array("span ".utf8).span)
            try transport.write("collection".utf8.reversed().reversed())
            transport.close()
            return String(decoding: try await peer.receiveToEOF(), as: UTF8.self)
        }
        #expect(received == "one two three string array span collection")
    }
}

import AsyncIO
import AsyncIOTesting
import Foundation
import Glibc
import Testing

/// A group of four loops: servers on every loop with SO_REUSEPORT, connections spread by the
/// kernel, calls between loops, and a shutdown that leaves nothing running.
@Suite struct EventLoopGroupTests {
    /// Echoes and records which loop serves it.
    final class Echo: ConnectionProtocol {
        var transport: (any Transport)?
        func connectionMade(_ transport: any Transport, loop: isolated EventLoop) { self.transport = transport }
        func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) { try? transport?.write(data) }
    }

    @Test func connectionsSpreadOverFourLoopsOnOnePort() async throws {
        let group = try EventLoopGroup(loopCount: 4)
        defer { group.shutdown() }
        let served = EventLog<ObjectIdentifier>()
        let server = try await group.createServer(
            { loop in
                served.append(ObjectIdentifier(loop))
                return Echo()
            },
            host: "127.0.0.1",
            port: 0
        )
        #expect(server.count == 4)
        #expect(server.port > 0)
        var peers: [BlockingPeer] = []
        for index in 0..<64 {
            let peer = try await BlockingPeer.connect(to: .ipv4(host: "127.0.0.1", port: server.port))
            try await peer.send(Array("ping \(index)\n".utf8))
            #expect(try await peer.receive(exactly: "ping \(index)\n".utf8.count) == Array("ping \(index)\n".utf8))
            peers.append(peer)
        }
        let loops = Set(group.loops.map(ObjectIdentifier.init))
        let counts = Dictionary(grouping: served.events, by: { $0 }).mapValues(\.count)
        #expect(served.events.count == 64)
        #expect(Set(counts.keys) == loops)  // every loop took some: 64 connections over 4 loops
        await server.abortClients()
        await server.close()
        for peer in peers { _ = try? await peer.receiveToEOF() }
    }

    @Test func loopsCallEachOtherThroughTheirThreadSafeEntryPoints() async throws {
        let group = try EventLoopGroup(loopCount: 4)
        defer { group.shutdown() }
        let other = group.loops[1]
        let (here, there, roundTrip) = try await group.threads[0].run { loop in
            let here = pthread_self()
            let there = try await other.runCoroutineThreadSafe { _ in pthread_self() }.value
            // callSoonThreadSafe onto loop 1, which answers back onto loop 0 the same way.
            let answer = loop.createFuture(of: [pthread_t].self)
            let resolver = answer.resolver
            try other.callSoonThreadSafe {
                let onOther = pthread_self()
                _ = try? loop.callSoonThreadSafe { resolver.resolve(.success([onOther, pthread_self()])) }
            }
            return (here, there, try await answer.value)
        }
        #expect(pthread_equal(here, there) == 0)
        #expect(pthread_equal(roundTrip[0], there) != 0)
        #expect(pthread_equal(roundTrip[1], here) != 0)
        let indexes = try await group.runOnEveryLoop { _, index in index }
        #expect(indexes == [0, 1, 2, 3])
        let picks = (0..<8).map { _ in ObjectIdentifier(group.next()) }
        #expect(picks == (group.loops + group.loops).map(ObjectIdentifier.init))
    }

    @Test func shutdownStopsEveryLoopAndDropsTheirConnections() async throws {
        let group = try EventLoopGroup(loopCount: 4)
        let server = try await group.startServer(host: "127.0.0.1", port: 0) { reader, writer in
            while true {
                let line = try await reader.readLine()
                if line.isEmpty { break }
                try writer.write(line)
                try await writer.drain()
            }
        }
        var peers: [BlockingPeer] = []
        for _ in 0..<12 {
            let peer = try await BlockingPeer.connect(to: .ipv4(host: "127.0.0.1", port: server.port))
            try await peer.send(Array("hi\n".utf8))
            #expect(try await peer.receive(exactly: 3) == Array("hi\n".utf8))
            peers.append(peer)
        }
        let loops = group.loops
        group.shutdown()
        #expect(loops.allSatisfy { $0.isClosed })
        for peer in peers {
            // The connection is gone: EOF, or a reset (both end the peer's read at once).
            let rest = try? await peer.receiveToEOF()
            #expect(rest == nil || rest == [])
        }
        // Nothing listens on the port any more.
        await #expect(throws: SystemError.self) {
            _ = try await BlockingPeer.connect(to: .ipv4(host: "127.0.0.1", port: server.port))
        }
    }
}

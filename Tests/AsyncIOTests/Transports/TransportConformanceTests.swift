import AsyncIO
import AsyncIOTesting
import Foundation
import Glibc
import Testing

/// The conformance suite (AsyncIOTesting) run against real sockets — the server side of TCP over
/// IPv4 and IPv6 and of a Unix socket, the client side of TCP and Unix — and the in-memory pair.
@Suite struct TransportConformanceTests {
    enum Kind: String, CaseIterable, Sendable {
        case tcp4Server, tcp6Server, unixServer, tcp4Client, unixClient, memory
    }

    static func connect(_ kind: Kind) -> TransportConformance.Connect {
        { loop, proto in
            switch kind {
            case .tcp4Server, .tcp6Server:
                let host = kind == .tcp4Server ? "127.0.0.1" : "::1"
                let server = try await loop.createServer({ proto }, host: host, port: 0)
                defer { server.close() }
                let peer = try await BlockingPeer.connect(to: try server.sockets[0].localAddress())
                try await waitUntil { proto.transport != nil }
                return peer
            case .unixServer:
                let path = temporarySocketPath()
                let server = try await loop.createUnixServer({ proto }, path: path)
                defer { server.close() }
                let peer = try await BlockingPeer.connect(to: .unix(path: path))
                try await waitUntil { proto.transport != nil }
                return peer
            case .tcp4Client:
                let listener = try BlockingListener()
                async let accepted = listener.accept()
                _ = try await loop.createConnection({ proto }, host: "127.0.0.1", port: listener.address.port!)
                return try await accepted
            case .memory:
                let (_, peer) = try MemoryPeer.connect(loop: loop, proto)
                return peer
            case .unixClient:
                let path = temporarySocketPath()
                let listener = try BlockingListener(unixPath: path)
                defer { unlink(path) }
                async let accepted = listener.accept()
                _ = try await loop.createUnixConnection({ proto }, path: path)
                return try await accepted
            }
        }
    }

    @Test(arguments: Kind.allCases)
    func callbackOrderIsConnectionMadeDataEOFThenConnectionLost(kind: Kind) async throws {
        try await EventLoopThread.run { loop in
            try await TransportConformance.callbackOrder(loop: loop, connect: Self.connect(kind))
        }
    }

    @Test(arguments: Kind.allCases)
    func eofReceivedReturningTrueKeepsTheWriteSideOpen(kind: Kind) async throws {
        try await EventLoopThread.run { loop in
            try await TransportConformance.halfClose(loop: loop, connect: Self.connect(kind))
        }
    }

    @Test(arguments: Kind.allCases)
    func eofReceivedReturningFalseClosesTheTransport(kind: Kind) async throws {
        try await EventLoopThread.run { loop in
            try await TransportConformance.eofClosesWhenProtocolSaysSo(loop: loop, connect: Self.connect(kind))
        }
    }

    @Test(arguments: Kind.allCases)
    func aPeerThatDoesNotReadPausesWritingUntilItDrains(kind: Kind) async throws {
        try await EventLoopThread.run { loop in
            try await TransportConformance.flowControl(loop: loop, connect: Self.connect(kind))
        }
    }

    @Test(arguments: Kind.allCases)
    func abortDropsDataAndCallsConnectionLostOnce(kind: Kind) async throws {
        try await EventLoopThread.run { loop in
            try await TransportConformance.abortDropsDataAndCallsConnectionLostOnce(
                loop: loop,
                connect: Self.connect(kind)
            )
        }
    }

    @Test(arguments: Kind.allCases)
    func closeFlushesPendingDataBeforeConnectionLost(kind: Kind) async throws {
        try await EventLoopThread.run { loop in
            try await TransportConformance.closeFlushesPendingData(loop: loop, connect: Self.connect(kind))
        }
    }

    @Test(arguments: Kind.allCases)
    func writeAfterWriteEOFThrows(kind: Kind) async throws {
        try await EventLoopThread.run { loop in
            try await TransportConformance.writeAfterWriteEOFThrows(loop: loop, connect: Self.connect(kind))
        }
    }

    @Test(arguments: Kind.allCases)
    func aResetMidWriteCallsConnectionLostWithAnErrorExactlyOnce(kind: Kind) async throws {
        try await EventLoopThread.run { loop in
            try await TransportConformance.resetMidWrite(loop: loop, connect: Self.connect(kind))
        }
    }
    @Test(arguments: Kind.allCases)
    func pauseReadingHoldsDataBackUntilResumeReading(kind: Kind) async throws {
        try await EventLoopThread.run { loop in
            try await TransportConformance.pauseReadingHoldsDataBack(loop: loop, connect: Self.connect(kind))
        }
    }
}

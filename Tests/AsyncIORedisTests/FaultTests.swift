import AsyncIO
import AsyncIORedis
import Testing

/// Malformed, cut, stalled, surplus and unsolicited replies from a fake server: each one fails the
/// commands concerned with a typed error and closes the connection; a fresh connection is correct.
@Suite(.serialized) struct FaultTests {
    /// Replies `reply` to the first command (then keeps the connection open, or closes it with
    /// `hangUp`); the next connection gets a correct reply.
    private static func thenHealthy(
        hangUp: Bool = false,
        _ reply: @escaping @Sendable (FakeServer.Peer) -> Void
    )
        -> [FakeServer.Behaviour]
    {
        [
            { peer in
                peer.readCommand()
                reply(peer)
                if !hangUp { peer.waitForClose(seconds: 5) }
            },
            { peer in
                peer.readCommand()
                peer.send("$7\r\nhealthy\r\n")
                peer.waitForClose(seconds: 5)
            },
        ]
    }

    private func configuration(_ server: FakeServer) -> Configuration {
        var configuration = Configuration(host: "127.0.0.1", port: server.port, protocolVersion: 2)
        configuration.commandTimeout = .seconds(5)
        return configuration
    }

    /// Runs GET on a first connection against `faulty`, expects `check` of its error, then checks a
    /// second connection is answered correctly.
    private func expectFailure(
        hangUp: Bool = false,
        _ reply: @escaping @Sendable (FakeServer.Peer) -> Void,
        _ check: @escaping @Sendable (any Error) -> Bool,
        limits: RESPLimits = RESPLimits()
    ) async throws {
        let server = try FakeServer(Self.thenHealthy(hangUp: hangUp, reply))
        defer { server.stop() }
        var configuration = configuration(server)
        configuration.limits = limits
        try await EventLoopThread.run { [configuration] loop in
            let redis = try await Connection.create(configuration)
            let behind = loop.createTask { try await redis.get("second") }
            do {
                let value = try await redis.get("first")
                Issue.record("got \(String(describing: value)) from a faulty reply")
            } catch {
                #expect(check(error), "unexpected error \(error)")
            }
            await #expect(throws: RedisError.self) { _ = try await behind.value }
            #expect(redis.isClosed)
            let fresh = try await Connection.create(configuration)
            defer { fresh.close() }
            #expect(try await fresh.get("again") == "healthy")
        }
    }

    private static func isProtocolError(_ error: any Error) -> Bool {
        if case .protocolError = error as? RedisError { return true }
        return false
    }

    private static func isClosed(_ error: any Error) -> Bool {
        if case .connectionClosed = error as? RedisError { return true }
        return false
    }

    static let malformed: [String] = [
        "?what\r\n",  // unknown type byte
        ":12a\r\n",  // not an integer
        ":99999999999999999999\r\n",  // integer overflow
        "$-5\r\n",  // negative length
        "*-2\r\n",
        "$3\r\nabcd\r\n",  // no CRLF after the payload
        "+bare\rcr\r\n",  // bare CR in a line
        "+bare\nlf\r\n",
        "#x\r\n",  // boolean
        ",1.2.3\r\n",  // double
        ",0x10\r\n",
        "(12a\r\n",  // big number
        "_x\r\n",  // null with a payload
        "=3\r\nabc\r\n",  // verbatim shorter than its format
        "$536870913\r\n",  // over the bulk limit: refused before a byte is buffered
        "*16777217\r\n",  // over the aggregate limit
        String(repeating: "*1\r\n", count: 1000),  // nesting deeper than 32
    ]

    @Test(arguments: malformed) func aMalformedReplyIsAProtocolError(reply: String) async throws {
        try await expectFailure({ $0.send(reply) }, Self.isProtocolError)
    }

    @Test func anEndlessLineIsCutAtTheLineLimit() async throws {
        try await expectFailure(
            { peer in peer.send("+" + String(repeating: "a", count: 200_000)) },
            Self.isProtocolError
        )
    }

    @Test func aReplyCutByTheServerClosingFailsTheCommand() async throws {
        try await expectFailure(hangUp: true, { $0.send("$10\r\nabc") }, Self.isClosed)
    }

    @Test func aResetMidReplyFailsTheCommand() async throws {
        try await expectFailure(
            hangUp: true,
            { peer in
                peer.send("*2\r\n$3\r\nabc\r\n")
                peer.reset()
            },
            Self.isClosed
        )
    }

    @Test func aStalledReplyTimesOutAndClosesTheConnection() async throws {
        let server = try FakeServer(Self.thenHealthy { peer in peer.waitForClose() })
        defer { server.stop() }
        var configuration = configuration(server)
        configuration.commandTimeout = .milliseconds(200)
        try await EventLoopThread.run { [configuration] loop in
            let redis = try await Connection.create(configuration)
            do {
                _ = try await redis.get("stalled")
                Issue.record("a stalled reply answered")
            } catch let error as RedisError {
                guard case .timeout = error else { throw error }
            }
            #expect(redis.isClosed)
            let fresh = try await Connection.create(configuration)
            defer { fresh.close() }
            #expect(try await fresh.get("again") == "healthy")
        }
    }

    @Test func aSurplusReplyClosesTheConnection() async throws {
        let server = try FakeServer(
            Self.thenHealthy { peer in peer.send("$2\r\nok\r\n$7\r\nsurplus\r\n") }
        )
        defer { server.stop() }
        try await EventLoopThread.run { [configuration = configuration(server)] loop in
            let redis = try await Connection.create(configuration)
            // The first reply is the command's; the second was never asked for.
            #expect(try await redis.get("first") == "ok")
            try await sleep(.milliseconds(100))
            #expect(redis.isClosed)
            do {
                _ = try await redis.get("next")
                Issue.record("a connection that got a surplus reply was used again")
            } catch let error as RedisError {
                guard case .protocolError = error else { throw error }
            }
            let fresh = try await Connection.create(configuration)
            defer { fresh.close() }
            #expect(try await fresh.get("again") == "healthy")
        }
    }

    @Test func unsolicitedDataOnAnIdleConnectionClosesIt() async throws {
        let server = try FakeServer([
            { peer in
                peer.send("+hello\r\n")
                peer.waitForClose(seconds: 5)
            }
        ])
        defer { server.stop() }
        try await EventLoopThread.run { [configuration = configuration(server)] loop in
            let redis = try await Connection.create(configuration)
            for _ in 0..<100 where !redis.isClosed { try await sleep(.milliseconds(10)) }
            #expect(redis.isClosed)
            await #expect(throws: RedisError.self) { try await redis.ping() }
        }
    }
}

/// Memory under a loop of faults: nothing a failed connection held outlives it, and a healthy
/// connection that ran as many commands holds no more than one command's worth of state.
@Suite(.serialized) struct FaultLoopMemoryTests {
    /// A weak reference, to see whether a connection was freed.
    final class Weak: @unchecked Sendable {
        // SAFETY: written once on the loop thread, read on the same thread.
        weak var connection: Connection?
        init(_ connection: Connection) { self.connection = connection }
    }

    @Test func failedConnectionsAreFreedAndAHealthyOneStaysFlat() async throws {
        let rounds = 60
        let faults: [@Sendable (FakeServer.Peer) -> Void] = [
            { peer in
                peer.send(FaultTests.malformed[0])
                peer.waitForClose(seconds: 5)
            },
            { peer in
                peer.send("$536870913\r\n")  // an enormous declared length
                peer.waitForClose(seconds: 5)
            },
            { $0.send("$10\r\nabc") },  // cut: the server closes when the behaviour returns
            { peer in
                peer.send("*2\r\n$3\r\nabc\r\n")
                peer.reset()
            },
            { peer in
                peer.send("$2\r\nok\r\n$7\r\nsurplus\r\n")
                peer.waitForClose(seconds: 5)
            },
        ]
        var behaviours: [FakeServer.Behaviour] = (0..<rounds).map { round in
            { peer in
                peer.readCommand()
                faults[round % faults.count](peer)
            }
        }
        // The last connection is healthy and answers as many commands as the rounds.
        behaviours.append { peer in
            for _ in 0..<rounds {
                peer.readCommand()
                peer.send("$7\r\nhealthy\r\n")
            }
            peer.waitForClose(seconds: 10)
        }
        let server = try FakeServer(behaviours)
        defer { server.stop() }
        var configuration = Configuration(host: "127.0.0.1", port: server.port, protocolVersion: 2)
        configuration.commandTimeout = .seconds(5)
        try await EventLoopThread.run { [configuration] loop in
            var freed: [Weak] = []
            for _ in 0..<rounds {
                let redis = try await Connection.create(configuration)
                freed.append(Weak(redis))
                do {
                    let value = try await redis.get("k")
                    // The surplus fault answers this command, then poisons the connection.
                    #expect(value == "ok")
                    for _ in 0..<500 where !redis.isClosed { try await sleep(.milliseconds(10)) }
                } catch {
                    #expect(error is RedisError, "unexpected error \(error)")
                }
                #expect(redis.isClosed)
                #expect(redis.statistics.pendingCount == 0)
                #expect(redis.statistics.queuedCount == 0)
            }
            // Each failed connection is released once its transport has reported the loss.
            for _ in 0..<1000 where freed.contains(where: { $0.connection != nil }) {
                try await sleep(.milliseconds(10))
            }
            #expect(freed.filter { $0.connection != nil }.count == 0)

            let healthy = try await Connection.create(configuration)
            defer { healthy.close() }
            for _ in 0..<rounds { #expect(try await healthy.get("k") == "healthy") }
            let statistics = healthy.statistics
            #expect(statistics.pendingCount == 0)
            #expect(statistics.queuedCount == 0)
            #expect(statistics.sparePlaceCount == 1)  // one command at a time: one place, reused
            #expect(statistics.bufferedByteCount == 0)
        }
    }
}

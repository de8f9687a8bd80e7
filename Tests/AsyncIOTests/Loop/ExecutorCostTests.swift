import AsyncIO
import AsyncIOTesting
import Testing

/// What a task switch costs the loop, counted by `EventLoop.statistics`: the jobs it queues and
/// the executor hops it makes. Measured as the difference between 200 and 100 rounds, so that
/// starting and ending the tasks cancel out.
@Suite struct ExecutorCostTests {
    struct Cost: Equatable, CustomStringConvertible {
        var jobs: Int
        var hops: Int
        var description: String { "jobs \(jobs) hops \(hops)" }
    }

    /// The cost of `rounds` rounds of `body`, run in a fresh loop.
    static func cost(
        rounds: Int,
        _ body: @escaping @Sendable (isolated EventLoop, Int) async throws -> Void
    ) async throws -> Cost {
        try await EventLoopThread.run { loop in
            let before = loop.statistics
            try await body(loop, rounds)
            let after = loop.statistics
            return Cost(jobs: after.jobs - before.jobs, hops: after.hops - before.hops)
        }
    }

    /// The cost of one round: the difference between 200 and 100 rounds, divided by 100.
    static func perRound(
        _ body: @escaping @Sendable (isolated EventLoop, Int) async throws -> Void
    ) async throws -> Cost {
        let many = try await cost(rounds: 200, body)
        let few = try await cost(rounds: 100, body)
        return Cost(jobs: (many.jobs - few.jobs) / 100, hops: (many.hops - few.hops) / 100)
    }

    /// Two tasks passing a turn through Futures: each round trip resumes each task once.
    @Test(arguments: [true, false]) func aRoundTripThroughFuturesCostsOneJobPerSwitchAndNoHop(
        isolated: Bool
    ) async throws {
        let cost = try await Self.perRound { loop, rounds in
            var ping = loop.createFuture(of: Void.self)
            var pong = loop.createFuture(of: Void.self)
            let other = loop.createTask {
                if isolated { _ = loop.time }
                for _ in 0..<rounds {
                    try await ping.value
                    ping = loop.createFuture(of: Void.self)
                    try pong.setResult(())
                }
            }
            for _ in 0..<rounds {
                try ping.setResult(())
                try await pong.value
                pong = loop.createFuture(of: Void.self)
            }
            try await other.value
        }
        #expect(cost == Cost(jobs: 2, hops: 0))
    }

    @Test func sleepZeroCostsOneJob() async throws {
        let cost = try await Self.perRound { _, rounds in
            for _ in 0..<rounds { try await sleep(.zero) }
        }
        #expect(cost == Cost(jobs: 1, hops: 0))
    }

    /// Swift's own yield leaves the loop actor and comes back: three trips through the queue,
    /// which is why the docs steer users to `sleep(.zero)`.
    @Test func swiftTaskYieldCostsThreeJobs() async throws {
        let cost = try await Self.perRound { _, rounds in
            for _ in 0..<rounds { await Task.yield() }
        }
        #expect(cost == Cost(jobs: 3, hops: 0))
    }
}

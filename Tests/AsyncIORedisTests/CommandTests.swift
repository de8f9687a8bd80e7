import AsyncIO
import AsyncIORedis
import Testing

/// Every command family, pipelines, transactions, scripts and the pool against a real redis-server.
@Suite(.serialized) struct CommandTests {
    @Test(arguments: [2, 3]) func hashesListsSetsAndSortedSets(protocolVersion: Int) async throws {
        let server = try RedisServer()
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            let redis = try await Connection.create(
                Configuration(host: "127.0.0.1", port: server.port, protocolVersion: protocolVersion)
            )
            defer { redis.close() }
            #expect(try await redis.hset("h", [("a", "1"), ("b", "2")]) == 2)
            #expect(try await redis.hget("h", "a") == "1")
            #expect(try await redis.hgetall("h") == ["a": "1", "b": "2"])
            #expect(try await redis.hmget("h", ["b", "zz"]) == ["2", nil])
            #expect(try await redis.hincrby("h", "a", 9) == 10)
            #expect(try await redis.hincrbyfloat("h", "f", 0.25) == 0.25)
            #expect(try await redis.hexists("h", "b"))
            #expect(try await redis.hdel("h", ["b"]) == 1)
            #expect(try await redis.hlen("h") == 2)
            #expect(Set(try await redis.hkeys("h")) == ["a", "f"])

            #expect(try await redis.rpush("l", ["a", "b", "c"]) == 3)
            #expect(try await redis.lpush("l", ["z"]) == 4)
            #expect(try await redis.lrange("l", 0, -1) == ["z", "a", "b", "c"])
            #expect(try await redis.lpop("l") == "z")
            #expect(try await redis.rpop("l") == "c")
            #expect(try await redis.lmove("l", "l2", from: .left, to: .right) == "a")
            #expect(try await redis.llen("l") == 1)
            let popped = try await redis.blpop(["empty", "l"], timeout: .seconds(1))
            #expect(popped?.key == "l" && popped?.value == "b")
            #expect(try await redis.brpop(["empty"], timeout: .milliseconds(100)) == nil)

            #expect(try await redis.sadd("s", ["x", "y", "x"]) == 2)
            #expect(try await redis.smembers("s") == ["x", "y"])
            #expect(try await redis.sismember("s", "y"))
            #expect(try await redis.scard("s") == 2)
            #expect(try await redis.sadd("s2", ["y", "w"]) == 2)
            #expect(try await redis.sinter(["s", "s2"]) == ["y"])
            #expect(try await redis.sunion(["s", "s2"]) == ["x", "y", "w"])

            #expect(try await redis.zadd("z", [ScoredMember("a", score: 1), ScoredMember("b", score: 2.5)]) == 2)
            #expect(try await redis.zscore("z", "b") == 2.5)
            #expect(try await redis.zincrby("z", 2, "a") == 3)
            #expect(try await redis.zrange("z", 0, -1) == ["b", "a"])
            #expect(
                try await redis.zrangeWithScores("z", 0, -1, reverse: true) == [
                    ScoredMember("a", score: 3), ScoredMember("b", score: 2.5),
                ]
            )
            #expect(try await redis.zrangebyscore("z", min: "(2.5", max: "+inf") == ["a"])
            #expect(try await redis.zrank("z", "a") == 1)
            #expect(try await redis.zrank("z", "nobody") == nil)
            #expect(try await redis.zcount("z", min: "-inf", max: "+inf") == 2)
            #expect(try await redis.zpopmin("z") == [ScoredMember("b", score: 2.5)])
            #expect(try await redis.type("z") == "zset")
            // A wrong type is the command's own error, not the connection's.
            await #expect(throws: RedisReplyError.self) { try await redis.lpush("z", ["x"]) }
            #expect(try await redis.exists("z", "h", "nope") == 2)
        }
    }

    @Test func keysExpiryAndScanSequences() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            let redis = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { redis.close() }
            for index in 0..<250 { try await redis.set("scan:\(index)", "v") }
            try await redis.set("other", "v")
            var keys: Set<String> = []
            for try await key in redis.scan(match: "scan:*", count: 20) { keys.insert(key) }
            #expect(keys == Set((0..<250).map { "scan:\($0)" }))
            try await redis.hset("h", (0..<50).map { ("f\($0)", "\($0)") })
            var fields = 0
            for try await (field, value) in redis.hscan("h", count: 10) where field == "f\(value)" { fields += 1 }
            #expect(fields == 50)
            try await redis.zadd("z", (0..<30).map { ScoredMember("m\($0)", score: Double($0)) })
            var total = 0.0
            for try await member in redis.zscan("z") { total += member.score }
            #expect(total == Double((0..<30).reduce(0, +)))
            #expect(try await redis.expire("other", after: .milliseconds(1500)))
            #expect((1...1500).contains(try await redis.pttl("other")))
            #expect(try await redis.persist("other"))
            #expect(try await redis.ttl("other") == -1)
            #expect(try await redis.set("px", "v", expiry: .milliseconds(50)))
            try await sleep(.milliseconds(120))
            #expect(try await redis.get("px") == nil)
        }
    }

    @Test func streamsAndConsumerGroups() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            let redis = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { redis.close() }
            var ids: [String] = []
            for index in 0..<20 {
                ids.append(
                    try await redis.xadd(
                        "room",
                        [("user", "u\(index)"), ("text", "hi \(index)")],
                        trim: .maxLength(10, approximate: false)
                    )
                )
            }
            #expect(try await redis.xlen("room") == 10)
            let recent = try await redis.xrevrange("room", count: 3)
            #expect(recent.map { $0["text"] } == ["hi 19", "hi 18", "hi 17"])
            #expect(try await redis.xrange("room", ids[15], "+").count == 5)
            let reader = loop.createTask { try await redis.xread([(key: "live", id: "$")], block: .seconds(5)) }
            let writer = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { writer.close() }
            try await sleep(.milliseconds(50))
            try await writer.xadd("live", [("k", "v")])
            let read = try await reader.value
            #expect(read.first?.stream == "live" && read.first?.entries.first?["k"] == "v")
            #expect(try await redis.xread([(key: "live", id: "$")], block: .milliseconds(50)).isEmpty)
            try await redis.xgroupCreate("jobs", group: "workers", id: "0", makeStream: true)
            try await redis.xadd("jobs", [("job", "1")])
            try await redis.xadd("jobs", [("job", "2")])
            let batch = try await redis.xreadgroup(
                group: "workers",
                consumer: "w1",
                [(key: "jobs", id: ">")],
                count: 10
            )
            #expect(batch.first?.entries.map { $0["job"] } == ["1", "2"])
            #expect(try await redis.xack("jobs", group: "workers", batch[0].entries.map(\.id)) == 2)
            #expect(try await redis.xgroupDestroy("jobs", group: "workers") == 1)
        }
    }

    @Test func pipelinesFailPerCommandAndTransactionsRunAsOne() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            let redis = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { redis.close() }
            let pipeline = Pipeline()
            let set = pipeline.add(.set("p", "1"))
            let wrong = pipeline.add(.lpush("p", ["x"]))
            let incr = pipeline.add(.incr("p"))
            pipeline.send("GET", "p")
            let replies = try await redis.execute(pipeline)
            #expect(try set.get())
            #expect(throws: RedisReplyError.self) { try wrong.get() }
            #expect(try incr.get() == 2)
            #expect(replies.count == 4 && replies[3].string == "2")

            let transaction = Transaction()
            let first = transaction.add(.incr("t"))
            let second = transaction.add(.incrby("t", 10))
            try await redis.execute(transaction)
            #expect(try first.get() == 1 && second.get() == 11)

            // A command Redis refuses while queueing aborts the transaction: each command says why.
            let aborted = Transaction()
            let good = aborted.add(.incr("t"))
            aborted.send("NOSUCHCOMMAND")
            try await redis.execute(aborted)
            #expect(throws: RedisReplyError.self) { try good.get() }
            #expect(try await redis.get("t") == "11")

            // A runtime error fails only its own command.
            let mixed = Transaction()
            let bad = mixed.add(.lpush("t", ["x"]))
            let fine = mixed.add(.incr("t"))
            try await redis.execute(mixed)
            #expect(throws: RedisReplyError.self) { try bad.get() }
            #expect(try fine.get() == 12)

            // WATCH: a change from another connection makes the first attempt fail; the helper retries.
            let other = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { other.close() }
            try await redis.set("balance", "100")
            var attempts = 0
            let final = try await redis.transaction(watching: ["balance"]) { redis, transaction in
                attempts += 1
                let balance = Int(try await redis.get("balance") ?? "0")!
                if attempts == 1 { try await other.incrby("balance", 5) }
                transaction.add(.set("balance", String(balance - 10)))
                return balance - 10
            }
            #expect(attempts == 2 && final == 95)
            #expect(try await redis.get("balance") == "95")
        }
    }

    @Test func scriptsRunBySHAAndFallBackOnNoScript() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            let redis = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { redis.close() }
            let script = Script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(try await redis.evaluate(script, keys: ["c"], arguments: ["5"]) == .integer(5))
            #expect(try await redis.scriptLoad(script.source) == script.sha1)
            #expect(try await redis.evaluate(script, keys: ["c"], arguments: ["2"]) == .integer(7))
            try await redis.send("SCRIPT", "FLUSH")
            #expect(try await redis.evaluate(script, keys: ["c"], arguments: ["1"]) == .integer(8))
            #expect(Script("").sha1 == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        }
    }

    @Test func thePoolServesWaitersInOrderAndReplacesBrokenConnections() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            let pool = try await Pool.create(
                Configuration(host: "127.0.0.1", port: server.port),
                size: 2,
                waitTimeout: .milliseconds(300),
                healthCheckInterval: .milliseconds(50)
            )
            // Many more tasks than connections: all are served, never more than 2 connections.
            let tasks = (0..<40).map { index in loop.createTask { try await pool.incr("hits") + index * 0 } }
            for task in tasks { _ = try await task.value }
            #expect(try await pool.get("hits") == "40")
            #expect(pool.openCount <= 2)
            // FIFO: waiters get connections in the order they asked.
            let first = try await pool.acquire()
            let second = try await pool.acquire()
            var order: [Int] = []
            let waiters = (0..<3).map { index in
                loop.createTask {
                    try await pool.withConnection { _ in order.append(index) }
                }
            }
            try await sleep(.milliseconds(20))
            pool.release(first)
            pool.release(second)
            for waiter in waiters { try await waiter.value }
            #expect(order == [0, 1, 2])
            // A waiter past its timeout gets a typed error.
            let held = [try await pool.acquire(), try await pool.acquire()]
            await #expect(throws: RedisError.self) { try await pool.ping() }
            // A broken connection (killed by the server) is replaced.
            try await held[0].send("CLIENT", "KILL", "SKIPME", "yes")
            try await sleep(.milliseconds(100))
            for connection in held { pool.release(connection) }
            #expect(try await pool.ping() == "PONG")
            #expect(try await pool.ping() == "PONG")
            await pool.close()
            #expect(pool.openCount == 0)
            await #expect(throws: RedisError.self) { try await pool.ping() }
        }
    }
}

import AsyncIO
import AsyncIORedis
import Testing

/// Commands, pipelining, handshakes and cancel-safety against a real redis-server.
@Suite(.serialized) struct ConnectionTests {
    @Test func typedCommandsRoundTrip() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            let redis = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { redis.close() }
            #expect(redis.protocolVersion == 3)
            #expect(try await redis.set("k", "v"))
            #expect(try await redis.get("k") == "v")
            #expect(try await redis.set("k", "w", condition: .ifNotExists) == false)
            #expect(try await redis.get("missing") == nil)
            #expect(try await redis.incr("n") == 1)
            #expect(try await redis.incrby("n", 41) == 42)
            #expect(try await redis.incrbyfloat("f", 1.5) == 1.5)
            #expect(try await redis.set("e", [UInt8]([0, 255, 13, 10]), expiry: .seconds(100)))
            #expect(try await redis.getBytes("e") == [0, 255, 13, 10])
            #expect((1...100).contains(try await redis.ttl("e")))
            #expect(try await redis.mget(["k", "nope", "n"]) == ["v", nil, "42"])
            #expect(try await redis.del("k", "n") == 2)
            #expect(try await redis.ping() == "PONG")
            #expect(try await redis.echo("hi") == "hi")
            #expect(try await redis.info("server").contains("redis_version"))
            let raw = try await redis.send("OBJECT", "ENCODING", "e")
            #expect(raw.string == "raw" || raw.string == "embstr")
            await #expect(throws: RedisReplyError.self) { try await redis.send("NOSUCHCOMMAND") }
            // An error reply fails only its command.
            #expect(try await redis.echo("still fine") == "still fine")
        }
    }

    @Test func resp2AndURLOptions() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            let redis = try await Connection.create(url: "redis://127.0.0.1:\(server.port)/3?protocol=2&client_name=t1")
            defer { redis.close() }
            #expect(redis.protocolVersion == 2)
            try await redis.set("db3", "yes")
            #expect(try await redis.send("CLIENT", "GETNAME").string == "t1")
            let other = try await Connection.create(url: "redis://127.0.0.1:\(server.port)?db=3")
            defer { other.close() }
            #expect(try await other.get("db3") == "yes")
        }
    }

    @Test func passwordsAndACLUsers() async throws {
        let server = try RedisServer(extraArguments: ["--requirepass", "s3cr:t"])
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            let redis = try await Connection.create(url: "redis://:s3cr%3At@127.0.0.1:\(server.port)/1")
            try await redis.send("ACL", "SETUSER", "alice", "on", ">pw", "~*", "+@all")
            redis.close()
            let alice = try await Connection.create(url: "redis://alice:pw@127.0.0.1:\(server.port)")
            #expect(try await alice.send("ACL", "WHOAMI").string == "alice")
            alice.close()
            await #expect(throws: RedisReplyError.self) {
                _ = try await Connection.create(url: "redis://:wrong@127.0.0.1:\(server.port)")
            }
        }
    }

    @Test func concurrentCallersArePipelinedAndMatchedInOrder() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let values = try await EventLoopThread.run { loop in
            let redis = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { redis.close() }
            let tasks = (0..<200).map { index in
                loop.createTask { () async throws -> String in
                    try await redis.set("key\(index)", "value\(index)")
                    return try await redis.get("key\(index)") ?? "nil"
                }
            }
            var values: [String] = []
            for task in tasks { values.append(try await task.value) }
            return values
        }
        #expect(values == (0..<200).map { "value\($0)" })
    }

    @Test func aTimedOutCommandClosesItsConnectionAndFailsEveryPendingOne() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            var configuration = Configuration(host: "127.0.0.1", port: server.port)
            configuration.commandTimeout = .milliseconds(200)
            let redis = try await Connection.create(configuration)
            // Queued 50 ms behind DEBUG SLEEP, so its own deadline is later than the sleeper's.
            let follower = loop.createTask {
                try await sleep(.milliseconds(50))
                return try await redis.get("after")
            }
            do {
                try await redis.send("DEBUG", "SLEEP", "1")
                Issue.record("DEBUG SLEEP 1 answered within 200 ms")
            } catch let error as RedisError {
                guard case .timeout = error else { throw error }
            }
            do {
                _ = try await follower.value
                Issue.record("the command queued behind the timed-out one got a reply")
            } catch let error as RedisError {
                guard case .connectionClosed = error else { throw error }
            }
            #expect(redis.isClosed)
            await #expect(throws: RedisError.self) { try await redis.ping() }
            // A fresh connection is correct.
            let fresh = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { fresh.close() }
            try await fresh.set("after", "right")
            #expect(try await fresh.get("after") == "right")
        }
    }

    @Test func aCancelledBlockingPopClosesTheConnection() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            let redis = try await Connection.create(host: "127.0.0.1", port: server.port)
            let pop = loop.createTask { try await redis.blpop(["queue"], timeout: .zero) }
            let behind = loop.createTask { try await redis.get("x") }
            try await sleep(.milliseconds(100))
            pop.cancel()
            await #expect(throws: CancelledError.self) { _ = try await pop.value }
            await #expect(throws: RedisError.self) { _ = try await behind.value }
            #expect(redis.isClosed)
            // The element pushed now is not lost to the dead connection.
            let fresh = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { fresh.close() }
            try await fresh.rpush("queue", ["item"])
            #expect(try await fresh.lpop("queue") == "item")
        }
    }

    @Test func clientKillFailsPendingCommandsWithAConnectionError() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            var configuration = Configuration(host: "127.0.0.1", port: server.port)
            configuration.clientName = "victim"
            let victim = try await Connection.create(configuration)
            let waiting = loop.createTask { try await victim.blpop(["never"], timeout: .seconds(30)) }
            try await sleep(.milliseconds(100))
            let killer = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { killer.close() }
            let list = try await killer.send("CLIENT", "LIST").string ?? ""
            let line = list.split(separator: "\n").first { $0.contains("name=victim") }
            let clientID = line?.split(separator: " ").first { $0.hasPrefix("id=") }?.dropFirst(3)
            try await killer.send("CLIENT", "KILL", "ID", String(clientID ?? ""))
            do {
                _ = try await waiting.value
                Issue.record("a killed connection answered")
            } catch let error as RedisError {
                guard case .connectionClosed = error else { throw error }
            }
            #expect(victim.isClosed)
        }
    }

    @Test func resp3PushFramesGoToTheHandlerBesideReplies() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let invalidated = try await EventLoopThread.run { loop in
            let redis = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { redis.close() }
            var pushes: [String] = []
            redis.onPush = { push in
                if let elements = push.elements, elements.first?.string == "invalidate",
                    let keys = elements.last?.elements
                {
                    pushes += keys.compactMap(\.string)
                }
            }
            try await redis.send("CLIENT", "TRACKING", "ON")
            try await redis.set("tracked", "1")
            _ = try await redis.get("tracked")
            let writer = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { writer.close() }
            try await writer.set("tracked", "2")
            // Commands keep getting their own replies while pushes arrive between them.
            for index in 0..<20 { #expect(try await redis.echo("e\(index)") == "e\(index)") }
            return pushes
        }
        #expect(invalidated == ["tracked"])
    }

    @Test func urlsParseAsRedisPyDoes() throws {
        let full = try Configuration(url: "redis://us%40r:p%40ss@example.com:6380/2?client_name=x")
        #expect(full.endpoint == .tcp(host: "example.com", port: 6380))
        #expect(full.username == "us@r" && full.password == "p@ss" && full.database == 2 && full.clientName == "x")
        #expect(try Configuration(url: "redis://[::1]:7000").endpoint == .tcp(host: "::1", port: 7000))
        #expect(try Configuration(url: "redis://").endpoint == .tcp(host: "localhost", port: 6379))
        let unix = try Configuration(url: "unix:///tmp/redis.sock?db=1&password=pw")
        #expect(unix.endpoint == .unix(path: "/tmp/redis.sock") && unix.database == 1 && unix.password == "pw")
        #expect(try Configuration(url: "rediss://host:6380").tls != nil)
        #expect(try Configuration(url: "redis://host:6380").tls == nil)
        #expect(throws: RedisError.self) { try Configuration(url: "http://host") }
        #expect(throws: RedisError.self) { try Configuration(url: "redis://host:99999") }
        #expect(throws: RedisError.self) { try Configuration(url: "redis://host/x") }
    }
}

import AsyncIO
import AsyncIORedis
import Testing

/// Pub/sub against a real redis-server, with `redis-cli PUBLISH` from outside.
@Suite(.serialized) struct SubscriberTests {
    /// Publishes with redis-cli until the subscriber has a message (a publish before the
    /// subscription is confirmed server-side reaches nobody, so the first may be lost).
    private func publishUntilReceived(port: Int, channel: String, message: String, _ received: () -> Bool) async throws
    {
        for _ in 0..<50 where !received() {
            _ = try await redisCLI(port: port, "PUBLISH", channel, message)
            try await sleep(.milliseconds(50))
        }
    }

    @Test(arguments: [2, 3]) func theTalksSubscriberReceivesMessagesAndPatterns(protocolVersion: Int) async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let got = try await EventLoopThread.run { loop in
            var configuration = Configuration(host: "127.0.0.1", port: server.port)
            configuration.protocolVersion = protocolVersion
            let connection = try await Connection.create(configuration)
            let subscriber = try await connection.startSubscribe()
            defer { subscriber.close() }
            try await subscriber.subscribe(["my-channel"])
            try await subscriber.psubscribe(["news.*"])
            #expect(try await subscriber.connection.ping() == "PONG")
            let publisher = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { publisher.close() }
            #expect(try await publisher.publish("my-channel", "hello") == 1)
            try await publisher.publish("news.tech", [UInt8]([0, 1, 2]))
            _ = try await redisCLI(port: server.port, "PUBLISH", "my-channel", "from cli")
            var got: [PubSubMessage] = []
            for _ in 0..<3 { got.append(try await subscriber.nextPublished()) }
            try await subscriber.unsubscribe()
            try await subscriber.punsubscribe()
            #expect(subscriber.channels.isEmpty && subscriber.patterns.isEmpty)
            #expect(try await publisher.publish("my-channel", "nobody") == 0)
            return got
        }
        #expect(got.count == 3)
        #expect(got[0].value == "hello" && got[0].channel == "my-channel" && got[0].kind == .channel)
        #expect(got[1].payload == [0, 1, 2] && got[1].pattern == "news.*" && got[1].channel == "news.tech")
        #expect(got[2].value == "from cli")
    }

    @Test func aRestartedServerIsResubscribedAndTheGapIsReported() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let events = try await EventLoopThread.run { loop in
            let connection = try await Connection.create(host: "127.0.0.1", port: server.port)
            let subscriber = try await connection.startSubscribe(
                reconnect: .init(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
            )
            defer { subscriber.close() }
            try await subscriber.subscribe(["a", "b"])
            try await subscriber.psubscribe(["p.*"])
            _ = try await redisCLI(port: server.port, "PUBLISH", "a", "before")
            var events: [Subscriber.Event] = []
            events.append(try await subscriber.next()!)
            server.stop()
            events.append(try await subscriber.next()!)  // the gap, at once
            try server.start()
            // Publish until the re-subscribed connection hears it.
            let waiter = loop.createTask { try await subscriber.next()! }
            for _ in 0..<100 where !waiter.isDone {
                _ = try await redisCLI(port: server.port, "PUBLISH", "p.x", "after")
                try await sleep(.milliseconds(50))
            }
            events.append(try await waiter.value)
            #expect(subscriber.channels == ["a", "b"] && subscriber.patterns == ["p.*"])
            let checker = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { checker.close() }
            #expect(try await checker.send("PUBSUB", "NUMSUB", "a", "b").elements?.count == 4)
            #expect(try await checker.send("PUBSUB", "NUMPAT") == .integer(1))
            return events
        }
        #expect(events.count == 3)
        guard case .message(let first) = events[0], case .gap(.reconnecting) = events[1],
            case .message(let last) = events[2]
        else {
            Issue.record("unexpected events \(events)")
            return
        }
        #expect(first.value == "before" && last.value == "after" && last.pattern == "p.*")
    }

    @Test func aSlowSubscriberDropsTheOldestAndSaysHowMany() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let events = try await EventLoopThread.run { loop in
            let connection = try await Connection.create(host: "127.0.0.1", port: server.port)
            let subscriber = try await connection.startSubscribe(bufferPolicy: .dropOldest(limit: 10))
            defer { subscriber.close() }
            try await subscriber.subscribe(["flood"])
            let publisher = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { publisher.close() }
            for index in 0..<25 { try await publisher.publish("flood", "m\(index)") }
            try await publisher.ping()
            while subscriber.bufferedCount < 10 || subscriber.droppedCount < 15 { try await sleep(.milliseconds(10)) }
            var events: [Subscriber.Event] = []
            for _ in 0..<11 { events.append(try await subscriber.next()!) }
            return events
        }
        #expect(events.first == .gap(.dropped(count: 15)))
        #expect(
            events.dropFirst().map { if case .message(let m) = $0 { m.value } else { "" } }
                == (15..<25).map { "m\($0)" }
        )
    }

    @Test func theFailPolicyEndsTheSubscription() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        try await EventLoopThread.run { loop in
            let connection = try await Connection.create(host: "127.0.0.1", port: server.port)
            let subscriber = try await connection.startSubscribe(bufferPolicy: .fail(limit: 3))
            try await subscriber.subscribe(["flood"])
            let publisher = try await Connection.create(host: "127.0.0.1", port: server.port)
            defer { publisher.close() }
            for index in 0..<5 { try await publisher.publish("flood", "m\(index)") }
            var error: (any Error)?
            do { while true { _ = try await subscriber.nextPublished() } } catch let caught { error = caught }
            #expect(error as? RedisError == .subscriberOverflow(limit: 3))
        }
    }
}

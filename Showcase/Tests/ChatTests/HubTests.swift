import AsyncIO
import Logging
import Testing

@testable import ChatCore

/// A client connection that records what it is sent, and can pretend to be full.
final class RecordingConnection: ClientConnection {
    var events: [ChatEvent] = []
    var replies: [Reply] = []
    var closedWith: String??
    var isFull = false

    func send(_ event: Outgoing) -> Bool {
        if isFull { return false }
        events.append(event.event)
        return true
    }

    func send(_ reply: Reply) { replies.append(reply) }

    func close(reason: String?, shutdown: Bool) { closedWith = .some(reason) }
}

@Suite struct HubTests {
    static func hub(limits: ChatLimits = ChatLimits(), loop: isolated EventLoop) async throws -> ChatHub {
        let hub = ChatHub(
            broker: InProcessBroker(historyLength: limits.historyLength),
            limits: limits,
            metrics: ChatMetrics(),
            instance: "test",
            logger: Logger(label: "test")
        )
        try await hub.broker.start(sink: hub, loop: loop)
        return hub
    }

    @Test func joinTalkLeave() async throws {
        try await EventLoopThread.run { loop in
            let hub = try await Self.hub(loop: loop)
            let a = RecordingConnection()
            let b = RecordingConnection()
            let ann = hub.register(address: "1", kind: .line, connection: a)
            let bob = hub.register(address: "2", kind: .web, connection: b)
            await hub.handle(.nick("ann"), from: ann)
            await hub.handle(.join("Lobby"), from: ann)
            await hub.handle(.say(room: nil, text: "first"), from: ann)
            await hub.handle(.join("lobby"), from: bob)
            #expect(b.replies.last?.type == .joined)
            #expect(b.replies.last?.history?.map(\.text) == ["first"])
            #expect(b.replies.last?.who == ["ann", "guest-2"])
            await hub.handle(.say(room: "lobby", text: "<script>"), from: bob)
            #expect(a.events.map(\.type) == [.join, .message, .join, .message])
            #expect(a.events.last?.text == "<script>")
            await hub.disconnected(bob, reason: "gone")
            #expect(
                a.events.last
                    == ChatEvent(
                        type: .leave,
                        room: "lobby",
                        nick: "guest-2",
                        text: "gone",
                        ts: a.events.last!.ts,
                        origin: "test"
                    )
            )
            #expect(hub.clientCount == 1 && hub.roomCount == 1)
        }
    }

    @Test func slowClientIsCutOffAndOthersStillReceive() async throws {
        try await EventLoopThread.run { loop in
            let hub = try await Self.hub(loop: loop)
            let fast = RecordingConnection()
            let slow = RecordingConnection()
            let f = hub.register(address: "1", kind: .line, connection: fast)
            let s = hub.register(address: "2", kind: .line, connection: slow)
            await hub.handle(.join("r"), from: f)
            await hub.handle(.join("r"), from: s)
            slow.isFull = true
            await hub.handle(.say(room: "r", text: "one"), from: f)
            await hub.handle(.say(room: "r", text: "two"), from: f)
            #expect(slow.closedWith == .some("too slow: over 256 KiB waiting to be sent to you"))
            #expect(fast.events.compactMap(\.text) == ["one", "two"])
            #expect(s.isClosing)
        }
    }

    @Test func tooManyRoomsCutsOff() async throws {
        try await EventLoopThread.run { loop in
            var limits = ChatLimits()
            limits.maxRoomsPerClient = 3
            let hub = try await Self.hub(limits: limits, loop: loop)
            let connection = RecordingConnection()
            let client = hub.register(address: "1", kind: .line, connection: connection)
            for n in 0..<10 { await hub.handle(.join("r\(n)"), from: client) }
            #expect(client.rooms == ["r0", "r1", "r2"])
            #expect(connection.closedWith == .some("too many rooms (the limit is 3 per connection)"))
        }
    }

    @Test func brokerStatusIsTold() async throws {
        try await EventLoopThread.run { loop in
            let hub = try await Self.hub(loop: loop)
            let connection = RecordingConnection()
            let client = hub.register(address: "1", kind: .web, connection: connection)
            await hub.handle(.join("a"), from: client)
            await hub.handle(.join("b"), from: client)
            hub.brokerStatus(.degraded(reason: "redis down"))
            #expect(hub.isDegraded && connection.replies.last?.type == .degraded)
            hub.brokerStatus(.recovered(missedRooms: ["b", "c"]))
            #expect(connection.replies.last?.missed == ["b"])
            #expect(!hub.isDegraded)
        }
    }
}

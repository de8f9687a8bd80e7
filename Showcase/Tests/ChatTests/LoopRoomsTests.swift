import AsyncIO
import Logging
import Testing

@testable import ChatCore

/// `--loops N`: the rooms of one process shared between hubs on different loops.
@Suite struct LoopRoomsTests {
    /// A hub and one recorded client on one loop of a group.
    final class Side {
        let hub: ChatHub
        let connection = RecordingConnection()
        let client: ChatClient

        init(rooms: LoopRooms, index: Int, metrics: ChatMetrics, loop: isolated EventLoop) async throws {
            hub = ChatHub(
                broker: rooms.broker(loop: index),
                limits: ChatLimits(),
                metrics: metrics,
                instance: "test#\(index)",
                loopIndex: index,
                logger: Logger(label: "test")
            )
            try await hub.broker.start(sink: hub, loop: loop)
            client = hub.register(address: "\(index)", kind: .line, connection: connection)
        }

        /// The texts of the messages this side's client received.
        var said: [String] { connection.events.filter { $0.type == .message }.compactMap(\.text) }

        /// Waits (on the side's loop) until its client received `count` messages; a generous
        /// deadline, as the other loop may be slow on a loaded machine.
        func waitForMessages(_ count: Int) async throws -> [String] {
            for _ in 0..<2_000 where said.count < count { try await sleep(.milliseconds(5)) }
            return said
        }
    }

    @Test func twoLoopsShareRoomsHistoryPresenceAndNicknames() async throws {
        let group = try EventLoopGroup(loopCount: 2, name: "test-loop")
        defer { group.shutdown() }
        let rooms = LoopRooms(loops: group.loops, historyLength: 100)
        let metrics = ChatMetrics(loops: 2)
        let sides = try await group.runOnEveryLoop { loop, index in
            LoopBound(try await Side(rooms: rooms, index: index, metrics: metrics, loop: loop), loop: loop)
        }
        let (ann, bob) = (sides[0], sides[1])
        #expect(metrics.clientsPerLoop == [1, 1])

        let guests = try await group.runOnEveryLoop { _, index in sides[index].value.client.nick }
        #expect(Set(guests).count == 2, "guest names are numbered across loops: \(guests)")

        // ann, on loop 0, takes her name and says something before bob comes.
        try await group.threads[0].run { _ in
            let side = ann.value
            await side.hub.handle(.nick("ann"), from: side.client)
            await side.hub.handle(.join("lobby"), from: side.client)
            await side.hub.handle(.say(room: nil, text: "first"), from: side.client)
        }
        // bob, on loop 1: "ann" is taken on the other loop; he joins and sees her history and her.
        let (refusal, joined) = try await group.threads[1].run { _ in
            let side = bob.value
            await side.hub.handle(.nick("Ann"), from: side.client)
            let refusal = side.connection.replies.last?.text
            await side.hub.handle(.nick("bob"), from: side.client)
            await side.hub.handle(.join("lobby"), from: side.client)
            return (refusal, side.connection.replies.last)
        }
        #expect(refusal == "the nickname Ann is taken")
        #expect(joined?.type == .joined)
        #expect(joined?.history?.compactMap(\.text) == ["first"])
        #expect(joined?.who == ["ann", "bob"])
        #expect(metrics.roomCount == 1)

        // Each says something; each sees both, in the same order on both loops.
        try await group.threads[1].run { _ in
            await bob.value.hub.handle(.say(room: nil, text: "hi from bob"), from: bob.value.client)
        }
        let annSaw = try await group.threads[0].run { _ in
            _ = try await ann.value.waitForMessages(2)
            await ann.value.hub.handle(.say(room: nil, text: "hi from ann"), from: ann.value.client)
            return ann.value.said
        }
        let bobSaw = try await group.threads[1].run { _ in try await bob.value.waitForMessages(2) }
        #expect(annSaw == ["first", "hi from bob", "hi from ann"])
        #expect(bobSaw == ["hi from bob", "hi from ann"])

        // bob goes: ann is told on her loop, his name is free again, the room stays (ann is in it).
        try await group.threads[1].run { _ in await bob.value.hub.disconnected(bob.value.client, reason: "gone") }
        let (leave, renamed) = try await group.threads[0].run { _ in
            for _ in 0..<2_000 where ann.value.connection.events.last?.type != .leave {
                try await sleep(.milliseconds(5))
            }
            let leave = ann.value.connection.events.last
            await ann.value.hub.handle(.nick("bob"), from: ann.value.client)
            return (leave, ann.value.client.nick)
        }
        #expect(leave?.type == .leave && leave?.nick == "bob" && leave?.text == "gone")
        #expect(renamed == "bob")
        #expect(metrics.clientsPerLoop == [1, 0])
        #expect(metrics.roomCount == 1)
    }
}

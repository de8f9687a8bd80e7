// `hummingbird-chat PORT`: the chat's web protocol (Showcase/README.md, "The web page's protocol")
// on Hummingbird 2 and hummingbird-websocket, on 127.0.0.1:PORT (any path): `join` (answered
// `joined` with the room's history, the others told `join`), `message` (fanned out to the room as
// `message` events, the last 100 kept), `leave`. No Redis: Hummingbird has no Redis client in this
// machine's package mirrors, so it runs the single-instance rows of Scripts/chat.py only.
//
// Written the way Hummingbird's WebSocket chat example is: a room registry shared by every
// connection, each connection with an outbound stream that a child task writes to its WebSocket.
// The registry is one Mutex (not an actor), the fastest form of it.
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Synchronization

struct Command: Decodable {
    var type: String
    var room: String?
    var text: String?
}

struct Event: Codable {
    var type: String
    var room: String
    var nick: String
    var text: String?
    var ts: Int64
}

struct Joined: Encodable {
    var type = "joined"
    var room: String
    var history: [Event]
}

func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

final class Rooms: Sendable {
    struct State {
        var members: [String: [Int: AsyncStream<String>.Continuation]] = [:]
        var history: [String: [Event]] = [:]
    }
    private let state = Mutex(State())

    /// Adds a member; returns the room's history.
    func join(_ room: String, id: Int, _ outbound: AsyncStream<String>.Continuation) -> [Event] {
        state.withLock { state in
            state.members[room, default: [:]][id] = outbound
            return state.history[room] ?? []
        }
    }

    func leave(_ room: String, id: Int) {
        state.withLock { state in
            state.members[room]?[id] = nil
            if state.members[room]?.isEmpty == true { state.members[room] = nil }
        }
    }

    /// Queues `event` to every member of its room (messages are kept in the history).
    func publish(_ event: Event) {
        let text = String(decoding: try! JSONEncoder().encode(event), as: UTF8.self)
        let members = state.withLock { state in
            if event.type == "message" {
                state.history[event.room, default: []].append(event)
                if state.history[event.room]!.count > 100 { state.history[event.room]!.removeFirst() }
            }
            return Array((state.members[event.room] ?? [:]).values)
        }
        for member in members { member.yield(text) }
    }
}

let rooms = Rooms()
let nextID = Atomic<Int>(0)
let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 9003
let router = Router()
let app = Application(
    router: router,
    server: .http1WebSocketUpgrade(configuration: .init(maxFrameSize: 1 << 16)) { _, _, _ in
        .upgrade([:]) { inbound, outbound, _ in
            let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
            let nick = "guest-\(id)"
            let (stream, continuation) = AsyncStream<String>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await text in stream { try await outbound.write(.text(text)) }
                }
                var joined: Set<String> = []
                do {
                    for try await message in inbound.messages(maxSize: 1 << 16) {
                        guard case .text(let text) = message,
                            let command = try? JSONDecoder().decode(Command.self, from: Data(text.utf8)),
                            let room = command.room
                        else { continue }
                        switch command.type {
                        case "join":
                            let history = rooms.join(room, id: id, continuation)
                            joined.insert(room)
                            let reply = Joined(room: room, history: history)
                            continuation.yield(String(decoding: try JSONEncoder().encode(reply), as: UTF8.self))
                            rooms.publish(Event(type: "join", room: room, nick: nick, ts: now()))
                        case "message" where joined.contains(room):
                            rooms.publish(Event(type: "message", room: room, nick: nick, text: command.text, ts: now()))
                        case "leave":
                            rooms.leave(room, id: id)
                            joined.remove(room)
                        default: continue
                        }
                    }
                } catch {}
                for room in joined {
                    rooms.leave(room, id: id)
                    rooms.publish(Event(type: "leave", room: room, nick: nick, ts: now()))
                }
                continuation.finish()
                try await group.waitForAll()
            }
        }
    },
    configuration: .init(address: .hostname("127.0.0.1", port: port))
)
try await app.runService()

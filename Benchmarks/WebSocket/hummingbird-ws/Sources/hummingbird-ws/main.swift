// `hummingbird-ws PORT`: Hummingbird 2's WebSocket echo on 127.0.0.1:PORT (any path), messages up
// to 16 MiB, no compression. The peer of Benchmarks/Scripts/ws.py.
import Hummingbird
import HummingbirdWebSocket

let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 9002
let router = Router()
let app = Application(
    router: router,
    server: .http1WebSocketUpgrade(configuration: .init(maxFrameSize: 16 << 20)) { _, _, _ in
        .upgrade([:]) { inbound, outbound, _ in
            for try await message in inbound.messages(maxSize: 16 << 20) {
                switch message {
                case .text(let text): try await outbound.write(.text(text))
                case .binary(let bytes): try await outbound.write(.binary(bytes))
                }
            }
        }
    },
    configuration: .init(address: .hostname("127.0.0.1", port: port))
)
try await app.runService()

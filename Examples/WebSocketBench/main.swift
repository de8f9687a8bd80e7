// The WebSocket echo server of the benchmark (Benchmarks/): every text and binary message on
// `ws://127.0.0.1:PORT/` (any path) comes back as it was sent. Messages up to 16 MiB, no
// compression, on the low-level API (a ServerHTTPProtocol subclass: no router in the way).
//
// It listens on 127.0.0.1 only, prints the bound address, and exits cleanly (status 0) on SIGTERM
// or SIGINT, after a graceful shutdown of at most one second (open WebSockets get 1001).
//
// Usage: swift run -c release WebSocketBench --port 9001   (--port 0: a free port)
import AsyncIO
import AsyncIOHTTP
import Glibc
import WebSocketCodec

/// Writes a line to stdout (or `fd`) at once, so that a test reading the pipe sees it.
func say(_ line: String, fd: Int32 = 1) {
    let text = line + "\n"
    _ = text.withCString { write(fd, $0, strlen($0)) }
}

let options = WebSocketOptions(limits: WebSocketLimits(maxMessageSize: 16 << 20), closeTimeout: .seconds(2))

final class EchoProtocol: ServerHTTPProtocol {
    override func handleRequest(_ message: RawRequestMessage, _ payload: RequestBody) async throws {
        let ws = WebSocketResponse(options: options)
        try await ws.prepare(message, transport: transport)
        for try await message in ws {
            switch message {
            case .text(let text): try await ws.send(text: text)
            case .binary(let bytes): try await ws.send(bytes)
            default: break
            }
        }
    }
}

/// Parses `--port N`; exits with status 2 on anything else. (A function, so that `port` is a
/// top-level `let`: a top-level `var` would belong to the main actor, which never runs here.)
func parsePort() -> Int {
    var port = 9001
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        guard argument == "--port", let value = arguments.popFirst().flatMap({ Int($0) }), (0...65_535).contains(value)
        else {
            say("usage: WebSocketBench [--port N]", fd: 2)
            exit(2)
        }
        port = value
    }
    return port
}

let port = parsePort()

do {
    try run { loop in
        let stop = loop.createFuture(of: Void.self)
        for signal in [SIGTERM, SIGINT] {
            try loop.addSignalHandler(signal) { try? stop.setResult(()) }
        }
        let server = try await HTTPServer.start(host: "127.0.0.1", port: port, backlog: 4_096, loop: loop) {
            EchoProtocol(configuration: HTTPServerConfiguration(serverName: "swift-asyncio"))
        }
        say("WebSocketBench listening on: 127.0.0.1:\(server.port) (ws://127.0.0.1:\(server.port)/)")
        try await stop.value
        await server.shutdown(timeout: .seconds(1))
    }
} catch {
    say("WebSocketBench: \(error)", fd: 2)
    exit(1)
}

import AsyncIO
import AsyncIOHTTP
import Foundation
import Testing
import WebSocketCodec

/// What the WebSocket handlers of the test server saw, read by the `/stats` route.
final class WebSocketRecorder: @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): only touched on the server's loop thread, by its handlers.
    var flooded = 0
    var closes: [String] = []
}

/// The routes the Python checks (Scripts/ws_server_check.py) and curl talk to.
func makeWebSocketHandler(_ recorder: WebSocketRecorder) -> Handler {
    { request in
        let path = request.rawPath.split(separator: "?").first.map(String.init) ?? ""
        switch path {
        case "/echo", "/deflate", "/origin", "/heartbeat":
            var options = WebSocketOptions(limits: WebSocketLimits(maxMessageSize: 4 << 20), protocols: ["chat"])
            if path == "/deflate" { options.compression = PerMessageDeflateOptions() }
            if path == "/origin" { options.allowedOrigins = ["http://good.example"] }
            if path == "/heartbeat" {
                options.heartbeat = .milliseconds(200)
                options.pongTimeout = .milliseconds(300)
            }
            let ws = WebSocketResponse(options: options)
            try await ws.prepare(request)
            do {
                for try await message in ws {
                    switch message {
                    case .text(let text): try await ws.send(text: text)
                    case .binary(let bytes): try await ws.send(bytes)
                    default: break
                    }
                }
            } catch {
                recorder.closes.append("\(path.dropFirst()):\(ws.closeCode?.rawValue ?? 0)")
                return ws
            }
            recorder.closes.append("\(path.dropFirst()):\(ws.closeCode?.rawValue ?? 0)")
            return ws
        case "/flood":
            let ws = WebSocketResponse()
            try await ws.prepare(request)
            let chunk = [UInt8](repeating: 0x42, count: 64 << 10)
            while (try? await ws.send(chunk)) != nil { recorder.flooded += 1 }
            return ws
        case "/stats":
            return Response(text: "flooded=\(recorder.flooded) \(recorder.closes.sorted().joined(separator: ","))")
        case "/events":
            let events = EventSourceResponse(pingInterval: .milliseconds(150))
            try await events.prepare(request)
            var next = Int(events.lastEventID ?? "") ?? 0
            for _ in 0..<3 {
                next += 1
                try await events.send("tick \(next)\nsecond line", event: "tick", id: String(next), retry: .seconds(2))
                try await sleep(.milliseconds(100))
            }
            try await sleep(.milliseconds(400))
            try await events.sendComment("bye")
            try await events.writeEOF()
            return events
        default:
            throw HTTPError.notFound()
        }
    }
}

/// Our WebSocket server against real clients: Python's `websockets` and aiohttp's client, raw
/// sockets for what no library sends, curl for server-sent events. scripts/test.sh installs them.
@Suite(.serialized) struct WebSocketServerTests {
    static func withServer(_ body: (ServerFixture) async throws -> Void) async throws {
        let recorder = WebSocketRecorder()
        let server = try await ServerFixture.start { makeWebSocketHandler(recorder) }
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func realClients() async throws {
        try await Self.withServer { server in
            let script = Tool.scripts.appendingPathComponent("ws_server_check.py").path
            let result = try await Tool.run("python3", [script, "\(server.port)"], seconds: 90)
            #expect(result.status == 0, "\(result.errors)")
            #expect(
                result.output.split(separator: "\n") == [
                    "WEBSOCKETS héllo True fragmented True chat True",
                    "WEBSOCKETS CLOSE 1000",
                    "DEFLATE True True True",
                    "AIOHTTP from aiohttp 70000 1000",
                    "AIOHTTP DEFLATE 15 True",
                    "HUGE HTTP/1.1 101 Switching Protocols 8 1009 True",
                    "BADUTF8 8 1007 True",
                    "UNMASKED 8 1002 True",
                    "RESERVED 8 1002 True",
                    "NEVER-READS HTTP/1.1 101 Switching Protocols True True",
                    "HEARTBEAT 9 True",
                    "HANDSHAKE 426 426 True 400 HTTP/1.1 403 Forbidden HTTP/1.1 101 Switching Protocols",
                    "CLOSES deflate:1000,deflate:1000,echo:1000,echo:1000,echo:1002,echo:1002,echo:1006,echo:1007,echo:1009,heartbeat:1006,origin:1006",
                ]
            )
        }
    }

    @Test func serverSentEventsWithCurl() async throws {
        try await Self.withServer { server in
            let url = "http://127.0.0.1:\(server.port)/events"
            let first = try await Tool.run("curl", ["-N", "-s", "-i", "--max-time", "10", url])
            #expect(first.status == 0)
            #expect(first.output.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(first.output.contains("Content-Type: text/event-stream; charset=utf-8\r\n"))
            #expect(first.output.contains("Cache-Control: no-cache\r\n"))
            #expect(
                first.output.contains(
                    "id: 1\nevent: tick\nretry: 2000\ndata: tick 1\ndata: second line\n\nid: 2\nevent: tick\nretry: 2000\ndata: tick 2\n"
                )
            )
            #expect(first.output.contains(": ping\n\n"))
            #expect(first.output.hasSuffix(": bye\n\n"))
            let resumed = try await Tool.run(
                "curl",
                ["-N", "-s", "--max-time", "10", "-H", "Last-Event-ID: 41", url]
            )
            #expect(resumed.output.hasPrefix("id: 42\nevent: tick\n"))
        }
    }
}

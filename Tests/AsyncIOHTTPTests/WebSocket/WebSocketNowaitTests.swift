import AsyncIO
import AsyncIOHTTP
import Testing
import WebSocketCodec

/// What the `sendNowait` handlers saw, read on the server's loop.
final class NowaitRecorder: @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): only touched on the server's loop thread (by the handlers,
    // and by the test through `fixture.thread.run`).
    var buffered: [Int] = []
    var failures: [String] = []
}

/// `WebSocketResponse.sendNowait(text:)` and `bufferedAmount`, against Python's `websockets` and a
/// raw socket that never reads.
@Suite(.serialized) struct WebSocketNowaitTests {
    static func handler(_ recorder: NowaitRecorder) -> Handler {
        { request in
            var options = WebSocketOptions()
            if request.rawPath == "/order-deflate" { options.compression = PerMessageDeflateOptions() }
            let ws = WebSocketResponse(options: options)
            do {
                try ws.sendNowait(text: "too early")
            } catch {
                recorder.failures.append("before prepare")
            }
            try await ws.prepare(request)
            switch request.rawPath {
            case "/order", "/order-deflate":
                // Mixed with `send`, in call order; prepared messages in one write (compressed
                // per connection when it compresses).
                try ws.sendNowait(text: "one")
                try await ws.send(text: "two")
                try ws.sendNowait(text: "three")
                try ws.sendNowait([WebSocketPreparedMessage(text: "four"), WebSocketPreparedMessage(text: "five")])
            default:
                // A client that never reads: nothing waits here, the buffer grows and says so.
                let chunk = String(repeating: "x", count: 64 << 10)
                for _ in 0..<256 { try ws.sendNowait(text: chunk) }
                recorder.buffered.append(ws.bufferedAmount)
            }
            do {
                for try await _ in ws {}
            } catch {}
            do {
                try ws.sendNowait(text: "too late")
            } catch {
                recorder.failures.append("after close")
            }
            recorder.buffered.append(ws.bufferedAmount)
            return ws
        }
    }

    @Test(arguments: ["/order", "/order-deflate"])
    func messagesGoOutInCallOrderWithoutWaiting(path: String) async throws {
        let recorder = NowaitRecorder()
        let server = try await ServerFixture.start { Self.handler(recorder) }
        let script = """
            import sys
            from websockets.sync.client import connect
            with connect(f"ws://127.0.0.1:{sys.argv[1]}{sys.argv[2]}") as ws:
                print(*[ws.recv(timeout=10) for _ in range(5)], ws.response.headers.get("Sec-WebSocket-Extensions"))
            """
        let result = try await Tool.run("python3", ["-c", script, "\(server.port)", path], seconds: 60)
        #expect(result.status == 0, "\(result.errors)")
        let compressed = path == "/order-deflate"
        #expect(result.output.hasPrefix("one two three four five \(compressed ? "permessage-deflate" : "None")"))
        // The handler sees the close after the client is gone: wait for it on the loop.
        var failures: [String] = []
        for _ in 0..<1_000 {
            failures = try await server.thread.run { _ in recorder.failures }
            if failures.count == 2 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(failures == ["before prepare", "after close"])
        await server.stop()
    }

    @Test func aClientThatNeverReadsGrowsTheBufferNotTheWait() async throws {
        let recorder = NowaitRecorder()
        let server = try await ServerFixture.start { Self.handler(recorder) }
        // Upgrade by hand, read nothing for a while, then close.
        let script = """
            import socket, sys, time
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /flood HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n")
            time.sleep(1)
            s.close()
            """
        let result = try await Tool.run("python3", ["-c", script, "\(server.port)"], seconds: 60)
        #expect(result.status == 0, "\(result.errors)")
        // Wait (on the loop) until the handler saw the connection go.
        var buffered: [Int] = []
        for _ in 0..<1_000 {
            buffered = try await server.thread.run { _ in recorder.buffered }
            if buffered.count == 2 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(buffered.count == 2)
        // 16 MiB sent; the kernel holds a few MiB at most on loopback, the rest waits here.
        #expect((buffered.first ?? 0) > 8 << 20, "\(buffered)")
        #expect(buffered.last == 0)
        await server.stop()
    }
}

import AsyncIO
import AsyncIOHTTP
import Foundation
import HTTPTypes

/// What handlers saw, written on the loop thread and read by the test.
final class Recorder: @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): every access takes `lock`.
    private let lock = NSLock()
    private var entries: [String] = []
    private var maxBuffered = 0

    func record(_ entry: String) {
        lock.lock()
        entries.append(entry)
        lock.unlock()
    }

    func noteBuffered(_ count: Int) {
        lock.lock()
        maxBuffered = max(maxBuffered, count)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return entries
    }

    var largestBuffered: Int {
        lock.lock()
        defer { lock.unlock() }
        return maxBuffered
    }

    /// Waits (up to `seconds`) until an entry satisfies `predicate`.
    func waitFor(seconds: Double = 10, _ predicate: (String) -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if all.contains(where: predicate) { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return all.contains(where: predicate)
    }
}

struct TestFailure: Error {}

/// The handler most socket tests talk to; each path does one thing.
func makeTestHandler(_ recorder: Recorder) -> Handler {
    { request in
        let path = request.rawPath
        switch path {
        case "/":
            return Response(text: "hello")
        case "/echo":
            let bytes = try await request.body.readAll()
            recorder.record("echo \(bytes.count)")
            var fields = HTTPFields()
            fields[HTTPField.Name("X-Body-Length")!] = "\(bytes.count)"
            return Response(body: bytes, headers: fields)
        case "/slow-echo":
            // Reads the body slowly, noting how much the server buffered for it meanwhile.
            var total = 0
            for try await chunk in request.body {
                total += chunk.count
                recorder.noteBuffered(request.body.bufferedCount)
                try await sleep(.milliseconds(1))
            }
            return Response(text: "\(total)")
        case "/ignore-body":
            return Response(text: "ignored")
        case "/stream":
            let response = StreamResponse()
            response.contentType = "text/plain"
            try await response.prepare(request)
            for piece in ["a", "b", "c"] { try await response.write(piece) }
            try await response.writeEOF()
            return response
        case "/throw":
            throw TestFailure()
        case "/throw-after-start":
            let response = StreamResponse()
            try await response.prepare(request)
            try await response.write("partial")
            throw TestFailure()
        case "/forbidden":
            throw HTTPError.forbidden(text: "nope")
        case "/sleep":
            recorder.record("sleeping")
            do {
                try await sleep(.seconds(60))
            } catch {
                recorder.record("sleep ended: \(type(of: error))")
                throw error
            }
            return Response(text: "woke")
        case "/gated":
            // Answers once the test records "release" (at most 20 s): a request kept in flight
            // for exactly as long as a test needs, however loaded the machine.
            recorder.record("gated started")
            for _ in 0..<4_000 where !recorder.all.contains("release") {
                try await sleep(.milliseconds(5))
            }
            return Response(text: "done")
        case "/short-sleep":
            recorder.record("short-sleep started")
            try await sleep(.milliseconds(300))
            return Response(text: "done")
        case "/read-body-then-fail":
            do {
                _ = try await request.body.readAll()
                recorder.record("body complete")
            } catch {
                recorder.record("body failed: \(error)")
                throw error
            }
            return Response(text: "read")
        case "/big":
            // 32 MB streamed; the client may not read it.
            let response = StreamResponse()
            try await response.prepare(request)
            let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
            do {
                for _ in 0..<512 {
                    try await response.write(chunk)
                    recorder.noteBuffered(request.transport.socket?.writeBufferSize ?? 0)
                }
            } catch {
                recorder.record("big write failed: \(type(of: error))")
                throw error
            }
            try await response.writeEOF()
            return response
        default:
            throw HTTPError.notFound()
        }
    }
}

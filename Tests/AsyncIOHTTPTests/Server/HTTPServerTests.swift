import AsyncIO
import AsyncIOHTTP
import Foundation
import Glibc
import Logging
import Testing

/// The server as a whole: many connections, graceful shutdown, the access log.
@Suite(.serialized) struct HTTPServerTests {
    @Test func aThousandConcurrentKeepAliveConnectionsAreServedTwice() async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start { makeTestHandler(recorder) }
        let answered = try await RawClient.onThread { try Self.manyConnections(port: server.port, count: 1000) }
        #expect(answered == [1000, 1000])
        await server.stop()
    }

    @Test func gracefulShutdownFinishesRequestsInFlightAndClosesIdleConnections() async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start { makeTestHandler(recorder) }
        let idle = try RawClient(port: server.port)
        try await idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await idle.readResponse().text == "hello")
        let busy = try (0..<5).map { _ in try RawClient(port: server.port) }
        for client in busy { try await client.send("GET /gated HTTP/1.1\r\nHost: x\r\n\r\n") }
        // Every request in flight (its handler running) before the shutdown, however loaded the machine.
        let deadline = Date().addingTimeInterval(10)
        while recorder.all.filter({ $0 == "gated started" }).count < busy.count, Date() < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        async let shutdown: Void = server.shutdown(timeout: .seconds(20))
        // The idle connection closed: the shutdown reached the server while the handlers still run.
        #expect(try await idle.isClosedByPeer())
        recorder.record("release")
        for client in busy {
            let response = try await client.readResponse()
            #expect(response.text == "done")
            #expect(response.field("Connection") == "close")
            #expect(try await client.isClosedByPeer())
        }
        try await shutdown
        #expect(throws: (any Error).self) { try RawClient(port: server.port) }
        await server.stop()
    }

    @Test func gracefulShutdownCancelsHandlersStillRunningAfterTheTimeout() async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start { makeTestHandler(recorder) }
        let client = try RawClient(port: server.port)
        try await client.send("GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await recorder.waitFor { $0 == "sleeping" })
        let started = Date()
        try await server.shutdown(timeout: .milliseconds(300))
        #expect(Date().timeIntervalSince(started) < 8)
        #expect(try await recorder.waitFor { $0 == "sleep ended: CancelledError" })
        #expect((try? await client.isClosedByPeer()) ?? true)
        await server.stop()
    }

    @Test func theAccessLogWritesAiohttpsFormat() async throws {
        let lines = Recorder()
        let logger = Logger(label: "test.access") { _ in RecordingLogHandler(recorder: lines) }
        let recorder = Recorder()
        let server = try await ServerFixture.start(accessLog: AccessLogger(logger: logger)) {
            makeTestHandler(recorder)
        }
        let client = try RawClient(port: server.port)
        try await client.send("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: tester/1.0\r\nReferer: http://r/\r\n\r\n")
        _ = try await client.readResponse()
        #expect(try await lines.waitFor { $0.contains("\"GET / HTTP/1.1\"") })
        let line = try #require(lines.all.first)
        #expect(line.hasPrefix("127.0.0.1 ["))
        #expect(line.hasSuffix("] \"GET / HTTP/1.1\" 200 5 \"http://r/\" \"tester/1.0\""))
        await server.stop()
    }

    /// Opens `count` connections, sends `GET /` on each, reads every answer, twice; returns how many
    /// were answered each round. One thread, `poll`, a 20 s deadline.
    static func manyConnections(port: Int, count: Int) throws -> [Int] {
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        for _ in 0..<count { fds.append(try RawClient.connect(port: port)) }
        var rounds: [Int] = []
        let request = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        for _ in 0..<2 {
            for fd in fds {
                guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else {
                    throw SystemError(call: "send", errno: errno)
                }
            }
            var received = [[UInt8]](repeating: [], count: count)
            var done = Set<Int>()
            let deadline = Date().addingTimeInterval(20)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while done.count < count && Date() < deadline {
                var polls = fds.enumerated().filter { !done.contains($0.offset) }.map {
                    pollfd(fd: $0.element, events: Int16(POLLIN), revents: 0)
                }
                let ready = poll(&polls, nfds_t(polls.count), 1000)
                guard ready > 0 else { continue }
                for entry in polls where entry.revents != 0 {
                    guard let index = fds.firstIndex(of: entry.fd) else { continue }
                    let got = buffer.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, 0) }
                    guard got > 0 else {
                        done.insert(index)
                        continue
                    }
                    received[index] += buffer[0..<got]
                    let text = String(decoding: received[index], as: UTF8.self)
                    if text.hasPrefix("HTTP/1.1 200 OK\r\n"), text.hasSuffix("\r\n\r\nhello") { done.insert(index) }
                }
            }
            rounds.append(
                received.filter { String(decoding: $0, as: UTF8.self).hasSuffix("\r\n\r\nhello") }.count
            )
        }
        return rounds
    }
}

/// A swift-log handler that records each message.
struct RecordingLogHandler: LogHandler {
    let recorder: Recorder
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        recorder.record(event.message.description)
    }
}

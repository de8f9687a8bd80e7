import AsyncIO
import AsyncIOHTTP
import Foundation
import Testing

/// The talk's low-level API: a `ServerHTTPProtocol` subclass with `handleRequest(message, payload)`
/// answering with `Response(transport, status, close:)`.
@Suite(.serialized) struct LowLevelAPITests {
    /// The slide's server, recording what `handleRequest` saw.
    final class SlideServer: ServerHTTPProtocol {
        let recorder: Recorder

        init(recorder: Recorder) {
            self.recorder = recorder
            super.init()
        }

        override func handleRequest(_ message: RawRequestMessage, _ payload: RequestBody) async throws {
            let body = try await payload.readAll()
            let version = "\(message.version.major).\(message.version.minor)"
            recorder.record("\(message.method) \(message.path) \(version) body=\(body.count)")
            let response = Response(transport, 200, close: message.path == "/close")
            try response.addHeader("Content-type", "text/plain")
            try response.sendHeaders()
            try await response.write("Hello world!\r\n")
            try await response.writeEOF()
        }
    }

    /// A subclass that overrides nothing: aiohttp's default `handle_request` answers 404.
    final class DefaultServer: ServerHTTPProtocol {}

    /// Misuses of `Response` that must throw, not crash.
    final class MisuseServer: ServerHTTPProtocol {
        let recorder: Recorder

        init(recorder: Recorder) {
            self.recorder = recorder
            super.init()
        }

        override func handleRequest(_ message: RawRequestMessage, _ payload: RequestBody) async throws {
            let response = Response(transport, 200)
            response.contentLength = 2
            do {
                try response.addHeader("Bad Name", "x")
            } catch {
                recorder.record("\(error)")
            }
            try response.sendHeaders()
            do {
                try response.sendHeaders()
            } catch {
                recorder.record("\(error)")
            }
            do {
                try await response.write("too long")
            } catch {
                recorder.record("\(error)")
            }
            try await response.write("ok")
            try await response.writeEOF()
            do {
                try await response.write("late")
            } catch {
                recorder.record("\(error)")
            }
        }
    }

    @Test func theSlidesServerAnswersChunkedAndKeepsOrClosesAsAsked() async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start { SlideServer(recorder: recorder) }
        let client = try RawClient(port: server.port)
        try await client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        let first = try await client.readResponse()
        #expect(first.status == 200)
        #expect(first.field("Content-type") == "text/plain")
        #expect(first.field("Transfer-Encoding") == "chunked")
        #expect(first.text == "Hello world!\r\n")
        try await client.send("GET /close HTTP/1.1\r\nHost: x\r\n\r\n")
        let second = try await client.readResponse()
        #expect(second.field("Connection") == "close")
        #expect(try await client.isClosedByPeer())
        #expect(recorder.all == ["POST /upload 1.1 body=3", "GET /close 1.1 body=0"])
        await server.stop()
    }

    @Test func theDefaultHandleRequestAnswers404() async throws {
        let server = try await ServerFixture.start { DefaultServer() }
        let client = try RawClient(port: server.port)
        try await client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try await client.readResponse()
        #expect(response.status == 404)
        #expect(response.text == "404: Not Found")
        await server.stop()
    }

    @Test func misusingAResponseThrowsTypedErrors() async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start { MisuseServer(recorder: recorder) }
        let client = try RawClient(port: server.port)
        try await client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try await client.readResponse()
        #expect(response.text == "ok")
        #expect(response.field("Content-Length") == "2")
        // The last misuse comes after the answer went out.
        #expect(try await recorder.waitFor { $0.hasPrefix("Cannot call write()") })
        #expect(
            recorder.all == [
                "invalid header field name: Bad Name",
                "the response headers were already sent",
                "the body is longer than its Content-Length (2)",
                "Cannot call write() after write_eof()",
            ]
        )
        await server.stop()
    }
}

import AsyncIO
import AsyncIOHTTP
import Foundation
import HTTPTypes
import Testing

/// A handler that takes the connection over after `101 Switching Protocols` (what WebSocket does):
/// a line protocol that upper-cases what it gets, over a raw socket.
@Suite(.serialized) struct UpgradeTests {
    static func makeApplication(_ recorder: Recorder) throws -> Application {
        let app = Application()
        try app.router.get("/shout") { request in
            guard request.headers[.upgrade] == "shout" else {
                throw HTTPError(.upgradeRequired, headers: [.upgrade: "shout"])
            }
            let response = StreamResponse(status: .switchingProtocols)
            response.headers[.upgrade] = "shout"
            response.headers[.connection] = "Upgrade"
            let connection = try response.switchProtocols(request)
            // A client that goes away cancels the handler: what must run anyway goes in a defer.
            defer { recorder.record("handler ended") }
            while let bytes = try await connection.read() {
                let text = String(decoding: bytes, as: UTF8.self)
                if text.contains("quit") { break }
                try await connection.write(Array(text.uppercased().utf8))
            }
            return response
        }
        try app.router.post("/shout") { request in
            let response = StreamResponse(status: .switchingProtocols)
            do {
                _ = try response.switchProtocols(request)
            } catch {
                return Response(text: "\(error)", status: .badRequest)
            }
            return response
        }
        try app.router.get("/wrong") { request in
            do {
                _ = try StreamResponse().switchProtocols(request)
            } catch {
                return Response(text: "\(error)", status: .badRequest)
            }
            return Response(text: "switched?")
        }
        return app
    }

    @Test func theHandlerSpeaksTheNewProtocolAndBytesSentEarlyComeFirst() async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start { try Self.makeApplication(recorder) }
        try await server.serve { server in
            let client = try RawClient(port: server.port)
            try await client.send(
                "GET /shout HTTP/1.1\r\nHost: x\r\nUpgrade: shout\r\nConnection: Upgrade\r\n\r\nearly bytes"
            )
            var received = ""
            while !received.contains("EARLY BYTES") {
                received += String(decoding: try await client.receiveSome(), as: UTF8.self)
            }
            #expect(received.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
            #expect(received.contains("\r\nUpgrade: shout\r\n"))
            #expect(received.contains("\r\nConnection: Upgrade\r\n"))
            #expect(!received.contains("Content-Length"))
            #expect(!received.contains("Transfer-Encoding"))
            #expect(received.hasSuffix("\r\n\r\nEARLY BYTES"))
            try await client.send("GET / HTTP/1.1\r\n\r\n")
            #expect(String(decoding: try await client.receiveSome(), as: UTF8.self) == "GET / HTTP/1.1\r\n\r\n")
            try await client.send("quit")
            #expect(try await client.isClosedByPeer())
            #expect(try await recorder.waitFor { $0 == "handler ended" })
        }
    }

    @Test func aClientThatVanishesEndsTheHandlersReads() async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start { try Self.makeApplication(recorder) }
        try await server.serve { server in
            let client = try RawClient(port: server.port)
            try await client.send("GET /shout HTTP/1.1\r\nHost: x\r\nUpgrade: shout\r\nConnection: Upgrade\r\n\r\nhi")
            var received = ""
            while !received.contains("HI") {
                received += String(decoding: try await client.receiveSome(), as: UTF8.self)
            }
            client.reset()
            #expect(try await recorder.waitFor { $0 == "handler ended" })
            #expect(try await server.connectionCount() == 0)
        }
    }

    @Test func switchingIsRefusedWithoutA101OrWithABody() async throws {
        let recorder = Recorder()
        let server = try await ServerFixture.start { try Self.makeApplication(recorder) }
        try await server.serve { server in
            let client = try RawClient(port: server.port)
            try await client.send("GET /wrong HTTP/1.1\r\nHost: x\r\n\r\n")
            let wrong = try await client.readResponse()
            #expect(wrong.status == 400)
            #expect(wrong.text == "cannot switch protocols: the status is 200, not 101")
            try await client.send("POST /shout HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
            let withBody = try await client.readResponse()
            #expect(withBody.status == 400)
            #expect(withBody.text == "cannot switch protocols: the request has a body")
            try await client.send("helloGET /shout HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await client.readResponse().status == 426)
        }
    }
}

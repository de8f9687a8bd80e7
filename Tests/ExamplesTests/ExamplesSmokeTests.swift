import Foundation
import Glibc
import Testing

/// Every example program, started on port 0 and talked to with a plain socket.
@Suite(.serialized) struct ExamplesSmokeTests {
    @Test func blockingEchoServerEchoesOneClientAndExitsWhenItLeaves() async throws {
        let server = try ExampleProcess("BlockingEchoServer", arguments: ["0"])
        let port = try #require(try await server.port())
        let client = try Client(port: port)
        let message = String(repeating: "echo me, all of me. ", count: 1_000)
        client.send(message)
        #expect(client.receive(message.utf8.count) == message)
        client.shutdownWrite()
        #expect(client.receiveToEOF() == "")
        let exit = try await server.waitForExit()
        #expect(exit == .exited(0))
        #expect(try await server.waitForOutput(containing: "Client connected: 127.0.0.1:"))
        #expect(try await server.waitForOutput(containing: "Client has disconnected"))
    }

    @Test func threadedUppercaseServerUppercasesASCIIOnlyForSeveralClients() async throws {
        let server = try ExampleProcess("ThreadedUppercaseServer", arguments: ["0"])
        let port = try #require(try await server.port())
        let first = try Client(port: port)
        let second = try Client(port: port)
        first.send("hello, world é\n")
        second.send("second client\n")
        #expect(second.receive(14) == "SECOND CLIENT\n")
        #expect(first.receive("hello, world é\n".utf8.count) == "HELLO, WORLD é\n")
        server.send(SIGTERM)
        let exit = try await server.waitForExit()
        #expect(exit == .signalled(SIGTERM))
    }

    @Test func loopUppercaseServerUppercasesAndStopsCleanlyOnSIGTERM() async throws {
        let server = try ExampleProcess("LoopUppercaseServer", arguments: ["0"])
        let port = try #require(try await server.port())
        let clients = try (0..<5).map { _ in try Client(port: port) }
        for (index, client) in clients.enumerated() { client.send("client \(index): abc xyz [@]\n") }
        for (index, client) in clients.enumerated() {
            let expected = "CLIENT \(index): ABC XYZ [@]\n"
            #expect(client.receive(expected.utf8.count) == expected)
        }
        clients[0].shutdownWrite()
        #expect(clients[0].receiveToEOF() == "")
        server.send(SIGTERM)
        let exit = try await server.waitForExit()
        #expect(exit == .exited(0))
    }

    @Test func protocolEchoServerEchoesAndStopsCleanlyOnSIGTERM() async throws {
        let server = try ExampleProcess("ProtocolEchoServer", arguments: ["0"])
        let port = try #require(try await server.port())
        let client = try Client(port: port)
        let message = String(repeating: "0123456789", count: 50_000)
        client.send(message)
        #expect(client.receive(message.utf8.count) == message)
        client.shutdownWrite()
        #expect(client.receiveToEOF() == "")
        #expect(try await server.waitForOutput(containing: "Connection closed None"))
        server.send(SIGTERM)
        let exit = try await server.waitForExit()
        #expect(exit == .exited(0))
        #expect(try await server.waitForOutput(containing: "Client connected"))
    }

    @Test func streamsEchoServerEchoesLinesTracksClientsAndStopsCleanly() async throws {
        let server = try ExampleProcess("StreamsEchoServer", arguments: ["0"])
        let port = try #require(try await server.port())
        let first = try Client(port: port)
        let second = try Client(port: port)
        first.send("line one\nline two\n")
        second.send("other\n")
        #expect(first.receive(18) == "line one\nline two\n")
        #expect(second.receive(6) == "other\n")
        #expect(try await server.waitForOutput(containing: "(2 connected)"))
        first.send("no newline at EOF")
        first.shutdownWrite()
        #expect(first.receiveToEOF() == "no newline at EOF")
        #expect(try await server.waitForOutput(containing: "Client done (1 connected)"))
        server.send(SIGTERM)
        let exit = try await server.waitForExit()
        #expect(exit == .exited(0))
    }

    /// Issue 12: a client whose line is over the reader's 64 KiB limit made its handler throw
    /// `LimitOverrunError` without closing the writer; its connection stayed in CLOSE-WAIT, and then
    /// `waitClosed()` never returned, so the server ignored SIGINT and SIGTERM.
    @Test(arguments: [SIGINT, SIGTERM])
    func streamsEchoServerClosesAClientWhoseLineIsTooLongAndStillStops(_ signal: Int32) async throws {
        let server = try ExampleProcess("StreamsEchoServer", arguments: ["0"])
        let port = try #require(try await server.port())
        let client = try Client(port: port)
        client.send(String(repeating: "a", count: 100_000) + "\n")
        // The server closes the connection (EOF, or a reset while the line is unread).
        #expect(client.receiveToEOF() == "")
        client.shutdownWrite()
        #expect(try await server.waitForOutput(containing: "Client done (0 connected)"))
        let other = try Client(port: port)
        other.send("still serving\n")
        #expect(other.receive(14) == "still serving\n")
        server.send(signal)
        let exit = try await server.waitForExit()
        #expect(exit == .exited(0))
        #expect(server.printed.contains("Server stopped\n"))
    }

    /// Issue 12: an error escaping `run` (here: the port is taken) crashed an example; it now ends
    /// with the error on stderr and status 1, as an uncaught Python exception does.
    @Test(arguments: ["LoopUppercaseServer", "ProtocolEchoServer", "StreamsEchoServer"])
    func anExampleWhosePortIsTakenSaysSoAndExitsWithStatusOne(_ name: String) async throws {
        let first = try ExampleProcess(name, arguments: ["0"])
        let port = try #require(try await first.port())
        let second = try ExampleProcess(name, arguments: ["\(port)"])
        let exit = try await second.waitForExit()
        #expect(exit == .exited(1))
        #expect(second.errors == "bind(127.0.0.1:\(port)): Address already in use (errno 98)\n")
        first.send(SIGTERM)
        #expect(try await first.waitForExit() == .exited(0))
    }

    /// Every mode, on the main thread's loop alone and on a group of two loops (`--loops 2`).
    @Test(arguments: ["sockets", "protocol", "streams"], ["1", "2"])
    func echoBenchEchoesInEveryModeAndExitsOnSIGTERM(_ mode: String, _ loops: String) async throws {
        let server = try ExampleProcess("EchoBench", arguments: ["--mode", mode, "--port", "0", "--loops", loops])
        let port = try #require(try await server.port())
        let clients = try (0..<20).map { _ in try Client(port: port) }
        let message = String(repeating: "x", count: 100_000)
        for client in clients { client.send(message) }
        for client in clients { #expect(client.receive(message.utf8.count) == message) }
        clients[0].shutdownWrite()
        #expect(clients[0].receiveToEOF() == "")
        server.send(SIGTERM)
        let exit = try await server.waitForExit()
        #expect(exit == .exited(0))
    }
}

// The talk's "Echo Server": an EchoProtocol and `loop.create_server`.
//
//     class EchoProtocol(asyncio.Protocol):
//         def connection_made(self, transport):
//             say('Client connected')
//             self.transport = transport
//         def data_received(self, data):
//             say('Received data:', data)
//             self.transport.write(data)
//         def connection_lost(self, exc):
//             say('Connection closed', exc)
//     f = loop.create_server(lambda: EchoProtocol(), 'localhost', 1234)
//     server = loop.run_until_complete(f)
//     say('Server started')
//     loop.run_forever()
//
// The transport writes everything it is given (it buffers what the kernel does not take at once).
// Done right where the slide cuts corners: the protocol stops reading while the transport says its
// write buffer is full (`pauseWriting`), so a client that sends without reading cannot make the
// server's memory grow without bound; the connection ends on EOF; SIGTERM/Ctrl-C stop the server.
//
// Usage: swift run ProtocolEchoServer [PORT]   (default 1234; 0 picks a free port)
import AsyncIO
import Glibc

/// Writes a line to stdout at once (unbuffered), so that a test reading the pipe sees it.
func say(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
}
let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 1234

final class EchoProtocol: ConnectionProtocol {
    var transport: (any Transport)?

    func connectionMade(_ transport: any Transport, loop: isolated EventLoop) {
        say("Client connected")
        self.transport = transport
    }

    func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {
        say("Received data: \(String(decoding: data, as: UTF8.self).debugDescription)")
        try? transport?.write(data)
    }

    func pauseWriting(loop: isolated EventLoop) { transport?.pauseReading() }

    func resumeWriting(loop: isolated EventLoop) { transport?.resumeReading() }

    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        say("Connection closed \(error.map { "\($0)" } ?? "None")")
        transport = nil
    }
}

do {
    try run { loop in
        let server = try await loop.createServer({ EchoProtocol() }, host: "127.0.0.1", port: port)
        say("Server listening on: \(try server.sockets[0].localAddress())")
        say("Server started")
        let stop = loop.createFuture(of: Void.self)
        for signal in [SIGTERM, SIGINT] {
            try loop.addSignalHandler(signal) { try? stop.setResult(()) }
        }
        try await stop.value
        server.close()
        server.closeClients()
        try await server.waitClosed()
        say("Server stopped")
    }
} catch {
    // An error escaping `run` (a port in use, say) ends the program with its message on stderr
    // and status 1, as an uncaught Python exception does; a top-level `try` would crash.
    exitProgram(reporting: error)
}

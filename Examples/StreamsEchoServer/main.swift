// The talk's "Echo Server Reloaded": streams, `readline`, and a dictionary of clients kept by
// done-callbacks.
//
//     clients = {}  # task -> (reader, writer)
//     def accept_client(client_reader, client_writer):
//         task = asyncio.Task(handle_client(client_reader, client_writer))
//         clients[task] = (client_reader, client_writer)
//         def client_done(task):
//             del clients[task]
//         task.add_done_callback(client_done)
//     @asyncio.coroutine
//     def handle_client(client_reader, client_writer):
//         while True:
//             data = (yield from client_reader.readline())
//             client_writer.write(data)
//     f = asyncio.start_server(accept_client, '127.0.0.1', 1234)
//
// Done right where the slide cuts corners: `readLine` returns an empty line at EOF, and the slide's
// loop would spin on it forever; here the client ends there, and its writer is closed however the
// client ends (`defer`), a line over 64 KiB included. `drain()` after each write keeps a client that
// does not read from growing the server's memory. SIGTERM/Ctrl-C stop the server cleanly.
//
// Usage: swift run StreamsEchoServer [PORT]   (default 1234; 0 picks a free port)
import AsyncIO
import Glibc

/// Writes a line to stdout at once (unbuffered), so that a test reading the pipe sees it.
func say(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
}
let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 1234

do {
    try run { loop in
        var clients: [ObjectIdentifier: (StreamReader, StreamWriter)] = [:]

        // handle_client: a coroutine isolated to the loop (it takes it as an isolated parameter).
        func handleClient(_ reader: StreamReader, _ writer: StreamWriter, _ loop: isolated EventLoop) async throws {
            // However the client ends (EOF, a line over 64 KiB that throws LimitOverrunError, a reset,
            // cancellation), its connection is closed: asyncio's `async with writer:` / `finally:`.
            defer { writer.close() }
            while true {
                let line = try await reader.readLine()
                if line.isEmpty { break }
                try writer.write(line)
                try await writer.drain()
            }
        }

        let server = try await loop.startServer(
            host: "127.0.0.1",
            port: port,
            acceptClient: { reader, writer in
                // accept_client: start the client's task and track it until it is done.
                let task = loop.createTask { try await handleClient(reader, writer, loop) }
                let key = ObjectIdentifier(task)
                clients[key] = (reader, writer)
                say(
                    "Client connected: \(writer.extraInfo.peerName.map { "\($0)" } ?? "?") (\(clients.count) connected)"
                )
                task.addDoneCallback { _ in
                    clients.removeValue(forKey: key)
                    say("Client done (\(clients.count) connected)")
                }
            }
        )
        say("Server listening on: \(try server.sockets[0].localAddress())")
        let stop = loop.createFuture(of: Void.self)
        for signal in [SIGTERM, SIGINT] {
            try loop.addSignalHandler(signal) { try? stop.setResult(()) }
        }
        try await stop.value
        server.close()
        for (_, writer) in clients.values { writer.close() }
        try await server.waitClosed()
        say("Server stopped")
    }
} catch {
    // An error escaping `run` (a port in use, say) ends the program with its message on stderr
    // and status 1, as an uncaught Python exception does; a top-level `try` would crash.
    exitProgram(reporting: error)
}

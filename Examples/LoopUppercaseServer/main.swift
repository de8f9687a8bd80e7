// The talk's "Scaling Up! (really?)": "Threads are too expensive … Use an event loop instead!"
//
// The threaded upper-casing server's job, done by one thread: the loop waits for every socket at
// once (epoll) and runs a task per client, with the loop's socket coroutines (`sockAccept`,
// `sockRecv`, `sockSendAll`, asyncio's `loop.sock_*`) in place of the blocking calls.
//
// Done right where the slides cut corners: `sockSendAll` sends every byte, upper-casing is
// `bytes.upper()`'s (ASCII letters only), a client ends at EOF, and SIGTERM/Ctrl-C stop the server
// cleanly (exit status 0).
//
// Usage: swift run LoopUppercaseServer [PORT]   (default 1234; 0 picks a free port)
import AsyncIO
import Glibc

/// Writes a line to stdout at once (unbuffered), so that a test reading the pipe sees it.
func say(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
}
let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 1234

/// `bytes.upper()`: a–z become A–Z, every other byte is left alone.
func upper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte }

do {
    try run { loop in
        let server = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
        try server.setReuseAddress()
        try server.bind(to: .ipv4(host: "127.0.0.1", port: port))
        try server.listen(backlog: 128)
        say("Server listening on: \(try server.localAddress())")

        // SIGTERM and SIGINT cancel the accepting task; what is left is cancelled by `run`.
        let main = currentTask()
        for signal in [SIGTERM, SIGINT] {
            try loop.addSignalHandler(signal) { main?.cancel(message: "signal \(signal)") }
        }

        do {
            while true {
                let (client, address) = try await loop.sockAccept(server)
                loop.createTask {
                    say("Client connected: \(address)")
                    defer {
                        say("Client has disconnected")
                        client.close()
                    }
                    while true {
                        let data = try await loop.sockRecv(client, maxBytes: 4096)
                        if data.isEmpty { break }
                        try await loop.sockSendAll(client, data.map(upper))
                    }
                }
            }
        } catch is CancelledError {
            server.close()
            say("Server stopped")
        }
    }
} catch {
    // An error escaping `run` (a port in use, say) ends the program with its message on stderr
    // and status 1, as an uncaught Python exception does; a top-level `try` would crash.
    exitProgram(reporting: error)
}

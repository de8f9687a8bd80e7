// The echo server the benchmark measures: uvloop's `examples/bench/echoserver.py`, in its three
// variants, on swift-asyncio.
//
//   --mode sockets   the loop's socket coroutines: `sockAccept`, then a task per client looping on
//                    `sockRecv` / `sockSendAll` (uvloop's default mode)
//   --mode protocol  an echo `ConnectionProtocol` on `createServer` (uvloop's `--proto`); it stops
//                    reading while the transport says `pauseWriting`, so a client that stops
//                    reading cannot make the server's memory grow without bound
//   --mode streams   `startServer` with a task per client looping on `reader.read` /
//                    `writer.write` / `writer.drain` (uvloop's `--streams`)
//
// It listens on 127.0.0.1 only, prints the bound address, and exits cleanly (status 0) on SIGTERM
// or SIGINT, which is how `compare.py` stops it.
//
// Usage: swift run -c release EchoBench --mode protocol --port 25000   (--port 0: a free port)
import AsyncIO
import Glibc

/// Writes a line to stdout at once (unbuffered), so that a test reading the pipe sees it.
func say(_ line: String, fd: Int32 = 1) {
    let text = line + "\n"
    _ = text.withCString { write(fd, $0, strlen($0)) }
}

enum Mode: String { case sockets, `protocol`, streams }

/// Parses `--mode` and `--port`; exits with status 2 on bad arguments.
func parseArguments() -> (mode: Mode, port: Int) {
    var mode = Mode.protocol
    var port = 25_000
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--mode":
            guard let value = arguments.popFirst(), let parsed = Mode(rawValue: value) else {
                say("--mode takes sockets, protocol or streams", fd: 2)
                exit(2)
            }
            mode = parsed
        case "--port":
            guard let value = arguments.popFirst(), let parsed = Int(value), (0...65_535).contains(parsed) else {
                say("--port takes a port number (0 for any)", fd: 2)
                exit(2)
            }
            port = parsed
        default:
            say("usage: EchoBench [--mode sockets|protocol|streams] [--port N]", fd: 2)
            exit(2)
        }
    }
    return (mode, port)
}

/// The protocol mode's echo: what arrives is written back at once; reading pauses while the
/// transport's write buffer is over its high-water mark.
final class EchoProtocol: ConnectionProtocol {
    var transport: (any Transport)?

    func connectionMade(_ transport: any Transport, loop: isolated EventLoop) { self.transport = transport }

    func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) { try? transport?.write(data) }

    func pauseWriting(loop: isolated EventLoop) { transport?.pauseReading() }

    func resumeWriting(loop: isolated EventLoop) { transport?.resumeReading() }

    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) { transport = nil }
}

/// Serves `mode` until SIGTERM or SIGINT.
func serve(_ mode: Mode, port: Int, loop: isolated EventLoop) async throws {
    let stop = loop.createFuture(of: Void.self)
    for signal in [SIGTERM, SIGINT] {
        try loop.addSignalHandler(signal) { try? stop.setResult(()) }
    }
    switch mode {
    case .protocol:
        let server = try await loop.createServer({ EchoProtocol() }, host: "127.0.0.1", port: port, backlog: 4_096)
        say("EchoBench (protocol) listening on: \(try server.sockets[0].localAddress())")
        try await stop.value
        server.close()
        server.abortClients()
    case .streams:
        let server = try await loop.startServer(host: "127.0.0.1", port: port, backlog: 4_096) { reader, writer in
            // Using `loop` makes this closure isolated to it, so it runs on the loop thread.
            _ = loop.isRunning
            while true {
                let data = try await reader.read(65_536)
                if data.isEmpty { break }
                try writer.write(data)
                try await writer.drain()
            }
            writer.close()
        }
        say("EchoBench (streams) listening on: \(try server.sockets[0].localAddress())")
        try await stop.value
        server.close()
        server.abortClients()
    case .sockets:
        let listening = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
        try listening.setReuseAddress()
        try listening.bind(to: .ipv4(host: "127.0.0.1", port: port))
        try listening.listen(backlog: 4_096)
        say("EchoBench (sockets) listening on: \(try listening.localAddress())")
        let acceptor = loop.createTask {
            while true {
                let (client, _) = try await loop.sockAccept(listening)
                try? client.setNoDelay()
                loop.createTask {
                    defer { client.close() }
                    while true {
                        let data = try await loop.sockRecv(client, maxBytes: 65_536)
                        if data.isEmpty { break }
                        try await loop.sockSendAll(client, data)
                    }
                }
            }
        }
        try await stop.value
        acceptor.cancel()
        listening.close()
    }
}

let (mode, port) = parseArguments()
do {
    try run { loop in try await serve(mode, port: port, loop: loop) }
} catch {
    say("EchoBench: \(error)", fd: 2)
    exit(1)
}

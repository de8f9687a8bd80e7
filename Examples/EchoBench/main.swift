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
//   --loops N        N loops, one thread each (an `EventLoopGroup`), each listening on the port
//                    with SO_REUSEPORT; the kernel spreads the connections (default 1: the
//                    main thread's loop alone)
//
// It listens on 127.0.0.1 only, prints the bound address, and exits cleanly (status 0) on SIGTERM
// or SIGINT, which is how `compare.py` stops it.
//
// Usage: swift run -c release EchoBench --mode protocol --port 25000 [--loops 2]   (--port 0: a free port)
import AsyncIO
import Glibc

/// Writes a line to stdout at once (unbuffered), so that a test reading the pipe sees it.
func say(_ line: String, fd: Int32 = 1) {
    let text = line + "\n"
    _ = text.withCString { write(fd, $0, strlen($0)) }
}

enum Mode: String { case sockets, `protocol`, streams }

/// Parses `--mode`, `--port` and `--loops`; exits with status 2 on bad arguments.
func parseArguments() -> (mode: Mode, port: Int, loops: Int) {
    var mode = Mode.protocol
    var port = 25_000
    var loops = 1
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
        case "--loops":
            guard let value = arguments.popFirst(), let parsed = Int(value), (1...1024).contains(parsed) else {
                say("--loops takes a number of loops (1 or more)", fd: 2)
                exit(2)
            }
            loops = parsed
        default:
            say("usage: EchoBench [--mode sockets|protocol|streams] [--port N] [--loops N]", fd: 2)
            exit(2)
        }
    }
    return (mode, port, loops)
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

/// One loop's echo server in any mode, stopped with `stop()`.
final class EchoServer {
    private let server: Server?
    private let listening: Socket?
    private let acceptor: LoopTask<Void>?
    let port: Int

    /// Starts serving `mode` on `loop`; `reusePort` when every loop of a group listens on the port.
    init(_ mode: Mode, port: Int, reusePort: Bool, loop: isolated EventLoop) async throws {
        switch mode {
        case .protocol:
            server = try await loop.createServer(
                { EchoProtocol() },
                host: "127.0.0.1",
                port: port,
                backlog: 4_096,
                reusePort: reusePort
            )
            (listening, acceptor) = (nil, nil)
        case .streams:
            server = try await loop.startServer(host: "127.0.0.1", port: port, backlog: 4_096, reusePort: reusePort) {
                reader,
                writer in
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
            (listening, acceptor) = (nil, nil)
        case .sockets:
            let listening = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            try listening.setReuseAddress()
            if reusePort { try listening.setReusePort() }
            try listening.bind(to: .ipv4(host: "127.0.0.1", port: port))
            try listening.listen(backlog: 4_096)
            acceptor = loop.createTask {
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
            self.listening = listening
            server = nil
        }
        let socket = server?.sockets[0] ?? listening!
        self.port = try socket.localAddress().port ?? port
    }

    func stop() {
        server?.close()
        server?.abortClients()
        acceptor?.cancel()
        listening?.close()
    }
}

/// Waits for SIGTERM or SIGINT on `loop`.
func waitForStopSignal(loop: isolated EventLoop) async throws {
    let stop = loop.createFuture(of: Void.self)
    for signal in [SIGTERM, SIGINT] {
        try loop.addSignalHandler(signal) { try? stop.setResult(()) }
    }
    try await stop.value
}

let (mode, port, loops) = parseArguments()
do {
    if loops == 1 {
        try run { loop in
            let server = try await EchoServer(mode, port: port, reusePort: false, loop: loop)
            say("EchoBench (\(mode)) listening on: 127.0.0.1:\(server.port)")
            try await waitForStopSignal(loop: loop)
            server.stop()
        }
    } else {
        let group = try EventLoopGroup(loopCount: loops, name: "echo-loop")
        // The main thread's loop only waits for the signal; the group's loops serve.
        try run { loop in
            let servers = try await group.startOnEveryLoop(port: port) { loop, port in
                try await EchoServer(mode, port: port, reusePort: true, loop: loop)
            } boundPort: {
                $0.port
            }
            say("EchoBench (\(mode), \(loops) loops) listening on: 127.0.0.1:\(servers.port)")
            try await waitForStopSignal(loop: loop)
            try await servers.onEachLoop { _, server in server.stop() }
        }
        group.shutdown()
    }
} catch {
    say("EchoBench: \(error)", fd: 2)
    exit(1)
}

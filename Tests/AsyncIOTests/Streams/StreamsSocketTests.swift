import AsyncIO
import AsyncIOTesting
import Glibc
import Synchronization
import Testing

/// Collects what reaches a loop's exception handler (which may be called from any thread).
final class LoopReports: Sendable {
    let messages = Mutex<[String]>([])
}

/// Reads the port a server listens on.
func boundAddress(_ server: Server) throws -> SocketAddress {
    try server.sockets[0].localAddress()
}

@Suite struct StreamsSocketTests {
    @Test func openConnectionTalksToStartServerLineByLine() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                for try await line in reader {
                    try writer.write(line.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 })
                    try await writer.drain()
                }
                writer.close()
            }
            let port = try boundAddress(server).port!
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
            events.append("peer is the server: \(writer.extraInfo.peerName?.port == port)")
            try writer.write("hello\n")
            try writer.writeLines([Array("wor".utf8), Array("ld\n".utf8)])
            try await writer.drain()
            events.append(String(decoding: try await reader.readLine(), as: UTF8.self))
            events.append(String(decoding: try await reader.readUntil(Array("D\n".utf8)), as: UTF8.self))
            events.append("canWriteEOF \(writer.canWriteEOF)")
            try writer.writeEOF()
            events.append("rest \(try await reader.read(-1))")
            events.append("atEOF \(reader.atEOF)")
            writer.close()
            events.append("closing \(writer.isClosing)")
            try await writer.waitClosed()
            server.close()
            try await server.waitClosed()
            return events
        }
        #expect(
            events == [
                "peer is the server: true", "HELLO\n", "WORLD\n", "canWriteEOF true", "rest []", "atEOF true",
                "closing true",
            ]
        )
    }

    @Test func aBlockingPeerGetsEveryLineEchoedUntilItsEOF() async throws {
        let received = try await EventLoopThread.run { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                while true {
                    let line = try await reader.readLine()
                    if line.isEmpty { break }
                    try writer.write(line)
                    try await writer.drain()
                }
                writer.close()
            }
            let peer = try await BlockingPeer.connect(to: try boundAddress(server))
            let payload = (0..<1_000).map { "line \($0)\n" }.joined()
            try await peer.send(Array(payload.utf8))
            try await peer.shutdownWrite()
            let echoed = try await peer.receiveToEOF()
            server.close()
            try await server.waitClosed()
            return String(decoding: echoed, as: UTF8.self) == payload
        }
        #expect(received)
    }

    @Test func drainWaitsForASlowReaderAndTheBufferStaysBounded() async throws {
        let (total, maxBuffered) = try await EventLoopThread.run { loop in
            let chunk = [UInt8](repeating: 0x78, count: 256 * 1024)
            var maxBuffered = 0
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { _, writer in
                for _ in 0..<32 {
                    try writer.write(chunk)
                    try await writer.drain()
                    maxBuffered = Swift.max(maxBuffered, writer.transport.writeBufferSize)
                }
                writer.close()
            }
            let peer = try await BlockingPeer.connect(to: try boundAddress(server))
            // The peer reads only after a while: the writer has to wait in drain meanwhile.
            try await sleep(.milliseconds(50))
            let received = try await peer.receiveToEOF()
            server.close()
            try await server.waitClosed()
            return (received.count, maxBuffered)
        }
        #expect(total == 32 * 256 * 1024)
        // After drain returns the buffer is at or under the high-water mark (64 KiB): drain
        // returns at once while the transport has not paused the protocol.
        #expect(maxBuffered <= 64 * 1024)
    }

    @Test func drainAndReadsReportAPeerReset() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let done = loop.createFuture(of: [String].self)
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                var seen: [String] = []
                _ = try await reader.readExactly(5)
                seen.append("read 5")
                do {
                    for _ in 0..<1_000 {
                        try writer.write([UInt8](repeating: 1, count: 65_536))
                        try await writer.drain()
                    }
                    seen.append("no error")
                } catch let error as SystemError {
                    seen.append("drain: errno \(error.errno == ECONNRESET || error.errno == EPIPE)")
                }
                do {
                    _ = try await reader.read(1)
                    seen.append("read: no error")
                } catch let error as SystemError {
                    seen.append("read: errno \(error.errno == ECONNRESET || error.errno == EPIPE)")
                }
                try? done.setResult(seen)
            }
            let peer = try await BlockingPeer.connect(to: try boundAddress(server))
            try await peer.send(Array("hello".utf8))
            try await sleep(.milliseconds(20))
            try await peer.reset()
            events = try await done.value
            server.close()
            return events
        }
        #expect(events == ["read 5", "drain: errno true", "read: errno true"])
    }

    /// As asyncio, whose `get_extra_info('peername'/'sockname')` outlive the connection while its
    /// `'socket'` reports `fileno()` -1: a closed transport's descriptor number may already belong
    /// to another connection, so `extraInfo` must not hand it out any more.
    @Test func extraInfoKeepsTheAddressesButDropsTheDescriptorOnceTheConnectionIsClosed() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                _ = try await reader.read(-1)
                writer.close()
            }
            let port = try boundAddress(server).port!
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
            let open = writer.extraInfo
            events.append(
                "open: peer is the server \(open.peerName?.port == port), descriptor \(open.fileDescriptor != nil)"
            )
            try writer.writeEOF()
            _ = try await reader.read(-1)
            writer.close()
            try await writer.waitClosed()
            let closed = writer.extraInfo
            events.append(
                "closed: same names \(closed.peerName == open.peerName && closed.socketName == open.socketName), "
                    + "descriptor \(closed.fileDescriptor.map(String.init) ?? "nil")"
            )
            server.close()
            try await server.waitClosed()
            return events
        }
        #expect(
            events == [
                "open: peer is the server true, descriptor true", "closed: same names true, descriptor nil",
            ]
        )
    }

    @Test func aFailingClientTaskClosesItsConnectionAndReportsTheError() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let reported = LoopReports()
            loop.setExceptionHandler { _, context in
                reported.messages.withLock { $0.append("\(context.message): \(context.error.map { "\($0)" } ?? "-")") }
            }
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, _ in
                _ = try await reader.readExactly(1)
                throw StreamFailure()
            }
            let (reader, writer) = try await loop.openConnection(
                host: "127.0.0.1",
                port: try boundAddress(server).port!
            )
            try writer.write("x")
            events.append("client got \(try await reader.read(-1)) then EOF \(reader.atEOF)")
            events += reported.messages.withLock { $0 }
            writer.close()
            server.close()
            try await server.waitClosed()
            return events
        }
        #expect(
            events == ["client got [] then EOF true", "Unhandled exception in client_connected_cb: StreamFailure()"]
        )
    }

    /// Issue 12: a handler that ends without closing its writer (here it throws `LimitOverrunError`
    /// on a 100 000-byte line) left its connection in CLOSE-WAIT once the client hung up, and
    /// `Server.waitClosed()` never returned. Its released writer now closes the connection, for
    /// both kinds of client callback.
    @Test(arguments: ["task", "callback"])
    func aHandlerThatEndsWithoutClosingItsWriterStillClosesTheConnection(kind: String) async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            loop.setExceptionHandler { _, _ in }
            func handle(_ reader: StreamReader, _ writer: StreamWriter, loop: isolated EventLoop) async throws {
                _ = try await reader.readLine()
                try writer.write("never sent\n")
            }
            var handlers: [ObjectIdentifier: (StreamReader, StreamWriter)] = [:]
            let server =
                kind == "task"
                ? try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                    // Returns normally: a failing task closed its connection already.
                    try? await handle(reader, writer, loop: loop)
                }
                : try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                    // The talk's shape: keep the pair while the client's task runs.
                    let task = loop.createTask { try await handle(reader, writer, loop: loop) }
                    handlers[ObjectIdentifier(task)] = (reader, writer)
                    task.addDoneCallback { handlers[ObjectIdentifier($0)] = nil }
                }
            let (reader, writer) = try await loop.openConnection(
                host: "127.0.0.1",
                port: try boundAddress(server).port!
            )
            try writer.write([UInt8](repeating: UInt8(ascii: "a"), count: 100_000) + [UInt8(ascii: "\n")])
            try await writer.drain()
            // The server ends the connection without a word: EOF, or a reset if it closed with the
            // line still unread.
            do {
                let rest = try await timeout(.seconds(10)) { _ in try await reader.read(-1) }
                events.append("server hung up: \(rest.isEmpty)")
            } catch let error as SystemError {
                events.append("server hung up: \(error.errno == ECONNRESET)")
            } catch {
                events.append("server hung up: \(error)")
            }
            writer.close()
            server.close()
            do {
                try await timeout(.seconds(10)) { _ in try await server.waitClosed() }
                events.append("waitClosed returned")
            } catch {
                events.append("waitClosed: \(error)")
            }
            return events
        }
        #expect(events == ["server hung up: true", "waitClosed returned"])
    }

    @Test func forAwaitOverLinesInAClientCallbackThatIsNotLoopIsolated() async throws {
        // Regression: the callback below does not capture `loop`, so it is not isolated to it and
        // `for try await` passes a nil isolation to the iterator; 20 clients used to hang forever.
        let echoed = try await EventLoopThread.run { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                for try await line in reader { try writer.write(line) }
                writer.close()
            }
            let port = try boundAddress(server).port!
            var tasks: [LoopTask<[UInt8]>] = []
            for _ in 0..<20 {
                tasks.append(
                    loop.createTask {
                        _ = loop.time
                        let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                        try writer.write("x\n")
                        defer { writer.close() }
                        return try await reader.readLine()
                    }
                )
            }
            var echoed = 0
            for task in tasks where try await task.value == Array("x\n".utf8) { echoed += 1 }
            server.close()
            return echoed
        }
        #expect(echoed == 20)
    }

    @Test func unixServerAndConnection() async throws {
        let path = "/tmp/asyncio-streams-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let line = try await EventLoopThread.run { loop in
            let server = try await loop.startUnixServer(path: path) { reader, writer in
                try writer.write(try await reader.readLine())
                try await writer.drain()
                writer.close()
            }
            let (reader, writer) = try await loop.openUnixConnection(path: path)
            try writer.write("over unix\n")
            let line = try await reader.readLine()
            writer.close()
            server.close()
            try await server.waitClosed()
            return String(decoding: line, as: UTF8.self)
        }
        #expect(line == "over unix\n")
    }

    /// asyncio's `start_server`/`open_connection` (and the Unix forms) pass their keyword arguments
    /// on to `create_server`/`create_connection`, so they take a socket made elsewhere (`sock=`:
    /// inherited, pre-bound, socket-activated) and `interleave=`.
    @Test func streamsServeAndConnectOverSocketsMadeElsewhere() async throws {
        let path = "/tmp/asyncio-streams-sock-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let lines = try await EventLoopThread.run { loop in
            var lines: [String] = []
            let echo: (StreamReader, StreamWriter) async throws -> Void = { reader, writer in
                try writer.write(try await reader.readLine())
                writer.close()
            }
            let stream = Int32(SOCK_STREAM.rawValue)
            let tcpListener = try Socket(family: AF_INET, type: stream)
            try tcpListener.bind(to: .ipv4(host: "127.0.0.1", port: 0))
            try tcpListener.listen()
            let tcpServer = try await loop.startServer(socket: tcpListener, clientConnected: echo)
            let unixListener = try Socket(family: AF_UNIX, type: stream)
            try unixListener.bind(to: .unix(path: path))
            try unixListener.listen()
            let unixServer = try await loop.startUnixServer(socket: unixListener, clientConnected: echo)

            let tcpClient = try Socket(family: AF_INET, type: stream)
            try await loop.sockConnect(tcpClient, to: try boundAddress(tcpServer))
            let unixClient = try Socket(family: AF_UNIX, type: stream)
            try await loop.sockConnect(unixClient, to: .unix(path: path))
            let port = try boundAddress(tcpServer).port!
            for (reader, writer) in [
                try await loop.openConnection(socket: tcpClient),
                try await loop.openUnixConnection(socket: unixClient),
                try await loop.openConnection(host: "127.0.0.1", port: port, interleave: 1),
            ] {
                try writer.write("over \(writer.extraInfo.peerName?.port == nil ? "unix" : "tcp")\n")
                lines.append(String(decoding: try await reader.readLine(), as: UTF8.self))
                writer.close()
            }
            tcpServer.close()
            unixServer.close()
            try await tcpServer.waitClosed()
            try await unixServer.waitClosed()
            return lines
        }
        unlink(path)
        #expect(lines == ["over tcp\n", "over unix\n", "over tcp\n"])
    }

    /// As asyncio 3.13's `cleanup_socket`: closing a Unix server removes its socket file, also when
    /// the listening socket was passed in, but only while the file is the one it bound (asyncio
    /// compares inodes): a successor started at the same path keeps its file when the old one closes.
    @Test func closingAUnixServerRemovesItsOwnSocketFileOnly() async throws {
        let path = "/tmp/asyncio-streams-file-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let old = try await loop.startUnixServer(path: path) { _, writer in writer.close() }
            let successor = try await loop.startUnixServer(path: path) { _, writer in writer.close() }
            old.close()
            try await old.waitClosed()
            events.append("the old server closed: file \(access(path, F_OK) == 0)")
            successor.close()
            try await successor.waitClosed()
            events.append("its successor closed: file \(access(path, F_OK) == 0)")
            let listening = try Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue))
            try listening.bind(to: .unix(path: path))
            try listening.listen()
            let server = try await loop.startUnixServer(socket: listening) { _, writer in writer.close() }
            server.close()
            try await server.waitClosed()
            events.append("a server on a passed socket closed: file \(access(path, F_OK) == 0)")
            return events
        }
        unlink(path)
        #expect(
            events == [
                "the old server closed: file true", "its successor closed: file false",
                "a server on a passed socket closed: file false",
            ]
        )
    }

    /// The server's client tasks are isolated to the loop (`echoLines` takes it as an isolated
    /// parameter). With a task body isolated to nothing, the same test lost wake-ups from about
    /// 1 000 clients on (see `forAwaitOverLinesInAClientCallbackThatIsNotLoopIsolated` and #2).
    @Test func twoThousandConcurrentClientsEchoThroughOneLoop() async throws {
        let (ok, peakClients, clientsLeft) = try await Self.echoThroughOneLoop(clients: 2_000)
        #expect(ok)
        #expect(peakClients > 1)
        #expect(clientsLeft == 0)
    }

    /// The per-client coroutines here never mention the loop, so they are not isolated to it: each
    /// await moves the task between nonisolated and loop-isolated code. (Before the loop ran such
    /// executor hops at once, a wake-up arriving mid-hop was lost and clients hung.)
    @Test func twoThousandClientsEchoThroughCoroutinesNotIsolatedToTheLoop() async throws {
        let allOK = try await EventLoopThread.run { loop in
            let server = try await loop.startServer(host: "127.0.0.1", port: 0, backlog: 2_048) { reader, writer in
                for try await line in reader {
                    try writer.write(line)
                    try await writer.drain()
                }
                writer.close()
            }
            let port = try boundAddress(server).port!
            var tasks: [LoopTask<Bool>] = []
            for client in 0..<2_000 {
                tasks.append(
                    loop.createTask {
                        let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                        let line = Array("client \(client)\n".utf8)
                        try writer.write(line)
                        let echoed = try await reader.readLine()
                        writer.close()
                        try await writer.waitClosed()
                        return echoed == line
                    }
                )
            }
            var allOK = true
            for task in tasks { allOK = try await task.value && allOK }
            server.close()
            try await server.waitClosed()
            return allOK
        }
        #expect(allOK)
    }

    /// Echoes lines until EOF, then closes; isolated to the loop by its parameter.
    static func echoLines(_ reader: StreamReader, _ writer: StreamWriter, _ loop: isolated EventLoop) async throws {
        for try await line in reader {
            try writer.write(line)
            try await writer.drain()
        }
        writer.close()
    }

    /// The talk's "Echo Server Reloaded" (clients tracked by done-callbacks) and `count` clients on
    /// one loop, each echoing three lines. Returns (all echoed, peak tracked clients, clients left).
    static func echoThroughOneLoop(clients count: Int) async throws -> (Bool, Int, Int) {
        try await EventLoopThread.run { loop in
            var clients: [ObjectIdentifier: (StreamReader, StreamWriter)] = [:]
            var peakClients = 0
            let server = try await loop.startServer(host: "127.0.0.1", port: 0, backlog: 2_048) { reader, writer in
                let task = loop.createTask { try await Self.echoLines(reader, writer, loop) }
                let key = ObjectIdentifier(task)
                clients[key] = (reader, writer)
                peakClients = Swift.max(peakClients, clients.count)
                task.addDoneCallback { _ in clients.removeValue(forKey: key) }
            }
            let port = try boundAddress(server).port!
            var tasks: [LoopTask<Bool>] = []
            for client in 0..<count {
                tasks.append(
                    loop.createTask {
                        _ = loop.time
                        let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
                        var ok = true
                        for round in 0..<3 {
                            let line = Array("client \(client) round \(round)\n".utf8)
                            try writer.write(line)
                            let echoed = try await reader.readLine()
                            ok = ok && echoed == line
                        }
                        writer.close()
                        try await writer.waitClosed()
                        return ok
                    }
                )
            }
            var allOK = true
            for task in tasks { allOK = try await task.value && allOK }
            server.close()
            try await server.waitClosed()
            // Done-callbacks run one iteration after the tasks end.
            for _ in 0..<10 where !clients.isEmpty { try await sleep(.zero) }
            return (allOK, peakClients, clients.count)
        }
    }
}

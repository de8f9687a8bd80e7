import AsyncIO
import Glibc
import Logging

/// The line protocol on TCP (`nc 127.0.0.1 8023`): the talk's "Echo Server Reloaded" grown up, on
/// `startServer` and `readLine`.
///
/// `/nick NAME`, `/join ROOM`, `/leave [ROOM]`, `/who [ROOM]`, `/rooms`, `/help`, `/quit`; other
/// lines are messages to the current room (the last joined). Lines end with `\n` (a `\r` before it
/// is dropped) and are UTF-8. A line over the reader's 64 KiB limit disconnects the client; a
/// message over the message limit is refused with a reason.
public final class LineServer {
    let hub: ChatHub
    let logger: Logger
    private var server: Server?
    /// The reader's limit: a line longer than this is not a message but an attack.
    static let lineLimit = 64 * 1024
    /// The kernel's send buffer of each connection (it doubles it for its bookkeeping).
    static let kernelSendBuffer = 64 * 1024

    public init(hub: ChatHub, logger: Logger) {
        self.hub = hub
        self.logger = logger
    }

    /// The port it listens on (0 before `start`).
    public var port: Int {
        guard let address = try? server?.sockets.first?.localAddress() else { return 0 }
        return address.port ?? 0
    }

    /// Starts listening on `host`:`port`.
    public func start(host: String?, port: Int, reusePort: Bool, loop: isolated EventLoop) async throws {
        server = try await loop.startServer(
            host: host,
            port: port,
            limit: Self.lineLimit,
            backlog: 1024,
            reusePort: reusePort,
            acceptClient: { [self] reader, writer in accept(reader, writer, loop: loop) }
        )
    }

    /// Stops accepting (clients are closed by the hub).
    public func close() {
        server?.close()
    }

    private func accept(_ reader: StreamReader, _ writer: StreamWriter, loop: isolated EventLoop) {
        let address = writer.extraInfo.peerName?.host ?? "?"
        guard hub.admit(address: address) else {
            try? writer.write("ERR too many connections from \(address); try again in a few seconds\n")
            writer.close()
            return
        }
        // The kernel would otherwise grow the send buffer to megabytes (autotuning) before our own
        // limit could see a client that does not read.
        if let descriptor = writer.extraInfo.fileDescriptor {
            var size = Int32(Self.kernelSendBuffer)
            setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        let connection = LineConnection(writer: writer, maxOutgoingBytes: hub.limits.maxOutgoingBytes)
        let client = hub.register(address: address, kind: .line, connection: connection)
        loop.createTask { [self] in await serve(client, reader) }
    }

    /// Reads the client's lines until it quits, is cut off, or goes.
    private func serve(_ client: ChatClient, _ reader: StreamReader) async {
        var reason = "quit"
        while !client.isClosing {
            let bytes: [UInt8]
            do {
                bytes = try await reader.readLine()
            } catch AsyncIOError.limitOverrun {
                reason = "line over \(Self.lineLimit / 1024) KiB"
                client.close(reason: reason)
                break
            } catch {
                reason = "connection lost"
                break
            }
            if bytes.isEmpty {
                reason = "disconnected"
                break
            }
            var line = bytes[...]
            if line.last == UInt8(ascii: "\n") { line = line.dropLast() }
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            guard let text = String(validating: line, as: UTF8.self) else {
                client.send(Reply(.error, text: "not UTF-8; line ignored"))
                continue
            }
            await hub.handle(ClientCommand(line: text), from: client)
        }
        await hub.disconnected(client, reason: reason)
    }
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

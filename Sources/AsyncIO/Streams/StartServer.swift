import CAsyncIOShims
import Glibc

// MARK: - Servers

extension EventLoop {
    /// Starts a TCP server that runs `clientConnected` as a task for every client, with the
    /// client's `StreamReader` and `StreamWriter`.
    ///
    /// The task is a `LoopTask` created when the connection is made. When it ends by cancellation
    /// or with an error, the connection is closed (and the error goes to the loop's exception
    /// handler), as in asyncio 3.12+. When it returns, the connection stays open only if the writer
    /// is still held somewhere (handed to another task, say): a released `StreamWriter` closes its
    /// transport, as in Python 3.13. Close the writer when done, or `defer { writer.close() }`.
    ///
    /// ```swift
    /// let server = try await loop.startServer(host: "127.0.0.1", port: 8888) { reader, writer in
    ///     for try await line in reader { try writer.write(line) }
    ///     writer.close()
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - host, port, family, socket, backlog, reuseAddress, reusePort, startServing: as
    ///     `createServer` (`socket`: a listening socket made elsewhere, asyncio's `sock=`).
    ///   - limit: each reader's buffer limit (64 KiB).
    ///   - clientConnected: the per-client coroutine, run as a `LoopTask` on the loop thread.
    /// - Returns: the `Server`.
    /// - Throws: what `createServer` throws. Mirrors `asyncio.start_server(client_connected_cb, …)`,
    ///   as a loop method (deviation: asyncio's is a module function using the running loop).
    public func startServer(
        host: String? = nil,
        port: Int = 0,
        family: Int32 = AF_UNSPEC,
        socket: Socket? = nil,
        limit: Int = StreamReader.defaultLimit,
        backlog: Int = 100,
        reuseAddress: Bool = true,
        reusePort: Bool = false,
        startServing: Bool = true,
        clientConnected: @escaping (StreamReader, StreamWriter) async throws -> Void
    ) async throws -> Server {
        let factory = try Self.streamProtocolFactory(limit: limit, .task(clientConnected))
        return try await createServer(
            factory,
            host: host,
            port: port,
            family: family,
            socket: socket,
            backlog: backlog,
            reuseAddress: reuseAddress,
            reusePort: reusePort,
            startServing: startServing
        )
    }

    /// Starts a TCP server that calls `acceptClient` (a plain function) for every client.
    ///
    /// asyncio's `start_server` also takes a plain callback, which typically starts a task of its
    /// own and keeps track of it — the talk's "Echo Server Reloaded" does exactly that. The
    /// callback runs synchronously on the loop, in `connectionMade`. Keep the writer for as long as
    /// the connection should stay open: once nothing holds it, it closes the connection.
    ///
    /// - Throws: what `createServer` throws. Mirrors `asyncio.start_server(accept_client, …)`.
    public func startServer(
        host: String? = nil,
        port: Int = 0,
        family: Int32 = AF_UNSPEC,
        socket: Socket? = nil,
        limit: Int = StreamReader.defaultLimit,
        backlog: Int = 100,
        reuseAddress: Bool = true,
        reusePort: Bool = false,
        startServing: Bool = true,
        acceptClient: @escaping (StreamReader, StreamWriter) -> Void
    ) async throws -> Server {
        let factory = try Self.streamProtocolFactory(limit: limit, .callback(acceptClient))
        return try await createServer(
            factory,
            host: host,
            port: port,
            family: family,
            socket: socket,
            backlog: backlog,
            reuseAddress: reuseAddress,
            reusePort: reusePort,
            startServing: startServing
        )
    }

    /// Starts a Unix domain socket server at `path`, or on the listening Unix `socket`; see
    /// `startServer(host:port:…)`.
    ///
    /// - Throws: what `createUnixServer` throws. Mirrors `asyncio.start_unix_server()`.
    public func startUnixServer(
        path: String? = nil,
        socket: Socket? = nil,
        limit: Int = StreamReader.defaultLimit,
        backlog: Int = 100,
        startServing: Bool = true,
        clientConnected: @escaping (StreamReader, StreamWriter) async throws -> Void
    ) async throws -> Server {
        let factory = try Self.streamProtocolFactory(limit: limit, .task(clientConnected))
        return try await createUnixServer(
            factory,
            path: path,
            socket: socket,
            backlog: backlog,
            startServing: startServing
        )
    }

    private static func streamProtocolFactory(
        limit: Int,
        _ clientConnected: StreamReaderProtocol.ClientConnected
    ) throws -> () -> StreamReaderProtocol {
        // Validate the limit once, up front, rather than in every connection.
        _ = try StreamReader(limit: limit)
        return { StreamReaderProtocol(StreamReader(validLimit: limit), clientConnected: clientConnected) }
    }
}

// MARK: - Clients

extension EventLoop {
    /// Connects to `host`:`port` (or wraps the connected `socket`) and returns the connection's
    /// reader and writer.
    ///
    /// - Parameters:
    ///   - host, port, family, socket, localAddress, happyEyeballsDelay, interleave: as
    ///     `createConnection` (`socket`: a connected socket made elsewhere, asyncio's `sock=`).
    ///   - limit: the reader's buffer limit (64 KiB).
    /// - Returns: `(reader, writer)`.
    /// - Throws: what `createConnection` throws; `AsyncIOError.invalidArgument` for a bad limit.
    ///   Mirrors `asyncio.open_connection()`, as a loop method.
    public func openConnection(
        host: String? = nil,
        port: Int? = nil,
        family: Int32 = AF_UNSPEC,
        socket: Socket? = nil,
        limit: Int = StreamReader.defaultLimit,
        localAddress: (host: String, port: Int)? = nil,
        happyEyeballsDelay: Duration? = nil,
        interleave: Int? = nil
    ) async throws -> (StreamReader, StreamWriter) {
        let reader = try StreamReader(limit: limit)
        let streamProtocol = StreamReaderProtocol(reader)
        let (transport, _) = try await createConnection(
            { streamProtocol },
            host: host,
            port: port,
            family: family,
            socket: socket,
            localAddress: localAddress,
            happyEyeballsDelay: happyEyeballsDelay,
            interleave: interleave
        )
        return (reader, StreamWriter(transport: transport, protocol: streamProtocol, reader: reader))
    }

    /// Connects to the Unix domain socket at `path` (or wraps the connected `socket`); see
    /// `openConnection(host:port:)`.
    ///
    /// - Throws: what `createUnixConnection` throws. Mirrors `asyncio.open_unix_connection()`.
    public func openUnixConnection(
        path: String? = nil,
        socket: Socket? = nil,
        limit: Int = StreamReader.defaultLimit
    ) async throws -> (StreamReader, StreamWriter) {
        let reader = try StreamReader(limit: limit)
        let streamProtocol = StreamReaderProtocol(reader)
        let (transport, _) = try await createUnixConnection({ streamProtocol }, path: path, socket: socket)
        return (reader, StreamWriter(transport: transport, protocol: streamProtocol, reader: reader))
    }
}

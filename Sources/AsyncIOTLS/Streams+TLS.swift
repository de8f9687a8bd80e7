import AsyncIO
import Glibc

extension EventLoop {
    /// Connects to `host`:`port` over TLS and returns the connection's reader and writer, once the
    /// handshake is done.
    ///
    /// ```swift
    /// let context = try TLSContext(.client(trustRoots: .file("ca.pem")))
    /// let (reader, writer) = try await loop.openConnection(host: "localhost", port: 8443, tls: context)
    /// ```
    ///
    /// - Parameters: as `createConnection(_:host:port:tls:…)`; `limit` as `openConnection(host:port:)`.
    /// - Throws: what `createConnection(_:host:port:tls:…)` throws; `AsyncIOError.invalidArgument`
    ///   for a bad limit. Mirrors `asyncio.open_connection(host, port, ssl=context, …)`.
    public func openConnection(
        host: String? = nil,
        port: Int? = nil,
        tls context: TLSContext,
        serverHostname: String? = nil,
        family: Int32 = AF_UNSPEC,
        socket: Socket? = nil,
        limit: Int = StreamReader.defaultLimit,
        localAddress: (host: String, port: Int)? = nil,
        happyEyeballsDelay: Duration? = nil,
        interleave: Int? = nil,
        handshakeTimeout: Duration? = nil,
        shutdownTimeout: Duration? = nil
    ) async throws -> (StreamReader, StreamWriter) {
        let reader = try StreamReader(limit: limit)
        let streamProtocol = StreamReaderProtocol(reader)
        let (transport, _) = try await createConnection(
            { streamProtocol },
            host: host,
            port: port,
            tls: context,
            serverHostname: serverHostname,
            family: family,
            socket: socket,
            localAddress: localAddress,
            happyEyeballsDelay: happyEyeballsDelay,
            interleave: interleave,
            handshakeTimeout: handshakeTimeout,
            shutdownTimeout: shutdownTimeout
        )
        return (reader, StreamWriter(transport: transport, protocol: streamProtocol, reader: reader))
    }

    /// Starts a TLS server that runs `clientConnected` as a task for every client whose handshake
    /// succeeded, with its `StreamReader` and `StreamWriter`.
    ///
    /// ```swift
    /// let context = try TLSContext(.server(certificateChainFile: "cert.pem", privateKeyFile: "key.pem"))
    /// let server = try await loop.startServer(host: "127.0.0.1", port: 8443, tls: context) { reader, writer in
    ///     for try await line in reader { try writer.write(line) }
    ///     writer.close()
    /// }
    /// ```
    ///
    /// - Parameters: as `startServer(host:port:…clientConnected:)`; `tls`, `handshakeTimeout` and
    ///   `shutdownTimeout` as `createServer(_:host:port:tls:…)`.
    /// - Throws: what `createServer(_:host:port:tls:…)` throws.
    ///   Mirrors `asyncio.start_server(client_connected_cb, host, port, ssl=context, …)`.
    public func startServer(
        host: String? = nil,
        port: Int = 0,
        tls context: TLSContext,
        family: Int32 = AF_UNSPEC,
        socket: Socket? = nil,
        limit: Int = StreamReader.defaultLimit,
        backlog: Int = 100,
        reuseAddress: Bool = true,
        reusePort: Bool = false,
        startServing: Bool = true,
        handshakeTimeout: Duration? = nil,
        shutdownTimeout: Duration? = nil,
        clientConnected: @escaping (StreamReader, StreamWriter) async throws -> Void
    ) async throws -> Server {
        _ = try StreamReader(limit: limit)
        return try await createServer(
            { StreamReaderProtocol(Self.reader(limit), clientConnected: clientConnected) },
            host: host,
            port: port,
            tls: context,
            family: family,
            socket: socket,
            backlog: backlog,
            reuseAddress: reuseAddress,
            reusePort: reusePort,
            startServing: startServing,
            handshakeTimeout: handshakeTimeout,
            shutdownTimeout: shutdownTimeout
        )
    }

    /// Starts a TLS server that calls `acceptClient` (a plain function) for every client whose
    /// handshake succeeded; see `startServer(host:port:tls:…clientConnected:)`.
    ///
    /// - Throws: what `createServer(_:host:port:tls:…)` throws.
    ///   Mirrors `asyncio.start_server(accept_client, host, port, ssl=context, …)`.
    public func startServer(
        host: String? = nil,
        port: Int = 0,
        tls context: TLSContext,
        family: Int32 = AF_UNSPEC,
        socket: Socket? = nil,
        limit: Int = StreamReader.defaultLimit,
        backlog: Int = 100,
        reuseAddress: Bool = true,
        reusePort: Bool = false,
        startServing: Bool = true,
        handshakeTimeout: Duration? = nil,
        shutdownTimeout: Duration? = nil,
        acceptClient: @escaping (StreamReader, StreamWriter) -> Void
    ) async throws -> Server {
        _ = try StreamReader(limit: limit)
        return try await createServer(
            { StreamReaderProtocol(Self.reader(limit), acceptClient: acceptClient) },
            host: host,
            port: port,
            tls: context,
            family: family,
            socket: socket,
            backlog: backlog,
            reuseAddress: reuseAddress,
            reusePort: reusePort,
            startServing: startServing,
            handshakeTimeout: handshakeTimeout,
            shutdownTimeout: shutdownTimeout
        )
    }

    /// A reader with a limit checked before (the fallback cannot happen).
    private static func reader(_ limit: Int) -> StreamReader {
        (try? StreamReader(limit: limit)) ?? StreamReader()
    }
}

extension StreamWriter {
    /// Upgrades this stream's connection to TLS (STARTTLS): after the handshake, the writer and
    /// its reader go through TLS.
    ///
    /// Drains first. The side of the handshake is the context's role (a server's connection needs
    /// a server context). Bytes the reader had already buffered stay there, as in asyncio: read
    /// the plaintext protocol's last reply before calling this.
    ///
    /// ```swift
    /// try writer.write("STARTTLS\r\n")
    /// _ = try await reader.readLine()            // "220 Go ahead"
    /// try await writer.startTLS(context, serverHostname: "mail.example")
    /// ```
    ///
    /// - Throws: what `EventLoop.startTLS` throws. Mirrors `StreamWriter.start_tls(sslcontext, *,
    ///   server_hostname=None, ssl_handshake_timeout=None, ssl_shutdown_timeout=None)`.
    public func startTLS(
        _ context: TLSContext,
        serverHostname: String? = nil,
        handshakeTimeout: Duration? = nil,
        shutdownTimeout: Duration? = nil
    ) async throws {
        try await upgradeTransport { transport, streamProtocol in
            try await transport.loop.startTLS(
                transport,
                protocol: streamProtocol,
                tls: context,
                serverHostname: serverHostname,
                handshakeTimeout: handshakeTimeout,
                shutdownTimeout: shutdownTimeout
            )
        }
    }
}

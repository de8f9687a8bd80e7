import AsyncIO
import Glibc

// MARK: - Protocols and transports

extension EventLoop {
    /// Opens a TCP connection to `host`:`port`, does the TLS handshake, and connects a protocol
    /// made by `protocolFactory` to the plaintext side.
    ///
    /// The protocol's `connectionMade` is called once the handshake is done, with a
    /// ``TLSTransport``; this returns after that. A failed handshake closes the connection and
    /// throws; the protocol then gets no callback at all.
    ///
    /// - Parameters:
    ///   - tls: the client context (trust, verification, ALPN).
    ///   - serverHostname: the name sent as SNI and checked against the certificate; defaults to
    ///     `host`, and is required with `socket` and full verification.
    ///   - handshakeTimeout: 60 s by default; then `TLSError.handshakeTimeout`.
    ///   - shutdownTimeout: how long `close()` waits for the peer's close_notify (30 s by default).
    ///   - the others: as `createConnection(_:host:port:…)`.
    /// - Returns: the TLS transport and the protocol.
    /// - Throws: what `createConnection` throws; `TLSError.certificateVerificationFailed`,
    ///   `.handshakeFailed`, `.closedDuringHandshake`, `.handshakeTimeout`; `TLSError.configuration`
    ///   for a server context or a missing host name.
    /// Mirrors `loop.create_connection(…, ssl=context, server_hostname=…, ssl_handshake_timeout=…,
    /// ssl_shutdown_timeout=…)`.
    public func createConnection<P: StreamingProtocol>(
        _ protocolFactory: @escaping () -> P,
        host: String? = nil,
        port: Int? = nil,
        tls context: TLSContext,
        serverHostname: String? = nil,
        family: Int32 = AF_UNSPEC,
        socket: Socket? = nil,
        localAddress: (host: String, port: Int)? = nil,
        happyEyeballsDelay: Duration? = nil,
        interleave: Int? = nil,
        handshakeTimeout: Duration? = nil,
        shutdownTimeout: Duration? = nil
    ) async throws -> (any Transport, P) {
        let (proto, tls) = try makeClientTLS(
            protocolFactory,
            context: context,
            serverHostname: serverHostname ?? host,
            handshakeTimeout: handshakeTimeout,
            shutdownTimeout: shutdownTimeout
        )
        let (transport, _) = try await createConnection(
            { tls },
            host: host,
            port: port,
            family: family,
            socket: socket,
            localAddress: localAddress,
            happyEyeballsDelay: happyEyeballsDelay,
            interleave: interleave
        )
        return (try await Self.waitForHandshake(tls, over: transport), proto)
    }

    /// Creates a TLS server: `createServer` whose connections do the server's side of the
    /// handshake before their protocol (made by `protocolFactory` at accept time) gets
    /// `connectionMade`.
    ///
    /// A client that fails the handshake (wrong version, no common cipher, not TLS at all, too
    /// slow) is dropped and logged at debug level; the server goes on.
    ///
    /// - Parameters:
    ///   - tls: the server context (certificate, key, ALPN).
    ///   - handshakeTimeout, shutdownTimeout: as `createConnection(_:host:port:tls:…)`.
    ///   - the others: as `createServer(_:host:port:…)`.
    /// - Throws: what `createServer` throws; `TLSError.configuration` for a client context.
    /// Mirrors `loop.create_server(…, ssl=context, ssl_handshake_timeout=…, ssl_shutdown_timeout=…)`.
    public func createServer<P: StreamingProtocol>(
        _ protocolFactory: @escaping () -> P,
        host: String? = nil,
        port: Int = 0,
        tls context: TLSContext,
        family: Int32 = AF_UNSPEC,
        socket: Socket? = nil,
        backlog: Int = 100,
        reuseAddress: Bool = true,
        reusePort: Bool = false,
        startServing: Bool = true,
        handshakeTimeout: Duration? = nil,
        shutdownTimeout: Duration? = nil
    ) async throws -> Server {
        guard context.configuration.role == .server else {
            throw TLSError.configuration("createServer needs a server context")
        }
        guard StreamReceiver(protocolFactory()) != nil else {
            throw TransportError.invalidValue(
                "\(P.self) is neither a ConnectionProtocol nor a BufferedConnectionProtocol"
            )
        }
        return try await createServer(
            { ServerTLSProtocol.make(context, protocolFactory(), handshakeTimeout, shutdownTimeout) },
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

    /// Upgrades the live connection of `transport` to TLS (STARTTLS): `proto` gets the plaintext
    /// side once the handshake is done.
    ///
    /// `transport` hands its callbacks to the TLS layer (`Transport.setProtocol(_:)`) and must not
    /// be used any more; the returned ``TLSTransport`` replaces it. `proto`'s `connectionMade` is
    /// not called (it is already connected; asyncio's `start_tls` does not call it either): keep
    /// the returned transport. The side of the handshake is the context's role.
    ///
    /// - Throws: `TransportError.notSupported` for a transport that cannot switch protocols;
    ///   the `TLSError`s of `createConnection(_:host:port:tls:…)`.
    /// Mirrors `loop.start_tls(transport, protocol, sslcontext, server_side=…, server_hostname=…,
    /// ssl_handshake_timeout=…, ssl_shutdown_timeout=…)`; `server_side` is the context's role.
    public nonisolated func startTLS(
        _ transport: any Transport,
        protocol proto: any StreamingProtocol,
        tls context: TLSContext,
        serverHostname: String? = nil,
        handshakeTimeout: Duration? = nil,
        shutdownTimeout: Duration? = nil
    ) async throws -> TLSTransport {
        guard let app = StreamReceiver(proto) else {
            throw TransportError.invalidValue(
                "\(type(of: proto)) is neither a ConnectionProtocol nor a BufferedConnectionProtocol"
            )
        }
        let waiter = try Future<Void>()
        let engine = try TLSEngine(context: context, serverHostname: serverHostname)
        let tls = TLSProtocol(
            engine: engine,
            app: app,
            handshakeWaiter: waiter,
            handshakeTimeout: handshakeTimeout,
            shutdownTimeout: shutdownTimeout,
            connectsApp: false
        )
        try transport.setProtocol(tls)
        runIsolated(tls, transport) { tls, transport, loop in tls.connectionMade(transport, loop: loop) }
        transport.resumeReading()
        return try await Self.waitForHandshake(tls, over: transport)
    }

    // MARK: - Helpers

    /// Makes the application's protocol and the client TLS layer for it.
    private func makeClientTLS<P: StreamingProtocol>(
        _ protocolFactory: () -> P,
        context: TLSContext,
        serverHostname: String?,
        handshakeTimeout: Duration?,
        shutdownTimeout: Duration?
    ) throws -> (P, TLSProtocol) {
        guard context.configuration.role == .client else {
            throw TLSError.configuration("a client connection needs a client context")
        }
        let engine = try TLSEngine(context: context, serverHostname: serverHostname)
        let proto = protocolFactory()
        guard let app = StreamReceiver(proto) else {
            throw TransportError.invalidValue(
                "\(P.self) is neither a ConnectionProtocol nor a BufferedConnectionProtocol"
            )
        }
        let tls = TLSProtocol(
            engine: engine,
            app: app,
            handshakeWaiter: createFuture(of: Void.self),
            handshakeTimeout: handshakeTimeout,
            shutdownTimeout: shutdownTimeout
        )
        return (proto, tls)
    }

    /// Waits for `tls`'s handshake; on cancellation the connection is dropped.
    private static func waitForHandshake(_ tls: TLSProtocol, over transport: any Transport) async throws -> TLSTransport
    {
        do {
            try await tls.waitForHandshake()
        } catch {
            if !transport.isClosing { transport.abort() }
            throw error
        }
        guard let appTransport = tls.appTransport else {
            // Connected, then lost before this task ran again: asyncio reports the loss the same way.
            throw SystemError(call: "TLS connection lost after the handshake", errno: ECONNRESET)
        }
        return appTransport
    }
}

/// A server connection's TLS layer, made at accept time.
enum ServerTLSProtocol {
    static func make<P: StreamingProtocol>(
        _ context: TLSContext,
        _ proto: P,
        _ handshakeTimeout: Duration?,
        _ shutdownTimeout: Duration?
    ) -> TLSProtocol {
        // `createServer` checked that the factory makes stream protocols.
        let app = StreamReceiver(proto) ?? .plain(RefusingProtocol())
        return TLSProtocol(
            server: context,
            app: app,
            handshakeTimeout: handshakeTimeout,
            shutdownTimeout: shutdownTimeout
        )
    }
}

/// A protocol that closes its connection at once (for a factory that stopped making stream protocols).
final class RefusingProtocol: ConnectionProtocol {
    func connectionMade(_ transport: any Transport, loop: isolated EventLoop) { transport.abort() }
}

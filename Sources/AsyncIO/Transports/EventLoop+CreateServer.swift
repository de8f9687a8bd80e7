import CAsyncIOShims
import Glibc

extension EventLoop {
    /// Creates a TCP server listening on `host` and `port`, calling `protocolFactory` for each
    /// connection it accepts.
    ///
    /// A host that resolves to several addresses (a nil or empty host means every interface: `0.0.0.0`
    /// and `::`) gets one listening socket per address, all in the returned `Server`. Port 0 picks a
    /// free port (the same one for every address when possible is NOT guaranteed, as in asyncio); read
    /// it back from `server.sockets`. An address that is not available here (EADDRNOTAVAIL, or a family
    /// the kernel lacks) is skipped, as in asyncio. `SO_REUSEADDR` is set (asyncio's default on Unix),
    /// IPv6 sockets are `IPV6_V6ONLY`, and accepted connections get `TCP_NODELAY`.
    ///
    /// - Parameters:
    ///   - protocolFactory: makes the protocol of each connection, on the loop.
    ///   - host: the address or name to listen on; nil or `""` for all interfaces (as in asyncio).
    ///   - port: the port; 0 for any free one.
    ///   - family: `AF_UNSPEC`, `AF_INET` or `AF_INET6`, to restrict resolution.
    ///   - socket: an already bound socket to serve instead of `host`/`port` (it must be a
    ///     SOCK_STREAM socket; the server takes ownership).
    ///   - backlog: the `listen` backlog, also the most connections accepted per readiness.
    ///   - reuseAddress: set `SO_REUSEADDR` (default true).
    ///   - reusePort: set `SO_REUSEPORT`, so several servers (loops, processes) share the port.
    ///   - startServing: start accepting at once (default), or later with `startServing()`.
    /// - Returns: the server.
    /// - Throws: `AddressResolutionError`, `SystemError` (EADDRINUSE…), `TransportError.invalidValue`
    ///   for a socket that is not a stream socket or for both `host`/`port` and `socket`.
    /// Mirrors `loop.create_server()`. Deviations: one host only (asyncio also takes a list); no
    /// `ssl`, `keep_alive` or `ssl_handshake_timeout` yet.
    public func createServer<P: StreamingProtocol>(
        _ protocolFactory: @escaping () -> P,
        host: String? = nil,
        port: Int = 0,
        family: Int32 = AF_UNSPEC,
        socket: Socket? = nil,
        backlog: Int = 100,
        reuseAddress: Bool = true,
        reusePort: Bool = false,
        startServing: Bool = true
    ) async throws -> Server {
        var sockets: [Socket] = []
        if let socket {
            guard host == nil, port == 0 else {
                throw TransportError.invalidValue("host/port and socket can not be specified at the same time")
            }
            guard socket.type == Int32(SOCK_STREAM.rawValue) else {
                throw TransportError.invalidValue("A Stream Socket was expected, got \(socket)")
            }
            sockets = [socket]
        } else {
            // asyncio reads `host=''` as None: every interface.
            let host = host?.isEmpty == true ? nil : host
            let infos = try await getAddrInfo(
                host,
                port: port,
                family: family,
                type: Int32(SOCK_STREAM.rawValue),
                flags: AI_PASSIVE
            )
            sockets = try Self.bindListeningSockets(infos, reuseAddress: reuseAddress, reusePort: reusePort)
        }
        return try makeServer(sockets: sockets, protocolFactory, backlog: backlog, startServing: startServing)
    }

    /// Opens and binds one listening socket per distinct address, as asyncio's `create_server` does.
    ///
    /// An address whose family cannot be opened (EAFNOSUPPORT) or bound (EADDRNOTAVAIL: IPv6 turned
    /// off in a container, say) is skipped, so `::` failing does not stop `0.0.0.0` (bpo-30945).
    /// Any other bind error closes what was opened and is thrown.
    /// - Throws: `SystemError`: the first other failure, or EADDRNOTAVAIL if no address could be bound.
    static func bindListeningSockets(
        _ infos: [AddressInfo],
        reuseAddress: Bool,
        reusePort: Bool
    ) throws(SystemError) -> [Socket] {
        var sockets: [Socket] = []
        var seen = Set<SocketAddress>()
        // Sockets close themselves when dropped, so an early throw leaks nothing.
        for info in infos where seen.insert(info.address).inserted {
            guard let listening = try? Socket(family: info.family, type: info.type, protocol: info.protocol) else {
                continue
            }
            if reuseAddress { try listening.setReuseAddress() }
            if reusePort { try listening.setReusePort() }
            if info.family == AF_INET6 {
                // Listen on IPv6 only, so that `::` and `0.0.0.0` can both be bound.
                try listening.setOption(level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: 1)
            }
            do {
                try listening.bind(to: info.address)
            } catch let error where error.errno == EADDRNOTAVAIL {
                listening.close()
                continue
            }
            sockets.append(listening)
        }
        guard !sockets.isEmpty else {
            let addresses = infos.map { "\($0.address)" }.joined(separator: ", ")
            throw SystemError(call: "bind: could not bind on any address out of [\(addresses)]", errno: EADDRNOTAVAIL)
        }
        return sockets
    }

    /// Creates a Unix domain socket server listening at `path`.
    ///
    /// A stale socket file at `path` is removed first (asyncio does the same when it is a socket);
    /// the file is removed again when the server closes, if it is still the one bound here (also
    /// for a passed `socket`; 3.13's `cleanup_socket`).
    /// - Throws: `SystemError` (EADDRINUSE, ENAMETOOLONG…). Mirrors `loop.create_unix_server()`.
    public func createUnixServer<P: StreamingProtocol>(
        _ protocolFactory: @escaping () -> P,
        path: String? = nil,
        socket: Socket? = nil,
        backlog: Int = 100,
        startServing: Bool = true
    ) async throws -> Server {
        let listening: Socket
        if let socket {
            guard path == nil else {
                throw TransportError.invalidValue("path and socket can not be specified at the same time")
            }
            guard socket.family == AF_UNIX, socket.type == Int32(SOCK_STREAM.rawValue) else {
                throw TransportError.invalidValue("A UNIX Domain Stream Socket was expected, got \(socket)")
            }
            listening = socket
        } else {
            guard let path else { throw TransportError.invalidValue("path was not specified, and no socket specified") }
            var status = stat()
            if !path.hasPrefix("\0"), stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFSOCK {
                unlink(path)
            }
            listening = try Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue))
            try listening.bind(to: .unix(path: path))
        }
        let server = try makeServer(sockets: [listening], protocolFactory, backlog: backlog, startServing: startServing)
        server.unixSocketFile = Self.socketFile(of: listening)
        return server
    }

    /// The file a Unix socket is bound to, with its inode; nil for an abstract or unnamed socket.
    private static func socketFile(of listening: Socket) -> (path: String, inode: ino_t)? {
        guard case .unix(let path)? = try? listening.localAddress(), !path.isEmpty, !path.hasPrefix("\0") else {
            return nil
        }
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return (path, status.st_ino)
    }

    private func makeServer<P: StreamingProtocol>(
        sockets: [Socket],
        _ protocolFactory: @escaping () -> P,
        backlog: Int,
        startServing: Bool
    ) throws -> Server {
        let server = Server(loop: self, sockets: sockets, protocolFactory: { protocolFactory() }, backlog: backlog)
        if startServing {
            do {
                try server.beginServing()
            } catch {
                server.close()
                throw error
            }
        }
        return server
    }
}

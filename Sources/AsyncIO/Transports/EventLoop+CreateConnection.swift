import CAsyncIOShims
import Glibc

/// Every connection attempt of `createConnection` failed, for different reasons.
///
/// asyncio raises `OSError('Multiple exceptions: …')`; this keeps the individual errors.
public struct ConnectionAttemptsError: Error, CustomStringConvertible {
    /// One error per address tried, in the order they were tried.
    public var errors: [any Error]

    public var description: String { "Multiple exceptions: " + errors.map { "\($0)" }.joined(separator: ", ") }
}

extension EventLoop {
    /// Opens a TCP connection to `host`:`port` and connects a protocol made by `protocolFactory`.
    ///
    /// The host is resolved (on the thread pool unless numeric) and each address is tried in turn
    /// until one connects; with `happyEyeballsDelay`, attempts are staggered by that delay and race
    /// (RFC 8305), the first to connect wins and the others are cancelled. The socket gets
    /// `TCP_NODELAY`. `connectionMade` has been called when this returns.
    ///
    /// - Parameters:
    ///   - protocolFactory: makes the protocol.
    ///   - host: where to connect.
    ///   - port: the port to connect to.
    ///   - family: restricts resolution to `AF_INET` or `AF_INET6`.
    ///   - socket: an already connected stream socket to use instead of `host`/`port`.
    ///   - localAddress: a local `(host, port)` to bind to first.
    ///   - happyEyeballsDelay: enables Happy Eyeballs with this delay (nil: off, as in asyncio; RFC
    ///     8305 suggests 250 ms).
    ///   - interleave: reorders addresses by family, taking this many of the first family before
    ///     switching (asyncio defaults it to 1 when Happy Eyeballs is on).
    /// - Returns: the transport and the protocol.
    /// - Throws: `AddressResolutionError`; the `SystemError` of the single failed attempt (or of all,
    ///   if they failed alike) or `ConnectionAttemptsError`; `CancelledError`;
    ///   `TransportError.invalidValue` for a `socket` that is not a stream socket.
    /// Mirrors `loop.create_connection()`. Deviations: no `ssl`, `all_errors` (errors are always
    /// kept when they differ).
    public func createConnection<P: StreamingProtocol>(
        _ protocolFactory: @escaping () -> P,
        host: String? = nil,
        port: Int? = nil,
        family: Int32 = AF_UNSPEC,
        socket: Socket? = nil,
        localAddress: (host: String, port: Int)? = nil,
        happyEyeballsDelay: Duration? = nil,
        interleave: Int? = nil
    ) async throws -> (any Transport, P) {
        let connected: Socket
        if let socket {
            guard host == nil, port == nil else {
                throw TransportError.invalidValue("host/port and socket can not be specified at the same time")
            }
            connected = socket
        } else {
            guard let host, let port else {
                throw TransportError.invalidValue("host and port was not specified and no socket specified")
            }
            var infos = try await getAddrInfo(host, port: port, family: family, type: Int32(SOCK_STREAM.rawValue))
            let interleave = interleave ?? (happyEyeballsDelay == nil ? 0 : 1)
            if interleave > 0 { infos = Self.interleaveByFamily(infos, firstFamilyCount: interleave) }
            var locals: [AddressInfo] = []
            if let localAddress {
                locals = try await getAddrInfo(
                    localAddress.host,
                    port: localAddress.port,
                    family: family,
                    type: Int32(SOCK_STREAM.rawValue)
                )
            }
            if let happyEyeballsDelay, infos.count > 1 {
                connected = try await staggeredConnect(infos, locals: locals, delay: happyEyeballsDelay)
            } else {
                connected = try await sequentialConnect(infos, locals: locals)
            }
        }
        return try connect(connected, protocolFactory)
    }

    /// Opens a Unix domain socket connection to `path`. Mirrors `loop.create_unix_connection()`.
    ///
    /// - Throws: `SystemError` (ENOENT, ECONNREFUSED…), `CancelledError`; `TransportError.invalidValue`
    ///   for a `socket` that is not a Unix stream socket.
    public func createUnixConnection<P: StreamingProtocol>(
        _ protocolFactory: @escaping () -> P,
        path: String? = nil,
        socket: Socket? = nil
    ) async throws -> (any Transport, P) {
        let connected: Socket
        if let socket {
            guard path == nil else {
                throw TransportError.invalidValue("path and socket can not be specified at the same time")
            }
            guard socket.family == AF_UNIX else {
                throw TransportError.invalidValue("A UNIX Domain Stream Socket was expected, got \(socket)")
            }
            connected = socket
        } else {
            guard let path else { throw TransportError.invalidValue("no path and sock were specified") }
            connected = try Socket(family: AF_UNIX, type: Int32(SOCK_STREAM.rawValue))
            try await sockConnect(connected, to: .unix(path: path))
        }
        return try connect(connected, protocolFactory)
    }

    /// Wraps a connection accepted elsewhere (by `sockAccept`, another process, a framework) in a
    /// transport and protocol.
    ///
    /// - Throws: `TransportError.invalidValue` for a socket that is not a stream socket.
    ///   Mirrors `loop.connect_accepted_socket()`.
    public func connectAcceptedSocket<P: StreamingProtocol>(
        _ protocolFactory: @escaping () -> P,
        socket: Socket
    ) async throws -> (any Transport, P) {
        try connect(socket, protocolFactory)
    }

    /// Wraps a connected socket in a transport and calls `connectionMade`.
    ///
    /// - Throws: `TransportError.invalidValue` for a socket that is not a stream socket (asyncio's
    ///   ValueError, for a `socket:` passed in).
    private func connect<P: StreamingProtocol>(
        _ socket: Socket,
        _ protocolFactory: () -> P
    ) throws -> (any Transport, P) {
        guard socket.type == Int32(SOCK_STREAM.rawValue) else {
            throw TransportError.invalidValue("A Stream Socket was expected, got \(socket)")
        }
        let proto = protocolFactory()
        guard let receiver = StreamReceiver(proto) else {
            throw TransportError.invalidValue(
                "\(P.self) is neither a ConnectionProtocol nor a BufferedConnectionProtocol"
            )
        }
        if socket.family == AF_INET || socket.family == AF_INET6 { try? socket.setNoDelay() }
        let family = socket.family
        let fd = try socket.liveDescriptor("connect")
        _ = socket.detach()
        let transport = SocketTransport(loop: self, fd: fd, family: family, receiver: receiver, server: nil)
        transport.start(loop: self)
        return (transport, proto)
    }

    // MARK: - Connecting

    /// Connects one socket to `info`'s address, bound to a local address of the same family first.
    private func connectOne(_ info: AddressInfo, locals: [AddressInfo]) async throws -> Socket {
        let socket = try Socket(family: info.family, type: info.type, protocol: info.protocol)
        if !locals.isEmpty {
            var bound = false
            var lastError: (any Error)?
            for local in locals where local.family == info.family {
                do {
                    try socket.bind(to: local.address)
                    bound = true
                    break
                } catch {
                    lastError = error
                }
            }
            guard bound else {
                throw lastError ?? SystemError(call: "bind: no matching local address family", errno: EAFNOSUPPORT)
            }
        }
        try await sockConnect(socket, to: info.address)
        return socket
    }

    func sequentialConnect(_ infos: [AddressInfo], locals: [AddressInfo]) async throws -> Socket {
        var errors: [any Error] = []
        for info in infos {
            do {
                return try await connectOne(info, locals: locals)
            } catch let error as CancelledError {
                throw error
            } catch {
                errors.append(error)
            }
        }
        throw Self.combined(errors)
    }

    /// Happy Eyeballs: attempt `i + 1` starts `delay` after attempt `i`, or at once when `i` fails;
    /// the first connected socket wins and the other attempts are cancelled. Mirrors asyncio's
    /// `staggered_race`.
    func staggeredConnect(_ infos: [AddressInfo], locals: [AddressInfo], delay: Duration) async throws -> Socket {
        let winner = Future<Socket>(core: core)
        var tasks: [LoopTask<Void>] = []
        var errors: [(Int, any Error)] = []
        var started = 0
        var nextTimer: Handle?

        func startNext() {
            guard started < infos.count, !winner.isDone else { return }
            let index = started
            started += 1
            nextTimer?.cancel()
            nextTimer = nil
            if started < infos.count {
                nextTimer = callLater(delay) { startNext() }
            }
            tasks.append(
                createTask {
                    do {
                        let socket = try await self.connectOne(infos[index], locals: locals)
                        if winner.isDone { socket.close() } else { winner.complete(.succeeded(socket)) }
                    } catch {
                        errors.append((index, error))
                        if errors.count == infos.count, !winner.isDone {
                            winner.complete(.failed(Self.combined(errors.sorted { $0.0 < $1.0 }.map(\.1))))
                        } else if index == started - 1 {
                            startNext()
                        }
                    }
                }
            )
        }

        startNext()
        defer {
            nextTimer?.cancel()
            for task in tasks where !task.isDone { task.cancel() }
        }
        return try await winner.value
    }

    /// One error if there was one (or all were alike), else all of them.
    static func combined(_ errors: [any Error]) -> any Error {
        guard let first = errors.first else { return SystemError(call: "connect", errno: EHOSTUNREACH) }
        let descriptions = Set(errors.map { "\($0)" })
        return descriptions.count == 1 ? first : ConnectionAttemptsError(errors: errors)
    }

    /// Reorders addresses so families alternate, `firstFamilyCount` of the first family leading.
    ///
    /// Mirrors asyncio's `_interleave_addrinfos`.
    static func interleaveByFamily(_ infos: [AddressInfo], firstFamilyCount: Int) -> [AddressInfo] {
        var families: [Int32] = []
        var byFamily: [Int32: [AddressInfo]] = [:]
        for info in infos {
            if byFamily[info.family] == nil { families.append(info.family) }
            byFamily[info.family, default: []].append(info)
        }
        guard let firstFamily = families.first else { return infos }
        var result = Array(byFamily[firstFamily]!.prefix(firstFamilyCount - 1))
        byFamily[firstFamily]!.removeFirst(min(firstFamilyCount - 1, byFamily[firstFamily]!.count))
        var queues = families.map { byFamily[$0]! }
        var progress = true
        while progress {
            progress = false
            for index in queues.indices where !queues[index].isEmpty {
                result.append(queues[index].removeFirst())
                progress = true
            }
        }
        return result
    }
}

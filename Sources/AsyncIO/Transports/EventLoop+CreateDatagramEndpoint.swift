import CAsyncIOShims
import Glibc

extension EventLoop {
    /// Creates a datagram (UDP) endpoint and connects a protocol made by `protocolFactory`.
    ///
    /// With `localAddress` the socket is bound there (port 0: any free port); with `remoteAddress`
    /// it is connected, so `sendTo(data)` needs no address and only datagrams from that address
    /// arrive. `connectionMade` has been called when this returns.
    ///
    /// - Parameters:
    ///   - protocolFactory: makes the protocol.
    ///   - localAddress: where to bind, resolved like a host name.
    ///   - remoteAddress: where to connect, resolved like a host name.
    ///   - family: restricts resolution (`AF_INET`, `AF_INET6`).
    ///   - reusePort: set `SO_REUSEPORT`.
    ///   - allowBroadcast: set `SO_BROADCAST`.
    ///   - socket: an existing datagram socket to use instead (the endpoint takes ownership).
    /// - Returns: the transport and the protocol.
    /// - Throws: `AddressResolutionError`, `SystemError`, `TransportError.invalidValue`.
    /// Mirrors `loop.create_datagram_endpoint()`. Deviation: Unix datagram paths are not supported
    /// yet; pass a bound `socket` instead.
    public func createDatagramEndpoint<P: DatagramProtocol>(
        _ protocolFactory: @escaping () -> P,
        localAddress: (host: String, port: Int)? = nil,
        remoteAddress: (host: String, port: Int)? = nil,
        family: Int32 = AF_UNSPEC,
        reusePort: Bool = false,
        allowBroadcast: Bool = false,
        socket: Socket? = nil
    ) async throws -> (any DatagramTransport, P) {
        let endpoint: Socket
        var remote: SocketAddress?
        let datagram = Int32(SOCK_DGRAM.rawValue)
        if let socket {
            guard localAddress == nil, remoteAddress == nil else {
                throw TransportError.invalidValue(
                    "socket modifier keyword arguments can not be used when sock is specified"
                )
            }
            guard socket.type == datagram else {
                throw TransportError.invalidValue("A datagram socket was expected, got \(socket)")
            }
            endpoint = socket
            remote = try? socket.peerAddress()
        } else {
            guard localAddress != nil || remoteAddress != nil || family != AF_UNSPEC else {
                throw TransportError.invalidValue("unexpected address family")
            }
            var locals: [AddressInfo] = []
            var remotes: [AddressInfo] = []
            if let localAddress {
                locals = try await getAddrInfo(
                    localAddress.host,
                    port: localAddress.port,
                    family: family,
                    type: datagram
                )
            }
            if let remoteAddress {
                remotes = try await getAddrInfo(
                    remoteAddress.host,
                    port: remoteAddress.port,
                    family: family,
                    type: datagram
                )
            }
            // Try each (local, remote) pair of one family, as asyncio does.
            var families = (locals + remotes).map(\.family)
            if families.isEmpty { families = [family] }
            var lastError: (any Error)?
            var made: Socket?
            var seen = Set<Int32>()
            for candidate in families where seen.insert(candidate).inserted {
                let local = locals.first { $0.family == candidate }
                let target = remotes.first { $0.family == candidate }
                if localAddress != nil && local == nil { continue }
                if remoteAddress != nil && target == nil { continue }
                do {
                    let attempt = try Socket(family: candidate, type: datagram)
                    if reusePort { try attempt.setReusePort() }
                    if allowBroadcast { try attempt.setOption(level: SOL_SOCKET, name: SO_BROADCAST, value: 1) }
                    if let local { try attempt.bind(to: local.address) }
                    if let target {
                        try await sockConnect(attempt, to: target.address)
                        remote = target.address
                    }
                    made = attempt
                    break
                } catch let error as CancelledError {
                    throw error
                } catch {
                    lastError = error
                }
            }
            guard let made else {
                throw lastError
                    ?? AddressResolutionError(code: EAI_NONAME, host: localAddress?.host ?? remoteAddress?.host)
            }
            endpoint = made
        }
        let proto = protocolFactory()
        let fd = try endpoint.liveDescriptor("create_datagram_endpoint")
        _ = endpoint.detach()
        let transport = DatagramSocketTransport(loop: self, fd: fd, proto: proto, remote: remote)
        transport.start(loop: self)
        return (transport, proto)
    }
}

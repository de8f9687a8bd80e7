import CAsyncIOShims
import Glibc

/// An address a socket is bound or connected to: IPv4, IPv6 or a Unix path.
///
/// Hosts are kept in numeric form (`"127.0.0.1"`, `"::1"`), as Python's address tuples are; name
/// resolution is `EventLoop.getAddrInfo`. Mirrors the `(host, port)`, `(host, port, flowinfo,
/// scope_id)` and path forms of Python's socket addresses.
public enum SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 address: `("127.0.0.1", 8080)`.
    case ipv4(host: String, port: Int)
    /// An IPv6 address: `("::1", 8080, flowinfo, scope_id)`.
    case ipv6(host: String, port: Int, flowInfo: UInt32 = 0, scopeID: UInt32 = 0)
    /// A Unix domain socket path (an empty path for an unnamed socket).
    case unix(path: String)

    /// The numeric host, or the path for a Unix address.
    public var host: String {
        switch self {
        case .ipv4(let host, _), .ipv6(let host, _, _, _): host
        case .unix(let path): path
        }
    }

    /// The port; nil for a Unix address.
    public var port: Int? {
        switch self {
        case .ipv4(_, let port), .ipv6(_, let port, _, _): port
        case .unix: nil
        }
    }

    /// The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`).
    public var family: Int32 {
        switch self {
        case .ipv4: AF_INET
        case .ipv6: AF_INET6
        case .unix: AF_UNIX
        }
    }

    public var description: String {
        switch self {
        case .ipv4(let host, let port): "\(host):\(port)"
        case .ipv6(let host, let port, _, _): "[\(host)]:\(port)"
        case .unix(let path): path
        }
    }

    // MARK: - Conversion to and from sockaddr

    /// Calls `body` with this address as a `sockaddr` and its length.
    ///
    /// - Throws: `SystemError` (EINVAL) for a host that is not numeric, a port out of range or a
    ///   path too long for `sun_path`.
    func withSockAddr<T>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> T
    ) throws(SystemError) -> T {
        var storage = sockaddr_storage()
        let length = try write(into: &storage)
        // SAFETY: `storage` is a sockaddr_storage, large and aligned enough for any sockaddr; the
        // pointer does not escape `body`.
        return try withUnsafePointer(to: &storage) { (pointer) throws(SystemError) -> T in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SystemError) -> T in
                try body(address, length)
            }
        }
    }

    /// Writes this address into `storage` and returns its length.
    func write(into storage: inout sockaddr_storage) throws(SystemError) -> socklen_t {
        func invalid(_ call: String) -> SystemError { SystemError(call: call, errno: EINVAL) }
        switch self {
        case .ipv4(let host, let port):
            guard (0...65535).contains(port) else { throw invalid("port out of range") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw invalid("inet_pton(\(host))") }
            // SAFETY: sockaddr_storage is larger than sockaddr_in and suitably aligned.
            withUnsafeMutableBytes(of: &storage) { raw in raw.storeBytes(of: address, as: sockaddr_in.self) }
            return socklen_t(MemoryLayout<sockaddr_in>.size)
        case .ipv6(let host, let port, let flowInfo, let scopeID):
            guard (0...65535).contains(port) else { throw invalid("port out of range") }
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            address.sin6_flowinfo = flowInfo.bigEndian
            address.sin6_scope_id = scopeID
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { throw invalid("inet_pton(\(host))") }
            // SAFETY: sockaddr_storage is larger than sockaddr_in6 and suitably aligned.
            withUnsafeMutableBytes(of: &storage) { raw in raw.storeBytes(of: address, as: sockaddr_in6.self) }
            return socklen_t(MemoryLayout<sockaddr_in6>.size)
        case .unix(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            guard bytes.count < capacity else { throw SystemError(call: "AF_UNIX path too long", errno: ENAMETOOLONG) }
            // SAFETY: `sun_path` is a fixed C array of `capacity` bytes; we copy fewer bytes than
            // that and the rest stays zero, so the path is NUL-terminated.
            withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes) }
            withUnsafeMutableBytes(of: &storage) { raw in raw.storeBytes(of: address, as: sockaddr_un.self) }
            let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
            return socklen_t(pathOffset + bytes.count + 1)
        }
    }

    /// Reads an address the kernel wrote (from `accept`, `getpeername`, `recvfrom`, `getaddrinfo`).
    ///
    /// Returns nil for an unsupported family.
    init?(storage: UnsafeRawPointer, length: socklen_t) {
        let family = Int32(storage.load(as: sockaddr.self).sa_family)
        switch family {
        case AF_INET:
            let address = storage.loadUnaligned(as: sockaddr_in.self)
            let hostOffset = MemoryLayout<sockaddr_in>.offset(of: \.sin_addr) ?? 4
            self = .ipv4(
                host: Self.numericHost(family: AF_INET, storage + hostOffset),
                port: Int(UInt16(bigEndian: address.sin_port))
            )
        case AF_INET6:
            let address = storage.loadUnaligned(as: sockaddr_in6.self)
            let hostOffset = MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr) ?? 8
            self = .ipv6(
                host: Self.numericHost(family: AF_INET6, storage + hostOffset),
                port: Int(UInt16(bigEndian: address.sin6_port)),
                flowInfo: UInt32(bigEndian: address.sin6_flowinfo),
                scopeID: address.sin6_scope_id
            )
        case AF_UNIX:
            let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
            let count = max(0, Int(length) - pathOffset)
            let bytes = UnsafeRawBufferPointer(start: storage + pathOffset, count: count)
            // The kernel may or may not count the terminating NUL; stop at the first one.
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            self = .unix(path: String(decoding: bytes[..<end], as: UTF8.self))
        default:
            return nil
        }
    }

    /// `inet_ntop` of the address at `pointer` (an `in_addr` or `in6_addr`).
    private static func numericHost(family: Int32, _ pointer: UnsafeRawPointer) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = inet_ntop(family, pointer, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

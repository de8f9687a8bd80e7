import AsyncIO
import Foundation
import Glibc

/// The far end of a socket test: a plain blocking socket driven from threads of its own, so that a
/// loop bug cannot hide itself (model: uvloop's `_testbase.tcp_server`).
///
/// Every operation runs on a new thread and is awaited with a continuation, so the loop keeps
/// running while the peer blocks. Every blocking call has a deadline (`SO_RCVTIMEO`/`SO_SNDTIMEO`,
/// 10 s by default): a test that goes wrong fails with EAGAIN instead of hanging.
public final class BlockingPeer: Sendable, TransportPeer {
    /// The peer's socket descriptor.
    public let fd: Int32

    init(fd: Int32, timeoutSeconds: Int) {
        self.fd = fd
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        Glibc.close(fd)
    }

    /// Connects a blocking socket to `address` (on a thread).
    public static func connect(to address: SocketAddress, timeoutSeconds: Int = 10) async throws -> BlockingPeer {
        try await onThread { () throws -> BlockingPeer in
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
            let peer = BlockingPeer(fd: fd, timeoutSeconds: timeoutSeconds)
            let socketAddress = try Self.raw(address)
            let result = socketAddress.withUnsafeBytes { raw in
                Glibc.connect(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            }
            guard result == 0 else { throw SystemError(call: "connect", errno: errno) }
            return peer
        }
    }

    /// Sends all of `bytes`.
    public func send(_ bytes: [UInt8]) async throws {
        try await Self.onThread { [fd] () throws in
            var offset = 0
            while offset < bytes.count {
                let count = bytes.withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
                }
                guard count > 0 else { throw SystemError(call: "send", errno: errno) }
                offset += count
            }
        }
    }

    /// Receives exactly `count` bytes, or fewer if EOF comes first.
    public func receive(exactly count: Int) async throws -> [UInt8] {
        try await Self.onThread { [fd] () throws -> [UInt8] in
            var result: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while result.count < count {
                let wanted = min(buffer.count, count - result.count)
                let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, wanted, 0) }
                if got == 0 { break }
                guard got > 0 else { throw SystemError(call: "recv", errno: errno) }
                result.append(contentsOf: buffer[0..<got])
            }
            return result
        }
    }

    /// Receives until the other side closes (EOF); throws on reset or after the deadline.
    public func receiveToEOF() async throws -> [UInt8] {
        try await receive(exactly: Int.max)
    }

    /// Shuts down the peer's write side (the transport sees EOF).
    public func shutdownWrite() async throws {
        guard Glibc.shutdown(fd, Int32(SHUT_WR)) == 0 else { throw SystemError(call: "shutdown", errno: errno) }
    }

    /// Closes with `SO_LINGER` 0, so the transport's side sees ECONNRESET.
    public func reset() async throws {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        // Closing with linger 0 sends RST at once. `fd` must stay valid until deinit, so replace
        // the descriptor with a fresh unconnected socket: dup2 closes the original.
        let dummy = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if dummy >= 0 {
            dup2(dummy, fd)
            Glibc.close(dummy)
        }
    }

    /// Runs `work` on a new thread and awaits its result without blocking the caller's executor.
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    /// A `sockaddr` for `address`, as bytes.
    static func raw(_ address: SocketAddress) throws -> [UInt8] {
        switch address {
        case .ipv4(let host, let port):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET, host, &sin.sin_addr) == 1 else {
                throw SystemError(call: "inet_pton", errno: EINVAL)
            }
            return withUnsafeBytes(of: &sin) { Array($0) }
        case .ipv6(let host, let port, _, let scope):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = UInt16(port).bigEndian
            sin6.sin6_scope_id = scope
            guard inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1 else {
                throw SystemError(call: "inet_pton", errno: EINVAL)
            }
            return withUnsafeBytes(of: &sin6) { Array($0) }
        case .unix(let path):
            var sun = sockaddr_un()
            sun.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            withUnsafeMutableBytes(of: &sun.sun_path) { $0.copyBytes(from: bytes.prefix($0.count - 1)) }
            return withUnsafeBytes(of: &sun) { Array($0) }
        }
    }
}

/// A plain blocking listening socket, for tests of the connecting side (`createConnection`).
public final class BlockingListener: Sendable {
    /// The listening socket's descriptor.
    public let fd: Int32
    /// The address it listens on (port chosen by the kernel).
    public let address: SocketAddress

    /// Listens on `host` (numeric IPv4 or IPv6, or a Unix path with `unixPath`), port 0.
    public init(host: String = "127.0.0.1", unixPath: String? = nil) throws {
        let target: SocketAddress
        if let unixPath {
            unlink(unixPath)
            target = .unix(path: unixPath)
        } else if host.contains(":") {
            target = .ipv6(host: host, port: 0)
        } else {
            target = .ipv4(host: host, port: 0)
        }
        let fd = socket(target.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let raw = try BlockingPeer.raw(target)
        let bound = raw.withUnsafeBytes {
            Glibc.bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            let error = errno
            Glibc.close(fd)
            throw SystemError(call: "bind/listen", errno: error)
        }
        self.fd = fd
        if let unixPath {
            address = .unix(path: unixPath)
        } else {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            _ = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            let port = withUnsafeBytes(of: &storage) { raw -> Int in
                // sin_port and sin6_port are both at offset 2.
                Int(UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
            }
            address = target.family == AF_INET6 ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port)
        }
    }

    deinit {
        Glibc.close(fd)
    }

    /// Accepts one connection (on a thread), with a deadline.
    public func accept(timeoutSeconds: Int = 10) async throws -> BlockingPeer {
        try await BlockingPeer.onThread { [fd] () throws -> BlockingPeer in
            var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let client = Glibc.accept(fd, nil, nil)
            guard client >= 0 else { throw SystemError(call: "accept", errno: errno) }
            return BlockingPeer(fd: client, timeoutSeconds: timeoutSeconds)
        }
    }
}

import CAsyncIOShims
import Glibc

/// A non-blocking socket that owns its file descriptor and closes it on `close()` or deinit.
///
/// The low-level coroutines (`sockRecv`, `sockSendAll`, `sockAccept`, …) and `createServer(sock:)`
/// take one. Every socket made here is non-blocking and close-on-exec, as asyncio requires for
/// `sock_*` methods. Not Sendable: a socket is used on the loop that uses it.
///
/// Mirrors Python's `socket.socket` (the subset asyncio needs). Deviation: always non-blocking.
public final class Socket: CustomStringConvertible {
    /// The file descriptor, or -1 once closed or detached.
    public private(set) var fileDescriptor: Int32
    /// The address family: `AF_INET`, `AF_INET6` or `AF_UNIX`.
    public let family: Int32
    /// The socket type: `SOCK_STREAM` or `SOCK_DGRAM`.
    public let type: Int32
    /// The registration this socket's waits keep armed in a loop (EventLoop+SocketWaits.swift).
    var waits: SocketWaits?

    /// Creates a socket. Mirrors `socket.socket(family, type, proto)` plus `setblocking(False)`.
    ///
    /// - Throws: `SystemError` from `socket(2)`, e.g. EMFILE.
    public init(family: Int32, type: Int32, protocol proto: Int32 = 0) throws(SystemError) {
        let fd = Glibc.socket(family, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), proto)
        guard fd >= 0 else { throw SystemError(call: "socket") }
        fileDescriptor = fd
        self.family = family
        self.type = type
    }

    /// Takes ownership of `fileDescriptor`, which must be a socket; makes it non-blocking.
    public init(adopting fileDescriptor: Int32, family: Int32, type: Int32) {
        self.fileDescriptor = fileDescriptor
        self.family = family
        self.type = type
        let flags = fcntl(fileDescriptor, F_GETFL)
        if flags >= 0 && flags & O_NONBLOCK == 0 { _ = fcntl(fileDescriptor, F_SETFL, flags | O_NONBLOCK) }
    }

    deinit {
        releaseWaits()
        if fileDescriptor >= 0 { Glibc.close(fileDescriptor) }
    }

    /// True once closed or detached.
    public var isClosed: Bool { fileDescriptor < 0 }

    /// Closes the descriptor; closing twice does nothing. Mirrors `socket.close()`.
    ///
    /// A socket registered with a loop (a reader, a transport) must be removed from it first;
    /// transports do this themselves, and so do the socket's own waits (`sockRecv`, …): a wait
    /// still pending is woken and fails with EBADF.
    public func close() {
        guard fileDescriptor >= 0 else { return }
        releaseWaits()
        Glibc.close(fileDescriptor)
        fileDescriptor = -1
    }

    /// Gives up ownership and returns the descriptor (the caller must close it). Mirrors `detach()`.
    public func detach() -> Int32 {
        releaseWaits()
        defer { fileDescriptor = -1 }
        return fileDescriptor
    }

    public var description: String { "<Socket fd=\(fileDescriptor) family=\(family) type=\(type)>" }

    // MARK: - Calls

    /// The descriptor, or EBADF if the socket is closed.
    func liveDescriptor(_ call: String) throws(SystemError) -> Int32 {
        guard fileDescriptor >= 0 else { throw SystemError(call: call, errno: EBADF) }
        return fileDescriptor
    }

    /// Binds to `address`. Mirrors `socket.bind(address)`.
    public func bind(to address: SocketAddress) throws(SystemError) {
        let fd = try liveDescriptor("bind")
        try address.withSockAddr { (pointer, length) throws(SystemError) in
            guard Glibc.bind(fd, pointer, length) == 0 else { throw SystemError(call: "bind(\(address))") }
        }
    }

    /// Starts listening. Mirrors `socket.listen(backlog)`.
    public func listen(backlog: Int = 100) throws(SystemError) {
        let fd = try liveDescriptor("listen")
        guard Glibc.listen(fd, Int32(clamping: backlog)) == 0 else { throw SystemError(call: "listen") }
    }

    /// Shuts down one or both directions (`SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`). Mirrors `shutdown(how)`.
    public func shutdown(_ how: Int32) throws(SystemError) {
        let fd = try liveDescriptor("shutdown")
        guard Glibc.shutdown(fd, how) == 0 else { throw SystemError(call: "shutdown") }
    }

    /// The local address. Mirrors `getsockname()`.
    public func localAddress() throws(SystemError) -> SocketAddress {
        let fd = try liveDescriptor("getsockname")
        return try Self.address(call: "getsockname") { getsockname(fd, $0, $1) }
    }

    /// The remote address. Mirrors `getpeername()`.
    public func peerAddress() throws(SystemError) -> SocketAddress {
        let fd = try liveDescriptor("getpeername")
        return try Self.address(call: "getpeername") { getpeername(fd, $0, $1) }
    }

    static func address(
        call: String,
        _ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) throws(SystemError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        // SAFETY: the pointers address `storage`/`length` for the duration of the call only.
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, &length) }
        }
        guard result == 0 else { throw SystemError(call: call) }
        guard let address = withUnsafeBytes(of: &storage, { SocketAddress(storage: $0.baseAddress!, length: length) })
        else { throw SystemError(call: call, errno: EAFNOSUPPORT) }
        return address
    }

    // MARK: - Options

    /// Sets an integer socket option. Mirrors `setsockopt(level, option, value)`.
    public func setOption(level: Int32, name: Int32, value: Int32) throws(SystemError) {
        let fd = try liveDescriptor("setsockopt")
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SystemError(call: "setsockopt(\(level), \(name))")
        }
    }

    /// Reads an integer socket option. Mirrors `getsockopt(level, option)`.
    public func option(level: Int32, name: Int32) throws(SystemError) -> Int32 {
        let fd = try liveDescriptor("getsockopt")
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, level, name, &value, &length) == 0 else {
            throw SystemError(call: "getsockopt(\(level), \(name))")
        }
        return value
    }

    /// The pending error (`SO_ERROR`), cleared by reading it; 0 if none.
    func pendingError() -> Int32 {
        (try? option(level: SOL_SOCKET, name: SO_ERROR)) ?? EBADF
    }

    /// Turns Nagle's algorithm off (`TCP_NODELAY`), as asyncio does for every TCP transport.
    public func setNoDelay(_ on: Bool = true) throws(SystemError) {
        try setOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: on ? 1 : 0)
    }

    /// `SO_REUSEADDR`: rebind a port in TIME_WAIT (asyncio sets it for servers on Unix).
    public func setReuseAddress(_ on: Bool = true) throws(SystemError) {
        try setOption(level: SOL_SOCKET, name: SO_REUSEADDR, value: on ? 1 : 0)
    }

    /// `SO_REUSEPORT`: several sockets share one port (the kernel balances accepts between them).
    public func setReusePort(_ on: Bool = true) throws(SystemError) {
        try setOption(level: SOL_SOCKET, name: SO_REUSEPORT, value: on ? 1 : 0)
    }
}

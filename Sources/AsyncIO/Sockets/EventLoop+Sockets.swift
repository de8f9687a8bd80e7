import CAsyncIOShims
import Glibc

// MARK: - Readers and writers

extension EventLoop {
    /// Calls `callback` on this loop whenever `fd` is readable, until `removeReader(fd)`.
    ///
    /// Replaces a reader already registered for `fd`.
    /// - Throws: `TransportError.invalidValue` if a transport owns `fd`; `SystemError` if epoll
    ///   refuses it. Mirrors `loop.add_reader(fd, callback)`.
    public func addReader(_ fd: Int32, _ callback: @escaping () -> Void) throws {
        try watch(fd, events: .readable, callback: callback)
    }

    /// Stops watching `fd` for readability. Returns true if it was watched. Mirrors `remove_reader()`.
    @discardableResult
    public func removeReader(_ fd: Int32) -> Bool {
        unwatch(fd, events: .readable)
    }

    /// Calls `callback` on this loop whenever `fd` is writable, until `removeWriter(fd)`.
    ///
    /// - Throws: as `addReader`. Mirrors `loop.add_writer(fd, callback)`.
    public func addWriter(_ fd: Int32, _ callback: @escaping () -> Void) throws {
        try watch(fd, events: .writable, callback: callback)
    }

    /// Stops watching `fd` for writability. Returns true if it was watched. Mirrors `remove_writer()`.
    @discardableResult
    public func removeWriter(_ fd: Int32) -> Bool {
        unwatch(fd, events: .writable)
    }

    private func watch(_ fd: Int32, events: SelectorEvents, callback: @escaping () -> Void) throws {
        guard fd >= 0 else { throw SystemError(call: "add_reader", errno: EBADF) }
        let registration = core.selector.registration(for: fd)
        guard registration.handler == nil else {
            throw TransportError.invalidValue("File descriptor \(fd) is used by transport")
        }
        let handle = Handle(core: core, callback: callback)
        if events == .readable {
            registration.reader?.cancel()
            registration.reader = handle
        } else {
            registration.writer?.cancel()
            registration.writer = handle
        }
        do {
            try core.selector.updateInterest(registration, to: registration.interest.union(events))
        } catch {
            if events == .readable { registration.reader = nil } else { registration.writer = nil }
            if registration.interest.isEmpty { try? core.selector.updateInterest(registration, to: []) }
            throw error
        }
    }

    private func unwatch(_ fd: Int32, events: SelectorEvents) -> Bool {
        guard let registration = core.selector.existingRegistration(for: fd), registration.handler == nil else {
            return false
        }
        let handle = events == .readable ? registration.reader : registration.writer
        guard let handle else { return false }
        handle.cancel()
        if events == .readable { registration.reader = nil } else { registration.writer = nil }
        try? core.selector.updateInterest(registration, to: registration.interest.subtracting(events))
        return true
    }
}

// MARK: - Low-level socket coroutines

// The socket coroutines are nonisolated, so they run on their caller's executor: from a task on
// the loop, with no executor switch. As isolated methods, entering each and returning from it cost
// a `swift_task_switch`, four per message of a `sockRecv`/`sockSendAll` echo. Called off the loop's
// thread, each one first hops to the loop (`onLoop`), as the isolated method did.
extension EventLoop {
    /// Runs `body` isolated to this loop: a socket coroutine called off the loop's thread.
    ///
    /// The socket crosses unchecked: the caller, which owns it, is suspended in this call until
    /// `body` is done with it.
    private func onLoop<T: Sendable>(
        _ socket: UncheckedSocket,
        _ body: @Sendable (isolated EventLoop, Socket) async throws -> T
    ) async throws -> T {
        try await body(self, socket.socket)
    }

    /// Receives up to `maxBytes` from `socket`, waiting until some arrive; empty at EOF.
    ///
    /// - Throws: `SystemError` (e.g. ECONNRESET), `CancelledError`. Mirrors `loop.sock_recv(sock, n)`,
    ///   with `sockRecvInto`'s deviation.
    ///
    /// Receives into the loop's shared read buffer and returns a copy of what arrived (up to 64 KiB;
    /// larger requests get a buffer of their own), so a waiting `sockRecv` holds no buffer: ten
    /// thousand idle sockets cost no receive memory, as in asyncio.
    public nonisolated func sockRecv(_ socket: Socket, maxBytes: Int) async throws -> [UInt8] {
        guard core.isOnLoopThread else {
            return try await onLoop(UncheckedSocket(socket)) { try await $0.sockRecv($1, maxBytes: maxBytes) }
        }
        let maxBytes = max(0, maxBytes)
        guard maxBytes <= LoopIOState.readBufferSize else {
            var buffer = [UInt8](repeating: 0, count: maxBytes)
            let count = try await sockRecvInto(socket, &buffer)
            buffer.removeSubrange(count...)
            return buffer
        }
        // SAFETY: the shared buffer is used only synchronously on the loop thread: `recv` fills
        // it and the copy below reads it with no suspension in between.
        let shared = core.io.readBuffer
        let count = try await receive(socket, requested: maxBytes) { fd in recv(fd, shared.baseAddress, maxBytes, 0) }
        return Array(UnsafeRawBufferPointer(rebasing: shared[..<count]))
    }

    /// Receives into `buffer` (from its start, up to its count), waiting until some bytes arrive.
    ///
    /// - Returns: the number of bytes received; 0 at EOF.
    /// - Throws: `SystemError`, `CancelledError`. Mirrors `loop.sock_recv_into(sock, buf)`.
    ///   Deviation: asyncio always tries `recv` first; after a receive on a stream socket that
    ///   took less than it asked for (the buffer was empty then), this one waits for the loop to
    ///   report the socket readable before calling `recv`, as Tokio does, so it suspends at least
    ///   once even if bytes arrived meanwhile. That saves a `recv` that would fail with EAGAIN.
    public nonisolated func sockRecvInto(_ socket: Socket, _ buffer: inout [UInt8]) async throws -> Int {
        guard core.isOnLoopThread else {
            let (count, filled) = try await onLoop(UncheckedSocket(socket)) { [buffer] loop, socket in
                var buffer = buffer
                return (try await loop.sockRecvInto(socket, &buffer), buffer)
            }
            buffer = filled
            return count
        }
        return try await receive(socket, requested: buffer.count) { fd in
            buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        }
    }

    /// Calls `attempt` (a `recv` of up to `requested` bytes on the descriptor) until it succeeds,
    /// waiting for readability between attempts.
    ///
    /// Runs where the calling `sock*` coroutine runs, on the loop's thread.
    private nonisolated func receive(_ socket: Socket, requested: Int, _ attempt: (Int32) -> Int) async throws -> Int {
        // Skip the first recv when it would surely fail (see `isKnownDrained`).
        var tryFirst = !isKnownDrained(socket)
        while true {
            let fd = try socket.liveDescriptor("recv")
            if tryFirst {
                let count = attempt(fd)
                if count >= 0 {
                    let short = count > 0 && count < requested
                    noteReceived(socket, drained: short && socket.type == Int32(SOCK_STREAM.rawValue))
                    return count
                }
                let error = errno
                guard error == EAGAIN || error == EWOULDBLOCK || error == EINTR else {
                    throw SystemError(call: "recv", errno: error)
                }
            }
            tryFirst = true
            try await waitReady(socket, fd, writable: false)
        }
    }

    /// Sends all of `data`, waiting for the socket to drain as needed.
    ///
    /// - Throws: `SystemError` (EPIPE, ECONNRESET, …), `CancelledError` (some bytes may have been
    ///   sent). Mirrors `loop.sock_sendall(sock, data)`.
    public nonisolated func sockSendAll(_ socket: Socket, _ data: [UInt8]) async throws {
        guard core.isOnLoopThread else {
            return try await onLoop(UncheckedSocket(socket)) { try await $0.sockSendAll($1, data) }
        }
        var offset = 0
        while offset < data.count {
            let fd = try socket.liveDescriptor("send")
            let count = data.withUnsafeBytes { bytes in
                send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if count >= 0 {
                offset += count
                continue
            }
            let error = errno
            guard error == EAGAIN || error == EWOULDBLOCK || error == EINTR else {
                throw SystemError(call: "send", errno: error)
            }
            try await waitReady(socket, fd, writable: true)
        }
    }

    /// Sends all of `string` (UTF-8). See `sockSendAll(_:_:)`.
    public nonisolated func sockSendAll(_ socket: Socket, _ string: String) async throws {
        try await sockSendAll(socket, Array(string.utf8))
    }

    /// Connects `socket` to `address`, waiting for the connection to complete.
    ///
    /// - Throws: `SystemError` (ECONNREFUSED, ETIMEDOUT, …), `CancelledError`.
    ///   Mirrors `loop.sock_connect(sock, address)`.
    public nonisolated func sockConnect(_ socket: Socket, to address: SocketAddress) async throws {
        guard core.isOnLoopThread else {
            return try await onLoop(UncheckedSocket(socket)) { try await $0.sockConnect($1, to: address) }
        }
        let fd = try socket.liveDescriptor("connect")
        let result = try address.withSockAddr { (pointer, length) throws(SystemError) in
            connect(fd, pointer, length) == 0 ? 0 : errno
        }
        if result == 0 { return }
        guard result == EINPROGRESS || result == EINTR || result == EAGAIN else {
            throw SystemError(call: "connect(\(address))", errno: result)
        }
        try await waitReady(socket, fd, writable: true)
        let pending = socket.pendingError()
        guard pending == 0 else { throw SystemError(call: "connect(\(address))", errno: pending) }
    }

    /// Accepts a connection on a listening socket, waiting for one.
    ///
    /// - Returns: the connected socket (non-blocking) and the peer's address.
    /// - Throws: `SystemError`, `CancelledError`. Mirrors `loop.sock_accept(sock)`.
    public nonisolated func sockAccept(_ socket: Socket) async throws -> (Socket, SocketAddress) {
        guard core.isOnLoopThread else {
            let (accepted, peer) = try await onLoop(UncheckedSocket(socket)) { loop, socket in
                let (accepted, peer) = try await loop.sockAccept(socket)
                return (UncheckedSocket(accepted), peer)
            }
            return (accepted.socket, peer)
        }
        while true {
            let fd = try socket.liveDescriptor("accept")
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            // SAFETY: the pointers address `storage`/`length` during the call only.
            let client = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { casyncio_accept4(fd, $0, &length) }
            }
            if client >= 0 {
                let accepted = Socket(adopting: client, family: socket.family, type: socket.type)
                let peer =
                    withUnsafeBytes(of: &storage) { SocketAddress(storage: $0.baseAddress!, length: length) }
                    ?? .unix(path: "")
                return (accepted, peer)
            }
            let error = errno
            guard error == EAGAIN || error == EWOULDBLOCK || error == EINTR || error == ECONNABORTED else {
                throw SystemError(call: "accept4", errno: error)
            }
            try await waitReady(socket, fd, writable: false)
        }
    }

    /// Receives one datagram of up to `maxBytes`, waiting for one.
    ///
    /// - Throws: `SystemError`, `CancelledError`. Mirrors `loop.sock_recvfrom(sock, bufsize)`.
    public nonisolated func sockRecvFrom(_ socket: Socket, maxBytes: Int) async throws -> ([UInt8], SocketAddress) {
        guard core.isOnLoopThread else {
            return try await onLoop(UncheckedSocket(socket)) { try await $0.sockRecvFrom($1, maxBytes: maxBytes) }
        }
        var buffer = [UInt8](repeating: 0, count: max(0, maxBytes))
        while true {
            let fd = try socket.liveDescriptor("recvfrom")
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            // SAFETY: the pointers address `buffer`, `storage` and `length` during the call only.
            let count = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &storage) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length)
                    }
                }
            }
            if count >= 0 {
                buffer.removeSubrange(count...)
                let peer =
                    withUnsafeBytes(of: &storage) { SocketAddress(storage: $0.baseAddress!, length: length) }
                    ?? .unix(path: "")
                return (buffer, peer)
            }
            let error = errno
            guard error == EAGAIN || error == EWOULDBLOCK || error == EINTR else {
                throw SystemError(call: "recvfrom", errno: error)
            }
            try await waitReady(socket, fd, writable: false)
        }
    }

    /// Sends one datagram to `address`, waiting for buffer space if needed.
    ///
    /// - Returns: the number of bytes sent.
    /// - Throws: `SystemError`, `CancelledError`. Mirrors `loop.sock_sendto(sock, data, address)`.
    @discardableResult
    public nonisolated func sockSendTo(
        _ socket: Socket,
        _ data: [UInt8],
        to address: SocketAddress
    ) async throws -> Int {
        guard core.isOnLoopThread else {
            return try await onLoop(UncheckedSocket(socket)) { try await $0.sockSendTo($1, data, to: address) }
        }
        while true {
            let fd = try socket.liveDescriptor("sendto")
            let count = try address.withSockAddr { (pointer, length) throws(SystemError) in
                data.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), pointer, length) }
            }
            if count >= 0 { return count }
            let error = errno
            guard error == EAGAIN || error == EWOULDBLOCK || error == EINTR else {
                throw SystemError(call: "sendto", errno: error)
            }
            try await waitReady(socket, fd, writable: true)
        }
    }
}

/// A socket handed to the loop, or back, by a coroutine called off the loop's thread (see `onLoop`).
private struct UncheckedSocket: @unchecked Sendable {
    let socket: Socket
    init(_ socket: Socket) { self.socket = socket }
}

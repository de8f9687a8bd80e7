// Theory of operation
//
// `sendfile(2)` copies a regular file to a socket inside the kernel: no read into user memory, no
// write from it. asyncio offers it twice, on a transport (`loop.sendfile`) and on a raw socket
// (`loop.sock_sendfile`), and falls back to reading and writing where the kernel cannot do it.
//
// Native path (a socket transport, or a `Socket`, and a regular file):
//   1. the transport hands its write side over: reading pauses, `write` throws
//      `sendfileInProgress`, and `close()` / `writeEOF()` wait for the transfer;
//   2. its write buffer is flushed first, so the file's bytes follow what was written before;
//   3. `sendfile` is called with an explicit offset (the file's own position is not used), once per
//      writability report, as asyncio re-arms its writer after each call: a big file to a fast
//      peer does not keep the loop to itself;
//   4. at the end, as in asyncio, the file's position is set to `offset + sent`, even on error.
//   A kernel error on the first call (EINVAL, ENOSYS, …: the file system or socket cannot do it)
//   means "not available" and the fallback runs; any later error (EPIPE, ECONNRESET: the peer
//   went away) fails the transport with it and is thrown.
//
// Fallback (a pipe or tty as the file, a transport that is not a plain socket such as TLS): read
// 256 KiB at a time on the thread pool (file reads block) and write it, waiting for the write
// buffer to drain to its low-water mark before the next chunk, so memory stays bounded.
import CAsyncIOShims
import Glibc

/// `sendfile(2)` cannot be used for this transfer and the fallback was not allowed.
///
/// Mirrors `asyncio.SendfileNotAvailableError`.
public struct SendfileNotAvailableError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { "SendfileNotAvailableError: \(reason)" }
}

extension EventLoop {
    /// Sends `file` (a file descriptor) over `transport`, from `offset`, `count` bytes or to the
    /// end of the file, and returns the number of bytes sent.
    ///
    /// Uses `sendfile(2)` when `transport` is a socket transport and `file` is a regular file;
    /// otherwise, if `fallback` is true, reads the file and writes it. Bytes written to the
    /// transport before the call go out first. While the native transfer runs, the transport does
    /// not read and `write` throws `TransportError.sendfileInProgress`; a `close()` made meanwhile
    /// takes effect once it ends. The file's position is left at `offset` + bytes sent, even
    /// after an error. `file` stays open: it is the caller's.
    ///
    /// - Throws: `AsyncIOError.invalidArgument` for a negative offset or a count that is not
    ///   positive; `TransportError.closed` if the transport is closing or is lost during the
    ///   transfer; `SendfileNotAvailableError` if `fallback` is false and the kernel cannot do it;
    ///   `SystemError` (EPIPE, ECONNRESET: the peer went away, and the transport is closed with
    ///   it); `CancelledError`.
    ///
    /// Mirrors `loop.sendfile(transport, file, offset=0, count=None, *, fallback=True)`, with a
    /// descriptor for the file object.
    @discardableResult
    public func sendfile(
        _ transport: any WriteTransport,
        file: Int32,
        offset: Int = 0,
        count: Int? = nil,
        fallback: Bool = true
    ) async throws -> Int {
        try checkSendfileArguments(offset: offset, count: count)
        guard !transport.isClosing else { throw TransportError.closed }
        if let socketTransport = transport as? SocketTransport, isRegularFile(file) {
            let wasReading = try socketTransport.beginSendfile()
            defer { socketTransport.endSendfile(resumeReading: wasReading, loop: self) }
            do {
                try await socketTransport.waitWritable(queuedAtMost: 0, loop: self)
                return try await sendfileNative(file: file, offset: offset, count: count) { () throws(TransportError) in
                    guard socketTransport.fd >= 0, !socketTransport.lostScheduled else { throw TransportError.closed }
                    return socketTransport.fd
                } waitWritable: {
                    try await socketTransport.waitWritable(queuedAtMost: 0, loop: self)
                }
            } catch let error as SystemError {
                socketTransport.failSendfile(error, loop: self)
                throw error
            } catch is SendfileNotAvailableError where fallback {
                // Nothing was sent; the bytes go the slow way below, with the transport handed back.
            }
        } else if !fallback {
            throw SendfileNotAvailableError(
                transport is SocketTransport ? "not a regular file" : "the transport is not a plain socket"
            )
        }
        return try await sendfileFallback(file: file, offset: offset, count: count) { chunk in
            guard !transport.isClosing else { throw TransportError.closed }
            try transport.write(chunk)
            if let socketTransport = transport as? SocketTransport {
                if socketTransport.writeBufferSize > socketTransport.writeBufferLimits.low {
                    try await socketTransport.waitWritable(
                        queuedAtMost: socketTransport.writeBufferLimits.low,
                        loop: self
                    )
                }
            } else {
                // A transport written elsewhere (TLS) offers no drain hook: look again every
                // millisecond while it is over its high-water mark.
                while transport.writeBufferSize > transport.writeBufferLimits.high, !transport.isClosing {
                    try await AsyncIO.sleep(.milliseconds(1))
                }
            }
        }
    }

    /// Sends `file` over `socket`, from `offset`, `count` bytes or to the end of the file; returns
    /// the number of bytes sent.
    ///
    /// Uses `sendfile(2)` for a regular file on a stream socket, otherwise (if `fallback`) reads
    /// the file on the thread pool and sends it with `sockSendAll`. The file's position is left at
    /// `offset` + bytes sent.
    ///
    /// - Throws: as `sendfile(_:file:offset:count:fallback:)`; `AsyncIOError.invalidArgument` for a
    ///   socket that is not `SOCK_STREAM`. Mirrors `loop.sock_sendfile(sock, file, offset=0,
    ///   count=None, *, fallback=True)`.
    @discardableResult
    public func sockSendfile(
        _ socket: Socket,
        file: Int32,
        offset: Int = 0,
        count: Int? = nil,
        fallback: Bool = true
    ) async throws -> Int {
        try checkSendfileArguments(offset: offset, count: count)
        guard socket.type == Int32(SOCK_STREAM.rawValue) else {
            throw AsyncIOError.invalidArgument("only SOCK_STREAM type sockets are supported")
        }
        if isRegularFile(file) {
            do {
                return try await sendfileNative(file: file, offset: offset, count: count) { () throws(SystemError) in
                    try socket.liveDescriptor("sendfile")
                } waitWritable: {
                    try await self.waitReady(socket, try socket.liveDescriptor("sendfile"), writable: true)
                }
            } catch is SendfileNotAvailableError where fallback {}
        } else if !fallback {
            throw SendfileNotAvailableError("not a regular file")
        }
        return try await sendfileFallback(file: file, offset: offset, count: count) { chunk in
            try await self.sockSendAll(socket, chunk)
        }
    }

    private func checkSendfileArguments(offset: Int, count: Int?) throws(AsyncIOError) {
        guard offset >= 0 else {
            throw AsyncIOError.invalidArgument("offset must be a non-negative integer (got \(offset))")
        }
        if let count, count <= 0 {
            throw AsyncIOError.invalidArgument("count must be a positive integer (got \(count))")
        }
    }

    /// The `sendfile(2)` loop: one call per writability report, until `count` bytes or the end of
    /// the file. An error on the first call means the kernel cannot do it here.
    private func sendfileNative<E: Error>(
        file: Int32,
        offset: Int,
        count: Int?,
        descriptor: () throws(E) -> Int32,
        waitWritable: () async throws -> Void
    ) async throws -> Int {
        var sent = 0
        defer { if sent > 0 { lseek(file, off_t(offset + sent), SEEK_SET) } }
        while count.map({ sent < $0 }) ?? true {
            // Linux moves at most 0x7ffff000 bytes per call.
            let chunk = min(count.map { $0 - sent } ?? Int.max, 0x7fff_f000)
            var position = off_t(offset + sent)
            let result = Glibc.sendfile(try descriptor(), file, &position, chunk)
            if result == 0 { break }  // the end of the file
            if result > 0 {
                sent += result
                try await waitWritable()
                continue
            }
            let error = errno
            if error == EAGAIN || error == EINTR {
                try await waitWritable()
            } else if sent == 0, [EINVAL, ENOSYS, EOPNOTSUPP, EOVERFLOW, ENOTSOCK].contains(error) {
                throw SendfileNotAvailableError("sendfile call failed: \(String(cString: strerror(error)))")
            } else {
                throw SystemError(call: "sendfile", errno: error)
            }
        }
        return sent
    }

    /// Reads the file in 256 KiB chunks on the thread pool and hands each to `send`.
    private func sendfileFallback(
        file: Int32,
        offset: Int,
        count: Int?,
        send: ([UInt8]) async throws -> Void
    ) async throws -> Int {
        let seekable = isRegularFile(file)
        if !seekable, offset > 0, lseek(file, off_t(offset), SEEK_SET) < 0 {
            throw SystemError(call: "lseek", errno: errno)
        }
        var sent = 0
        defer { if seekable { lseek(file, off_t(offset + sent), SEEK_SET) } }
        while count.map({ sent < $0 }) ?? true {
            let wanted = min(count.map { $0 - sent } ?? Int.max, 256 * 1024)
            let position = off_t(offset + sent)
            let chunk = try await runInExecutor { () throws -> [UInt8] in
                var buffer = [UInt8](repeating: 0, count: wanted)
                while true {
                    let got = buffer.withUnsafeMutableBytes { bytes in
                        seekable
                            ? pread(file, bytes.baseAddress, wanted, position) : read(file, bytes.baseAddress, wanted)
                    }
                    if got >= 0 {
                        buffer.removeSubrange(got...)
                        return buffer
                    }
                    guard errno == EINTR else { throw SystemError(call: "read", errno: errno) }
                }
            }.value
            if chunk.isEmpty { break }  // the end of the file
            try await send(chunk)
            sent += chunk.count
        }
        return sent
    }

    private func isRegularFile(_ file: Int32) -> Bool {
        var status = stat()
        return fstat(file, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
    }
}

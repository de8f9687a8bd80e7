import CAsyncIOShims
import Glibc

extension EventLoop {
    /// Connects the read end of a pipe, FIFO, tty or socket to a protocol made by `factory`.
    ///
    /// The transport takes `fd` over: it makes it non-blocking (which, for a descriptor shared with
    /// other processes such as a terminal's, they see too, as with asyncio) and closes it after
    /// `connectionLost`.
    ///
    /// - Throws: `AsyncIOError.invalidArgument` if `fd` is a regular file or directory (epoll
    ///   cannot watch those; read them on the thread pool); `SystemError` (EBADF).
    /// - Returns: the transport and the protocol. Mirrors `loop.connect_read_pipe(factory, pipe)`.
    public func connectReadPipe<P: ReadPipeProtocol>(
        _ factory: () throws -> P,
        fd: Int32
    ) async throws -> (any ReadTransport, P) {
        _ = try pipeKind(fd)
        let proto = try factory()
        let transport = ReadPipeTransport(loop: self, fd: fd, protocol: proto)
        transport.start(loop: self)
        return (transport, proto)
    }

    /// Connects the write end of a pipe, FIFO, tty or socket to a protocol made by `factory`.
    ///
    /// The transport takes `fd` over (non-blocking, closed after `connectionLost`). Writing to a
    /// pipe whose reader is gone raises SIGPIPE, which kills a process by default: the first call
    /// sets SIGPIPE to "ignore" if it had the default disposition, as Python does at startup, so
    /// the write fails with EPIPE instead (children spawned by the loop get the default back).
    ///
    /// - Throws: as `connectReadPipe`. Mirrors `loop.connect_write_pipe(factory, pipe)`.
    public func connectWritePipe<P: WritePipeProtocol>(
        _ factory: () throws -> P,
        fd: Int32
    ) async throws -> (any WriteTransport, P) {
        let proto = try factory()
        let transport = try makeWritePipe(fd: fd, protocol: proto)
        transport.start(loop: self) { proto.connectionMade($0, loop: self) }
        return (transport, proto)
    }

    /// A write pipe transport on `fd`, not started (subprocesses start it with their own protocol).
    func makeWritePipe(fd: Int32, protocol proto: any BaseProtocol) throws -> WritePipeTransport {
        let kind = try pipeKind(fd)
        Self.ignoreSIGPIPE
        return WritePipeTransport(loop: self, fd: fd, protocol: proto, watchesReader: kind != S_IFCHR)
    }

    /// The file type of `fd` (`S_IFIFO`, `S_IFSOCK` or `S_IFCHR`), made non-blocking.
    private func pipeKind(_ fd: Int32) throws -> UInt32 {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw SystemError(call: "fstat", errno: errno) }
        let kind = status.st_mode & S_IFMT
        guard kind == S_IFIFO || kind == S_IFSOCK || kind == S_IFCHR else {
            throw AsyncIOError.invalidArgument("Pipe transport is for pipes/sockets only.")
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0, flags & O_NONBLOCK == 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
        return kind
    }

    /// Sets SIGPIPE to SIG_IGN once per process, unless someone installed a disposition already.
    private static let ignoreSIGPIPE: Void = {
        if casyncio_signal_is_default(SIGPIPE) == 1 { _ = signal(SIGPIPE, SIG_IGN) }
    }()
}

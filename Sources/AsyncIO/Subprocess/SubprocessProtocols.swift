/// A protocol for the read end of a pipe: asyncio's `Protocol` as `connect_read_pipe` uses it.
///
/// Order of calls: `start -> connectionMade [-> dataReceived*] [-> eofReceived] -> connectionLost -> end`.
/// `eofReceived` comes when the writer closed its end; the transport closes right after, whatever
/// it returns (a pipe has no half-open state), so it returns nothing here.
///
/// Mirrors `asyncio.Protocol` used with `loop.connect_read_pipe()`.
public protocol ReadPipeProtocol: BaseProtocol {
    /// The pipe is connected; keep `transport` to pause or close it.
    func connectionMade(_ transport: any ReadTransport, loop: isolated EventLoop)

    /// Bytes arrived, borrowed for this call only: copy what you keep. Mirrors `data_received(data)`.
    func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop)

    /// The writer closed its end; `connectionLost(nil)` follows. Mirrors `eof_received()`.
    func eofReceived(loop: isolated EventLoop)
}

/// A protocol for the write end of a pipe: `connectionMade`, flow control and the end.
///
/// Order of calls: `start -> connectionMade [-> pauseWriting -> resumeWriting]* -> connectionLost -> end`.
/// `connectionLost` comes after `close()` flushed, after `abort()`, or when the reader closed its
/// end (with `SystemError` EPIPE if bytes were still queued).
///
/// Mirrors `asyncio.BaseProtocol` used with `loop.connect_write_pipe()`.
public protocol WritePipeProtocol: BaseProtocol {
    /// The pipe is connected; keep `transport` to write.
    func connectionMade(_ transport: any WriteTransport, loop: isolated EventLoop)
}

extension ReadPipeProtocol {
    public func connectionMade(_ transport: any ReadTransport, loop: isolated EventLoop) {}
    public func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {}
    public func eofReceived(loop: isolated EventLoop) {}
}

extension WritePipeProtocol {
    public func connectionMade(_ transport: any WriteTransport, loop: isolated EventLoop) {}
}

/// A running child process as a transport: its pid, its pipes, signals.
///
/// Mirrors `asyncio.SubprocessTransport`.
public protocol SubprocessTransport: BaseTransport {
    /// The child's process id. Mirrors `get_pid()`.
    var pid: Int32 { get }

    /// The child's exit status once it exited: its exit code, or minus the signal that ended it
    /// (`-9` for SIGKILL); nil while it runs. Mirrors `get_returncode()`.
    var returncode: Int32? { get }

    /// The transport of the pipe on the child's descriptor `fd` (0: a `WriteTransport` to its
    /// standard input; 1, 2: `ReadTransport`s of its output), or nil if that one is not a pipe.
    ///
    /// Mirrors `get_pipe_transport(fd)`.
    func pipeTransport(fd: Int32) -> (any BaseTransport)?

    /// Sends `signal` to the child; does nothing once it exited.
    ///
    /// - Throws: `SystemError` ESRCH (asyncio's `ProcessLookupError`) once the transport is
    ///   closed. Mirrors `send_signal(signal)`.
    func sendSignal(_ signal: Int32) throws

    /// Sends SIGTERM. Mirrors `terminate()`.
    func terminate() throws

    /// Sends SIGKILL. Mirrors `kill()`.
    func kill() throws
}

/// What a child process tells: data on its pipes, their ends, its exit.
///
/// Order of calls: `start -> connectionMade [-> pipeDataReceived | pipeConnectionLost | processExited]*
/// -> connectionLost -> end`. `connectionLost(nil)` comes once the child exited and every pipe
/// closed. Write flow control on the stdin pipe arrives as `pauseWriting` / `resumeWriting`.
///
/// Mirrors `asyncio.SubprocessProtocol`.
public protocol SubprocessProtocol: BaseProtocol {
    /// The child is running. Mirrors `connection_made(transport)`.
    func connectionMade(_ transport: any SubprocessTransport, loop: isolated EventLoop)

    /// The child wrote `data` to its descriptor `fd` (1 or 2), borrowed for this call only.
    ///
    /// Mirrors `pipe_data_received(fd, data)`.
    func pipeDataReceived(fd: Int32, data: Span<UInt8>, loop: isolated EventLoop)

    /// The pipe on the child's descriptor `fd` closed, with `error` if it failed.
    ///
    /// Mirrors `pipe_connection_lost(fd, exc)`.
    func pipeConnectionLost(fd: Int32, error: (any Error)?, loop: isolated EventLoop)

    /// The child exited (its status is the transport's `returncode`). Mirrors `process_exited()`.
    func processExited(loop: isolated EventLoop)
}

extension SubprocessProtocol {
    public func connectionMade(_ transport: any SubprocessTransport, loop: isolated EventLoop) {}
    public func pipeDataReceived(fd: Int32, data: Span<UInt8>, loop: isolated EventLoop) {}
    public func pipeConnectionLost(fd: Int32, error: (any Error)?, loop: isolated EventLoop) {}
    public func processExited(loop: isolated EventLoop) {}
}

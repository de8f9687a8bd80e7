import Glibc

/// A child process whose pipes are streams: asyncio's `asyncio.subprocess.Process`.
///
/// Made by `loop.createSubprocessExec` / `createSubprocessShell`. `stdin` is a `StreamWriter`
/// (write, `drain()`, `close()`), `stdout` and `stderr` are `StreamReader`s, each present only if
/// it was asked for as `.pipe`.
///
/// ```swift
/// let process = try await loop.createSubprocessExec("sort", stdin: .pipe, stdout: .pipe)
/// let (output, _) = try await process.communicate(input: Array("b\na\n".utf8))
/// print(process.returncode!)  // 0
/// ```
///
/// `wait()` with `stdout: .pipe` and nobody reading can deadlock once the child fills the pipe,
/// as in asyncio: read the streams, or use `communicate`, which reads them while it writes.
///
/// Not Sendable: used on its loop. Mirrors `asyncio.subprocess.Process`. The name is asyncio's;
/// where Foundation is imported too, write `AsyncIO.Process`.
public final class Process: CustomStringConvertible {
    /// The child's standard input, if it was `.pipe`.
    public let stdin: StreamWriter?
    /// The child's standard output, if it was `.pipe`.
    public let stdout: StreamReader?
    /// The child's standard error, if it was `.pipe`.
    public let stderr: StreamReader?
    private let transport: ChildProcessTransport
    private let proto: SubprocessStreamProtocol

    init(transport: ChildProcessTransport, protocol proto: SubprocessStreamProtocol) {
        self.transport = transport
        self.proto = proto
        stdin = proto.stdin
        stdout = proto.stdout
        stderr = proto.stderr
    }

    /// The child's process id. Mirrors `pid`.
    public var pid: Int32 { transport.pid }

    /// The exit code, or minus the signal that ended the child; nil while it runs.
    ///
    /// Mirrors `returncode`.
    public var returncode: Int32? { transport.returncode }

    /// Waits for the child to exit (and its pipes to close); returns `returncode`.
    ///
    /// - Throws: `CancelledError`. Mirrors `wait()`.
    @discardableResult
    public func wait() async throws -> Int32 {
        try await transport.wait()
    }

    /// Sends `input` (if any) to the child's stdin and closes it, reads stdout and stderr to
    /// their end, all at once, then waits for the child to exit.
    ///
    /// Writing and reading go on together, so a child that writes a lot before it reads all its
    /// input cannot deadlock it. A child that exits without reading its input is not an error
    /// (EPIPE and ECONNRESET on stdin are ignored, as in asyncio).
    ///
    /// - Returns: what stdout and stderr gave, nil for those that are not `.pipe`.
    /// - Throws: what reading the streams throws; `CancelledError`. Mirrors `communicate(input=None)`.
    public func communicate(input: [UInt8]? = nil) async throws -> (stdout: [UInt8]?, stderr: [UInt8]?) {
        // SAFETY: this runs on the loop's thread (`loopForAwait` checks it), as the isolated
        // function it hands the process to does.
        try await Self.communicate(UnsafeTransfer(self), input, loop: try loopForAwait())
    }

    private static func communicate(
        _ process: UnsafeTransfer<Process>,
        _ input: [UInt8]?,
        loop: isolated EventLoop
    ) async throws -> (stdout: [UInt8]?, stderr: [UInt8]?) {
        let process = process.value
        let feeding = loop.createTask { try await process.feedStdin(input) }
        let output = loop.createTask { try await process.readToEnd(fd: 1) }
        let errors = loop.createTask { try await process.readToEnd(fd: 2) }
        do {
            try await feeding.value
            let result = (stdout: try await output.value, stderr: try await errors.value)
            try await process.wait()
            return result
        } catch {
            feeding.cancel()
            output.cancel()
            errors.cancel()
            throw error
        }
    }

    private func feedStdin(_ input: [UInt8]?) async throws {
        guard let stdin else { return }
        do {
            if let input { try stdin.write(input) }
            try await stdin.drain()
        } catch let error as SystemError where [EPIPE, ECONNRESET].contains(error.errno) {
            // The child did not read all of it: communicate() ignores that, as asyncio does.
        }
        stdin.close()
    }

    private func readToEnd(fd: Int32) async throws -> [UInt8]? {
        guard let stream = fd == 1 ? stdout : stderr else { return nil }
        let output = try await stream.read()
        transport.pipeTransport(fd: fd)?.close()
        return output
    }

    /// Sends `signal` to the child; does nothing if it exited.
    ///
    /// - Throws: `SystemError` ESRCH once `wait()` returned. Mirrors `send_signal(signal)`.
    public func sendSignal(_ signal: Int32) throws { try transport.sendSignal(signal) }

    /// Sends SIGTERM. Mirrors `terminate()`.
    public func terminate() throws { try transport.terminate() }

    /// Sends SIGKILL. Mirrors `kill()`.
    public func kill() throws { try transport.kill() }

    public var description: String { "<Process \(pid)\(returncode.map { " returncode=\($0)" } ?? "")>" }
}

/// Feeds a child's output pipes into `StreamReader`s and makes a `StreamWriter` of its stdin:
/// asyncio's `SubprocessStreamProtocol`. Closes the transport once the child exited and every pipe
/// closed.
final class SubprocessStreamProtocol: SubprocessProtocol {
    private let limit: Int
    private(set) var stdin: StreamWriter?
    private(set) var stdout: StreamReader?
    private(set) var stderr: StreamReader?
    /// The stdin writer's flow control (`drain`): pause and resume arrive here from the pipe.
    private let flow: StreamReaderProtocol
    private var transport: (any SubprocessTransport)?
    private var openPipes: Set<Int32> = []
    private var exited = false

    init(limit: Int) throws {
        self.limit = limit
        flow = StreamReaderProtocol(try StreamReader(limit: limit))
    }

    func connectionMade(_ transport: any SubprocessTransport, loop: isolated EventLoop) {
        self.transport = transport
        for fd: Int32 in [1, 2] {
            guard let pipe = transport.pipeTransport(fd: fd) as? any ReadTransport else { continue }
            let reader = StreamReader(validLimit: limit)
            try? reader.setTransport(pipe)
            if fd == 1 { stdout = reader } else { stderr = reader }
            openPipes.insert(fd)
        }
        if let pipe = transport.pipeTransport(fd: 0) as? any Transport {
            stdin = StreamWriter(transport: pipe, protocol: flow, reader: nil)
        }
    }

    func pipeDataReceived(fd: Int32, data: Span<UInt8>, loop: isolated EventLoop) {
        try? (fd == 1 ? stdout : stderr)?.feedData(data)
    }

    func pipeConnectionLost(fd: Int32, error: (any Error)?, loop: isolated EventLoop) {
        if fd == 0 {
            transport?.pipeTransport(fd: 0)?.close()
            flow.connectionLost(error, loop: loop)
            return
        }
        if let reader = fd == 1 ? stdout : stderr {
            if let error { reader.setException(error) } else { reader.feedEOF() }
        }
        openPipes.remove(fd)
        closeTransportIfDone()
    }

    func processExited(loop: isolated EventLoop) {
        exited = true
        closeTransportIfDone()
    }

    func pauseWriting(loop: isolated EventLoop) { flow.pauseWriting(loop: loop) }
    func resumeWriting(loop: isolated EventLoop) { flow.resumeWriting(loop: loop) }

    private func closeTransportIfDone() {
        guard openPipes.isEmpty, exited, let transport else { return }
        transport.close()
        self.transport = nil
    }
}

// Theory of operation
//
// A child process on the loop (asyncio's `_BaseSubprocessTransport`): the child's pipes are pipe
// transports whose protocols forward to the user's `SubprocessProtocol` with the child's descriptor
// number; its exit comes from its pidfd turning readable (or from a waiter thread where there is no
// pidfd), and the child is reaped right then, so no zombie outlives the loop's next iteration.
//
// The end, as in asyncio 3.12+: `processExited` when the child exits; `connectionLost(nil)` once
// it exited AND every pipe closed; `wait()` returns then too. A pipe held open by a grandchild
// therefore holds `wait()` as well, as in Python.
//
// No child is left behind: the loop keeps every child it started until the child is reaped, and
// closing the loop kills (SIGKILL) and reaps those still running (`reapAtClose`).
import CAsyncIOShims
import Foundation
import Glibc

final class ChildProcessTransport: SubprocessTransport, CustomStringConvertible {
    let loop: EventLoop
    let pid: Int32
    private(set) var returncode: Int32?
    private var pidfd: Int32
    private var proto: (any SubprocessProtocol)?
    /// The pipe transports by the child's descriptor; a closed pipe stays, marked in `disconnected`.
    private var pipes: [Int32: any BaseTransport] = [:]
    private var disconnected: Set<Int32> = []
    private(set) var isClosing = false
    private var finished = false
    /// `connectionLost` was called: the child is gone and reaped, the transport done.
    private var isDone = false
    private var exitWaiters: [Future<Int32>] = []

    init(loop: EventLoop, child: SpawnedChild, protocol proto: any SubprocessProtocol) {
        self.loop = loop
        pid = child.pid
        pidfd = child.pidfd
        self.proto = proto
    }

    /// Connects the pipes, tells the protocol, and starts watching for the exit.
    func start(_ child: SpawnedChild, loop: isolated EventLoop) throws {
        loop.core.io.children[pid] = self
        if let fd = child.pipes[0] {
            let pipe = try loop.makeWritePipe(fd: fd, protocol: WritePipeForwarder(self))
            pipes[0] = pipe
        }
        for target: Int32 in [1, 2] {
            guard let fd = child.pipes[target] else { continue }
            pipes[target] = ReadPipeTransport(loop: loop, fd: fd, protocol: ReadPipeForwarder(self, fd: target))
        }
        proto?.connectionMade(self, loop: loop)
        (pipes[0] as? WritePipeTransport)?.start(loop: loop) { _ in }
        for target: Int32 in [1, 2] { (pipes[target] as? ReadPipeTransport)?.start(loop: loop) }
        watchExit(loop: loop)
    }

    private func watchExit(loop: isolated EventLoop) {
        if pidfd >= 0 {
            do {
                try loop.addReader(pidfd) { [self] in
                    self.loop.runIsolated(self) { child, loop in child.reap(loop: loop) }
                }
                return
            } catch {
                Glibc.close(pidfd)
                pidfd = -1
            }
        }
        // No pidfd: one thread blocks in waitpid for this child (asyncio's ThreadedChildWatcher).
        let (pid, core) = (pid, loop.core)
        let thread = Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
            let exited = status
            core.pushThreadSafe(
                .handle(
                    Handle(core: core) {
                        guard let child = core.existingIO?.children[pid] else { return }
                        child.loop.runIsolated(child) { child, loop in child.exited(status: exited, loop: loop) }
                    }
                )
            )
        }
        thread.start()
    }

    /// The pidfd is readable: the child exited; reap it.
    private func reap(loop: isolated EventLoop) {
        var status: Int32 = 0
        var result: Int32
        repeat { result = waitpid(pid, &status, WNOHANG) } while result < 0 && errno == EINTR
        guard result != 0 else { return }  // not yet (a spurious report)
        if result < 0 { status = 0xff << 8 }  // reaped by someone else: exit status unknown (255)
        exited(status: status, loop: loop)
    }

    private func exited(status: Int32, loop: isolated EventLoop) {
        guard returncode == nil else { return }
        if pidfd >= 0 {
            loop.removeReader(pidfd)
            Glibc.close(pidfd)
            pidfd = -1
        }
        loop.core.io.children[pid] = nil
        returncode = Spawn.returncode(status: status)
        if loop.debug { loop.logger.info("\(self) exited with return code \(returncode!)") }
        proto?.processExited(loop: loop)
        tryFinish(loop: loop)
    }

    fileprivate func pipeConnectionLost(fd: Int32, error: (any Error)?, loop: isolated EventLoop) {
        disconnected.insert(fd)
        proto?.pipeConnectionLost(fd: fd, error: error, loop: loop)
        tryFinish(loop: loop)
    }

    fileprivate func pipeDataReceived(fd: Int32, data: Span<UInt8>, loop: isolated EventLoop) {
        proto?.pipeDataReceived(fd: fd, data: data, loop: loop)
    }

    fileprivate func pauseWriting(loop: isolated EventLoop) { proto?.pauseWriting(loop: loop) }
    fileprivate func resumeWriting(loop: isolated EventLoop) { proto?.resumeWriting(loop: loop) }

    /// Once the child exited and every pipe closed: `connectionLost(nil)` in the next iteration,
    /// then `wait()` returns.
    private func tryFinish(loop: isolated EventLoop) {
        guard let returncode, !finished, disconnected.count == pipes.count else { return }
        finished = true
        loop.callSoon { [self] in
            let proto = self.proto
            self.proto = nil
            isDone = true
            proto?.connectionLost(nil, loop: loop)
            let waiters = exitWaiters
            exitWaiters = []
            for waiter in waiters where !waiter.isDone { waiter.complete(.succeeded(returncode)) }
        }
    }

    /// Waits until the child exited and its pipes closed; returns `returncode`.
    func wait() async throws -> Int32 {
        if isDone, let returncode { return returncode }
        let waiter = Future<Int32>(core: loop.core)
        exitWaiters.append(waiter)
        return try await waiter.value
    }

    // MARK: - SubprocessTransport

    func pipeTransport(fd: Int32) -> (any BaseTransport)? { pipes[fd] }

    func sendSignal(_ signal: Int32) throws {
        guard !isDone else { throw SystemError(call: "kill", errno: ESRCH) }
        guard returncode == nil else { return }
        // The pidfd names this child even if its pid were reused; kill(2) is used without one.
        let result = pidfd >= 0 ? casyncio_pidfd_send_signal(pidfd, signal) : Glibc.kill(pid, signal)
        if result != 0, errno != ESRCH { throw SystemError(call: "kill", errno: errno) }
    }

    func terminate() throws { try sendSignal(SIGTERM) }

    func kill() throws { try sendSignal(SIGKILL) }

    /// Closes the pipes and kills the child if it still runs. Mirrors `close()`.
    func close() {
        guard !isClosing else { return }
        isClosing = true
        for (fd, pipe) in pipes where !disconnected.contains(fd) { pipe.close() }
        if returncode == nil {
            if loop.core.debug { loop.logger.warning("Close running child process: kill \(self)") }
            try? sendSignal(SIGKILL)
        }
    }

    /// Kills the child if it still runs and reaps it: what closing the loop does to every child.
    func reapAtClose() {
        guard returncode == nil else { return }
        if pidfd >= 0 { _ = casyncio_pidfd_send_signal(pidfd, SIGKILL) } else { _ = Glibc.kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        returncode = Spawn.returncode(status: status)
        if pidfd >= 0 {
            Glibc.close(pidfd)
            pidfd = -1
        }
    }

    var extraInfo: TransportExtraInfo { TransportExtraInfo() }

    var description: String {
        "<ChildProcessTransport pid=\(pid)\(returncode.map { " returncode=\($0)" } ?? " running")\(isClosing ? " closing" : "")>"
    }
}

// The forwarders hold their child strongly: the cycle (child → pipe → forwarder → child) ends when
// the pipe's `connectionLost` lets go of its protocol.

/// Forwards the stdin pipe's flow control and end to the child's protocol.
private final class WritePipeForwarder: BaseProtocol {
    let child: ChildProcessTransport?
    init(_ child: ChildProcessTransport) { self.child = child }

    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        child?.pipeConnectionLost(fd: 0, error: error, loop: loop)
    }
    func pauseWriting(loop: isolated EventLoop) { child?.pauseWriting(loop: loop) }
    func resumeWriting(loop: isolated EventLoop) { child?.resumeWriting(loop: loop) }
}

/// Forwards an output pipe's data and end to the child's protocol, with the child's descriptor.
private final class ReadPipeForwarder: ReadPipeProtocol {
    let child: ChildProcessTransport?
    let fd: Int32
    init(_ child: ChildProcessTransport, fd: Int32) {
        self.child = child
        self.fd = fd
    }

    func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {
        child?.pipeDataReceived(fd: fd, data: data, loop: loop)
    }
    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        child?.pipeConnectionLost(fd: fd, error: error, loop: loop)
    }
}

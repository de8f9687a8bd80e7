import Foundation
import Glibc

/// An example program started as a child process, with its stdout read line by line.
///
/// The executable is found next to the test executable (`.build/debug/<Name>`), so build
/// everything first: `swift build --build-tests`. It is started with `posix_spawn` and an empty
/// signal mask with default dispositions (the test runner's threads may block SIGTERM, and a child
/// inherits that mask). Every wait has a deadline.
final class ExampleProcess: @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): `output`, `exitStatus` are guarded by `lock`; `pid` and the
    // pipe descriptor are immutable after init.
    let pid: pid_t
    private let lock = NSLock()
    private var output = ""
    private var exitStatus: Int32?
    /// The reader thread saw the end of the child's output.
    private var outputEnded = false
    /// The file the child's stderr goes to.
    private let errorsPath: String

    init(_ name: String, arguments: [String]) throws {
        let testExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let candidates = [
            testExecutable.deletingLastPathComponent(),
            Bundle.main.bundleURL,
            Bundle.main.bundleURL.deletingLastPathComponent(),
        ].map { $0.appendingPathComponent(name).path }
        // An absolute path (a peer such as /usr/bin/env python3) is used as it is.
        let path =
            name.hasPrefix("/")
            ? name : candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]

        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        // Close-on-exec (the dup2 below gives the example its own inheritable copy): tests run in
        // parallel, and a long-lived child another test spawns meanwhile (a server, a peer) would
        // otherwise inherit the write end, and this pipe would not reach EOF until that child exits.
        // Seen as the whole suite stalling until the fault server's 600 s deadline.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        errorsPath =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("\(name.split(separator: "/").last ?? "child")-\(UUID().uuidString).stderr").path
        posix_spawn_file_actions_addopen(&actions, 2, errorsPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        posix_spawn_file_actions_destroy(&actions)
        posix_spawnattr_destroy(&attributes)
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            throw POSIXError(POSIXErrorCode(rawValue: result) ?? .ENOENT)
        }
        pid = child
        let readFD = fds[0]
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                lock.lock()
                output += String(decoding: buffer[..<count], as: UTF8.self)
                lock.unlock()
            }
            close(readFD)
            lock.lock()
            outputEnded = true
            lock.unlock()
        }
        thread.start()
    }

    deinit {
        if reap(block: false) == nil {
            kill(pid, SIGKILL)
            _ = reap(block: true)
        }
        unlink(errorsPath)
    }

    /// The child's wait status once it exited (nil while it runs).
    private func reap(block: Bool) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        if waitpid(pid, &status, block ? 0 : WNOHANG) == pid {
            exitStatus = status
            return status
        }
        return nil
    }

    /// Everything printed so far.
    var printed: String {
        lock.lock()
        defer { lock.unlock() }
        return output
    }

    /// Everything the child wrote on stderr so far.
    var errors: String {
        (try? String(contentsOfFile: errorsPath, encoding: .utf8)) ?? ""
    }

    /// Waits (up to `seconds`) until the child catches every one of `signals` (it installed its
    /// handlers), as /proc/PID/status's SigCgt mask shows: a signal sent before that would kill it.
    func waitUntilCatching(_ signals: [Int32], seconds: Double = 60) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            let caught = status.split(separator: "\n").first { $0.hasPrefix("SigCgt:") }
                .flatMap { UInt64($0.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16) }
            if let caught, signals.allSatisfy({ caught & (1 << UInt64($0 - 1)) != 0 }) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Waits (up to `seconds`) until the output contains `text`.
    func waitForOutput(containing text: String, seconds: Double = 10) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if printed.contains(text) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return printed.contains(text)
    }

    /// The port from the "… listening on: 127.0.0.1:PORT" line.
    func port(seconds: Double = 10) async throws -> UInt16? {
        guard try await waitForOutput(containing: "listening on: 127.0.0.1:", seconds: seconds) else { return nil }
        let text = printed
        guard let range = text.range(of: "listening on: 127.0.0.1:") else { return nil }
        return UInt16(text[range.upperBound...].prefix { $0.isNumber })
    }

    /// How the process ended.
    enum Exit: Equatable {
        case exited(Int32)
        case signalled(Int32)
    }

    /// Waits (up to `seconds`) for the process to end; nil (after a SIGKILL) if it did not.
    ///
    /// It also waits (within the same deadline) until its output was read to the end, so that
    /// `printed` is complete when this returns: the child's exit can be seen before the reader
    /// thread has drained the pipe.
    func waitForExit(seconds: Double = 10) async throws -> Exit? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let status = reap(block: false) {
                while Date() < deadline && !lock.withLock({ outputEnded }) {
                    try await Task.sleep(for: .milliseconds(5))
                }
                let signal = status & 0x7F
                return signal == 0 ? .exited((status >> 8) & 0xFF) : .signalled(signal)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(pid, SIGKILL)
        _ = reap(block: true)
        return nil
    }

    /// Sends `signal` to the process.
    func send(_ signal: Int32) {
        kill(pid, signal)
    }
}

/// A blocking client socket with a 10-second deadline on every call.
final class Client: Sendable {
    let fd: Int32

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { return }
            sent += count
        }
    }

    /// Receives exactly `count` bytes (fewer at EOF or after the deadline).
    func receive(_ count: Int) -> String {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while result.count < count {
            let received = buffer.withUnsafeMutableBytes {
                recv(fd, $0.baseAddress, min($0.count, count - result.count), 0)
            }
            guard received > 0 else { break }
            result += buffer[..<received]
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Receives until EOF (or the deadline).
    func receiveToEOF() -> String { receive(Int.max) }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }
}

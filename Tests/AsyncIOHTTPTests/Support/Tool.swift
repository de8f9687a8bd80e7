import AsyncIO
import Foundation
import Glibc

/// Runs a command-line tool to completion (with a deadline) and returns its exit status and output.
///
/// A tool that is not installed fails the test with a clear error: scripts/test.sh installs them
/// (curl, wrk, python3 with h11), and a missing one must not turn into a skipped test.
enum Tool {
    struct Missing: Error, CustomStringConvertible {
        var name: String
        var description: String { "\(name) is not installed: run scripts/test.sh, which installs it" }
    }

    struct Result: Sendable {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `name` (found on PATH) with `arguments`, feeding `input` to its stdin.
    ///
    /// Spawned with `posix_spawn` from a thread of its own (not Foundation's `Process`, not on
    /// Swift's cooperative threads); killed if it runs longer than `seconds`.
    static func run(
        _ name: String,
        _ arguments: [String],
        input: String? = nil,
        seconds: Double = 60
    ) async throws
        -> Result
    {
        guard let path = find(name) else { throw Missing(name: name) }
        return try await RawClient.onThread { try spawn(path, arguments, input: input, seconds: seconds) }
    }

    private static func spawn(_ path: String, _ arguments: [String], input: String?, seconds: Double) throws -> Result {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        var inPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0, pipe(&inPipe) == 0 else {
            throw SystemError(call: "pipe", errno: errno)
        }
        for fd in outPipe + errPipe + inPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // see ExampleProcess
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in [inPipe[1], outPipe[0], errPipe[0], inPipe[0], outPipe[1], errPipe[1]] {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, path, &actions, nil, argv, environ)
        posix_spawn_file_actions_destroy(&actions)
        for fd in [inPipe[0], outPipe[1], errPipe[1]] { close(fd) }
        defer { for fd in [outPipe[0], errPipe[0]] { close(fd) } }
        guard spawned == 0 else {
            close(inPipe[1])
            throw SystemError(call: "posix_spawn \(path)", errno: spawned)
        }
        if let input {
            let bytes = Array(input.utf8)
            var offset = 0
            while offset < bytes.count {
                let count = bytes.withUnsafeBytes { write(inPipe[1], $0.baseAddress! + offset, $0.count - offset) }
                guard count > 0 else { break }
                offset += count
            }
        }
        close(inPipe[1])
        // Both pipes until EOF (or the deadline), then the exit status.
        let deadline = Date().addingTimeInterval(seconds)
        var output: [[UInt8]] = [[], []]
        var open = [outPipe[0], errPipe[0]]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty, Date() < deadline {
            var polls = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&polls, nfds_t(polls.count), 200) > 0 else { continue }
            for entry in polls where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    output[entry.fd == outPipe[0] ? 0 : 1] += buffer[0..<count]
                } else {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        var status: Int32 = 0
        if !open.isEmpty { kill(child, SIGKILL) }
        waitpid(child, &status, 0)
        let exited = status & 0x7F == 0
        return Result(
            status: exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F),
            output: String(decoding: output[0], as: UTF8.self),
            errors: String(decoding: output[1], as: UTF8.self)
        )
    }

    static func find(_ name: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in paths + ["/usr/sbin", "/sbin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The directory of this test target's helper scripts.
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts")
}

import AsyncIO
import AsyncIOTLS
import Foundation
import Glibc

/// The certificates of the test suite, made once per test run in a temporary directory by
/// `make_pki.py` (Python's `cryptography`): never a key in the repository.
enum PKI {
    static let directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("asyncio-tls-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("make_pki.py")
        let result = try? Peer.runBlocking("python3", [script.path, path], seconds: 60)
        precondition(
            result?.status == 0,
            "make_pki.py failed (scripts/test.sh installs python3's cryptography): \(result?.errors ?? "")"
        )
        return path
    }()

    static func path(_ file: String) -> String { "\(directory)/\(file)" }
    static var ca: String { path("ca.pem") }

    /// A server context with the certificate `stem` (`server`, `expired`, `selfsigned`).
    static func server(_ stem: String = "server", alpn: [String] = []) throws -> TLSContext {
        try TLSContext(
            .server(certificateChainFile: path("\(stem).pem"), privateKeyFile: path("\(stem).key"), alpnProtocols: alpn)
        )
    }

    /// A client context trusting the test CA, verifying fully.
    static func client(alpn: [String] = []) throws -> TLSContext {
        try TLSContext(.client(trustRoots: .file(ca), alpnProtocols: alpn))
    }
}

/// A command-line peer (openssl, python3) run to completion with a deadline, off Swift's
/// cooperative pool, spawned with `posix_spawn`.
enum Peer {
    struct Result: Sendable {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `name` from PATH on a thread of its own.
    static func run(
        _ name: String,
        _ arguments: [String],
        input: String? = nil,
        seconds: Double = 30
    ) async throws
        -> Result
    {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(
                    with: Swift.Result { try runBlocking(name, arguments, input: input, seconds: seconds) }
                )
            }
            .start()
        }
    }

    static func runBlocking(
        _ name: String,
        _ arguments: [String],
        input: String? = nil,
        seconds: Double
    ) throws -> Result {
        var pipes: [[Int32]] = [[-1, -1], [-1, -1], [-1, -1]]
        for index in pipes.indices {
            guard pipe(&pipes[index]) == 0 else { throw SystemError(call: "pipe", errno: errno) }
            for fd in pipes[index] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // see ExampleProcess
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        for (index, ends) in pipes.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, index == 0 ? ends[0] : ends[1], Int32(index))
        }
        for ends in pipes { for fd in ends { posix_spawn_file_actions_addclose(&actions, fd) } }
        let argv = (["/usr/bin/env", name] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, "/usr/bin/env", &actions, nil, argv, environ)
        posix_spawn_file_actions_destroy(&actions)
        for fd in [pipes[0][0], pipes[1][1], pipes[2][1]] { close(fd) }
        defer { for fd in [pipes[1][0], pipes[2][0]] { close(fd) } }
        guard spawned == 0 else {
            close(pipes[0][1])
            throw SystemError(call: "posix_spawn \(name)", errno: spawned)
        }
        if let input {
            let bytes = Array(input.utf8)
            _ = bytes.withUnsafeBytes { write(pipes[0][1], $0.baseAddress, $0.count) }
        }
        close(pipes[0][1])
        let deadline = Date().addingTimeInterval(seconds)
        var output: [[UInt8]] = [[], []]
        var open = [pipes[1][0], pipes[2][0]]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty, Date() < deadline {
            var polls = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&polls, nfds_t(polls.count), 200) > 0 else { continue }
            for entry in polls where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    output[entry.fd == pipes[1][0] ? 0 : 1] += buffer[0..<count]
                } else {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        if !open.isEmpty { kill(child, SIGKILL) }
        var status: Int32 = 0
        waitpid(child, &status, 0)
        return Result(
            status: status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F),
            output: String(decoding: output[0], as: UTF8.self),
            errors: String(decoding: output[1], as: UTF8.self)
        )
    }

    /// A port that was free a moment ago.
    static func freePort() throws -> Int {
        let socket = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
        defer { socket.close() }
        try socket.bind(to: .ipv4(host: "127.0.0.1", port: 0))
        return try socket.localAddress().port ?? 0
    }
}

/// A protocol that records what reaches it, for the protocol-level tests.
final class Recorder: ConnectionProtocol {
    var transport: (any Transport)?
    var received: [UInt8] = []
    var events: [String] = []
    var lostError: (any Error)?
    let lost = Event()

    func connectionMade(_ transport: any Transport, loop: isolated EventLoop) {
        self.transport = transport
        events.append("made")
    }

    func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) { received.append(contentsOf: data) }

    func eofReceived(loop: isolated EventLoop) -> Bool {
        events.append("eof")
        return false
    }

    func pauseWriting(loop: isolated EventLoop) { events.append("pause") }

    func resumeWriting(loop: isolated EventLoop) { events.append("resume") }

    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        events.append("lost")
        lostError = error
        lost.set()
    }
}

/// Connects to a peer server that is still starting: retries for up to `seconds`.
func openWhenListening(
    _ loop: isolated EventLoop,
    port: Int,
    tls: TLSContext,
    serverHostname: String? = nil,
    seconds: Int = 20
) async throws -> (StreamReader, StreamWriter) {
    var attempts = 0
    while true {
        do {
            return try await loop.openConnection(
                host: "127.0.0.1",
                port: port,
                tls: tls,
                serverHostname: serverHostname
            )
        } catch let error as SystemError where error.errno == ECONNREFUSED && attempts < seconds * 20 {
            attempts += 1
            try await sleep(.milliseconds(50))
        }
    }
}

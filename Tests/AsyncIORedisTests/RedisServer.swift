import AsyncIO
import Foundation
import Glibc

/// A real redis-server on a free loopback port, started for one test and stopped by its own PID.
///
/// scripts/test.sh installs redis-server and redis-tools; a missing one fails the test loudly.
final class RedisServer: @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): `pid` is only touched by the test that owns the server,
    // one call at a time (start, stop, restart are sequential in every test).
    let port: Int
    private var pid: pid_t = 0

    struct Missing: Error, CustomStringConvertible {
        var description: String { "redis-server is not installed: run scripts/test.sh, which installs it" }
    }

    init(extraArguments: [String] = []) throws {
        port = try Self.freePort()
        self.extraArguments = extraArguments
        try start()
    }

    private let extraArguments: [String]

    /// Starts (again) on the same port and waits until it answers PING.
    func start() throws {
        guard
            let path = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else { throw Missing() }
        let arguments =
            [
                path, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--enable-debug-command", "yes", "--daemonize", "no", "--loglevel", "warning",
            ] + extraArguments
        pid = try spawn(arguments)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            // +PONG, or -NOAUTH from a server started with --requirepass: either way it is up.
            if let reply = try? Self.blockingCommand(port: port, "PING\r\n"),
                reply.hasPrefix("+PONG") || reply.hasPrefix("-NOAUTH")
            {
                return
            }
            usleep(20_000)
        }
        stop()
        throw POSIXError(.ETIMEDOUT)
    }

    /// Kills the server (SIGKILL to its PID) and reaps it.
    func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    deinit { stop() }

    /// Sends an inline command on a fresh blocking socket and returns the first reply bytes.
    static func blockingCommand(port: Int, _ command: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // SAFETY: sockaddr_in is layout-compatible with sockaddr; the pointer does not escape.
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let bytes = Array(command.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { throw POSIXError(.ECONNRESET) }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// A port nothing listens on right now (bound to 0, read back, released).
    static func freePort() throws -> Int {
        let (fd, port) = try loopbackSocket(listening: false)
        close(fd)
        return port
    }
}

/// A TCP socket bound to 127.0.0.1 on a port the kernel picks (listening if asked), and that port.
func loopbackSocket(listening: Bool) throws -> (Int32, Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    // SAFETY: sockaddr_in is layout-compatible with sockaddr; the pointer does not escape.
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && (!listening || listen(fd, 16) == 0) && getsockname(fd, $0, &length) == 0
        }
    }
    guard ok else {
        close(fd)
        throw POSIXError(.EADDRINUSE)
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// Spawns `arguments[0]` with stdout/stderr to /dev/null and default signal handling.
func spawn(_ arguments: [String]) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
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
    let argv = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var child: pid_t = 0
    let result = posix_spawn(&child, arguments[0], &actions, &attributes, argv, environ)
    posix_spawn_file_actions_destroy(&actions)
    posix_spawnattr_destroy(&attributes)
    guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .ENOENT) }
    return child
}

/// Runs redis-cli against `port` to completion (posix_spawn, on a thread of its own, not on the
/// cooperative pool) and returns its output.
func redisCLI(port: Int, _ arguments: String...) async throws -> String {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(
                with: Result {
                    var fds: [Int32] = [-1, -1]
                    guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
                    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // not inherited by other tests' children
                    var actions = posix_spawn_file_actions_t()
                    posix_spawn_file_actions_init(&actions)
                    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
                    posix_spawn_file_actions_addclose(&actions, fds[0])
                    let argv = (["/usr/bin/redis-cli", "-p", String(port)] + arguments).map { strdup($0) } + [nil]
                    defer { for pointer in argv { free(pointer) } }
                    var child: pid_t = 0
                    let spawned = posix_spawn(&child, "/usr/bin/redis-cli", &actions, nil, argv, environ)
                    posix_spawn_file_actions_destroy(&actions)
                    close(fds[1])
                    defer { close(fds[0]) }
                    guard spawned == 0 else { throw POSIXError(.ENOENT) }
                    var output: [UInt8] = []
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while true {
                        let count = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
                        if count < 0 && errno == EINTR { continue }
                        guard count > 0 else { break }
                        output += buffer[..<count]
                    }
                    var status: Int32 = 0
                    waitpid(child, &status, 0)
                    return String(decoding: output, as: UTF8.self)
                }
            )
        }.start()
    }
}

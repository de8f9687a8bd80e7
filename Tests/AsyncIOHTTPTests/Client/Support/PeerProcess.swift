import Foundation
import Glibc

/// A peer server started as a child process for the length of a test: it announces its port on
/// stdout (`PORT <n>`), and is stopped (SIGKILL) and reaped by its PID when the test lets go of it.
///
/// Spawned with `posix_spawn`, not Foundation's `Process`: that one's reaper also collects the exit
/// statuses of children other tests wait for by PID (the example smoke tests), in the same process.
/// A missing tool (python3, h11, nginx) makes the test fail, not skip: `scripts/test.sh` installs them.
final class PeerProcess: @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): every property is set in init and never changed.
    let pid: pid_t
    let port: Int
    let directory: URL?

    /// Starts `executable` (looked up in PATH) with `arguments` and waits (at most `timeout`) for
    /// its `PORT <n>` line, or takes `fixedPort` when `portFromLine` is false.
    init(
        _ executable: String,
        _ arguments: [String],
        directory: URL? = nil,
        portFromLine: Bool = true,
        port fixedPort: Int = 0,
        timeout: Double = 20
    ) throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // not inherited by other tests' children
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        // The PORT line comes through a pipe; a peer that is not asked for one writes to /dev/null
        // (a pipe closed under it would kill it with SIGPIPE).
        if portFromLine {
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = (["/usr/bin/env", executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, "/usr/bin/env", &actions, nil, argv, environ)
        posix_spawn_file_actions_destroy(&actions)
        close(fds[1])
        let fd = fds[0]
        defer { close(fd) }
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .ENOENT) }
        pid = child
        self.directory = directory
        guard portFromLine else {
            port = fixedPort
            return
        }
        // Read the first line with a deadline (a peer that never prints fails the test).
        var line: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var announced: Int?
        while !line.contains(UInt8(ascii: "\n")) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            var byte: UInt8 = 0
            guard remaining > 0, poll(&poller, 1, remaining) > 0, read(fd, &byte, 1) == 1 else { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("PORT ") { announced = Int(text.dropFirst(5)) }
        guard let announced else {
            kill(child, SIGKILL)
            waitpid(child, nil, 0)
            throw PeerError.noPort(executable)
        }
        port = announced
    }

    deinit {
        kill(pid, SIGKILL)
        waitpid(pid, nil, 0)
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    enum PeerError: Error {
        case noPort(String)
        case missingTool(String)
    }

    /// Runs blocking set-up (spawning, waiting for a port) on a thread of its own, so that the
    /// tests running in parallel keep Swift's few cooperative threads (two on this machine).
    static func offThePool<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    /// The h11 fault server (FaultServer.swift), on 127.0.0.1 (or ::1).
    static func faultServer(ipv6: Bool = false) async throws -> PeerProcess {
        try await offThePool { try makeFaultServer(ipv6: ipv6) }
    }

    private static func makeFaultServer(ipv6: Bool) throws -> PeerProcess {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = directory.appendingPathComponent("fault_server.py")
        try faultServerScript.write(to: script, atomically: true, encoding: .utf8)
        return try PeerProcess("python3", [script.path] + (ipv6 ? ["--ipv6"] : []), directory: directory)
    }

    /// `python3 -m http.server` serving `directory` on a free port of 127.0.0.1.
    static func pythonHTTPServer(serving directory: URL) async throws -> PeerProcess {
        try await offThePool { try makePythonHTTPServer(serving: directory) }
    }

    private static func makePythonHTTPServer(serving directory: URL) throws -> PeerProcess {
        let port = try freePort()
        let peer = try PeerProcess(
            "python3",
            ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", directory.path],
            portFromLine: false,
            port: port
        )
        try waitForPort(port)
        return peer
    }

    /// nginx with one worker on a free port, serving `root`, configured in a temporary directory.
    static func nginx(root: URL, extraConfig: String = "") async throws -> PeerProcess {
        try await offThePool { try makeNginx(root: root, extraConfig: extraConfig) }
    }

    private static func makeNginx(root: URL, extraConfig: String) throws -> PeerProcess {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") else {
            throw PeerError.missingTool("nginx (apt-get install nginx-light; scripts/test.sh does it)")
        }
        let port = try freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(directory.path)/nginx.pid;
            error_log \(directory.path)/error.log;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path \(directory.path)/body;
                proxy_temp_path \(directory.path)/proxy;
                fastcgi_temp_path \(directory.path)/fastcgi;
                uwsgi_temp_path \(directory.path)/uwsgi;
                scgi_temp_path \(directory.path)/scgi;
                keepalive_requests 100000;
                server {
                    listen 127.0.0.1:\(port);
                    root \(root.path);
                    \(extraConfig)
                }
            }
            """
        let configFile = directory.appendingPathComponent("nginx.conf")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        let peer = try PeerProcess(
            "/usr/sbin/nginx",
            ["-c", configFile.path, "-p", directory.path],
            directory: directory,
            portFromLine: false,
            port: port
        )
        try waitForPort(port)
        return peer
    }

    /// A port that was free a moment ago (bind to 0, read it, close).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits until something accepts connections on 127.0.0.1:`port` (at most 20 s).
    static func waitForPort(_ port: Int) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if connected { return }
            usleep(20_000)
        }
        throw PeerError.noPort("port \(port)")
    }
}

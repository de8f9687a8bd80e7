// Theory of operation
//
// Children are started with `posix_spawn`, never `fork`: a process with threads (every Swift
// program: the cooperative pool, the loop's thread pool) may only call async-signal-safe functions
// between `fork` and `exec`, and Swift code is not that. glibc's `posix_spawn` uses
// `clone(CLONE_VM | CLONE_VFORK)` and reports an `exec` failure (ENOENT, EACCES) as its result, so
// a missing program is a thrown `SystemError`, as Python raises `FileNotFoundError`.
//
// What the child gets, as `subprocess.Popen` gives it:
// - its standard descriptors from the file actions: pipes (blocking, their parent ends
//   non-blocking and close-on-exec), /dev/null, a descriptor of the caller, or the parent's own;
// - no other descriptor: every descriptor from 3 up is closed (`close_fds=True`);
// - an empty signal mask, and SIGPIPE / SIGXFSZ back at their defaults (`restore_signals=True`;
//   the loop ignores SIGPIPE for its pipes);
// - optionally a working directory, a process group (`process_group=`), a new session
//   (`start_new_session=`), and an environment of its own (`env=`; the program is then looked up
//   on that environment's PATH, as Popen does).
//
// Exit notification: a pidfd (`pidfd_open`, Linux 5.3) becomes readable when the child exits, so
// the loop watches it like any descriptor. Where the kernel has none, a thread blocks in `waitpid`
// for that one child (asyncio's `ThreadedChildWatcher`).
import CAsyncIOShims
import Glibc

/// Where a child's standard input, output or error goes.
///
/// Mirrors `subprocess.PIPE`, `DEVNULL`, `STDOUT`, `None` and a file descriptor as the `stdin=`,
/// `stdout=` and `stderr=` arguments of asyncio's subprocess functions.
public enum ProcessIO: Sendable, Equatable {
    /// A new pipe; the loop's side becomes a transport or stream (`asyncio.subprocess.PIPE`).
    case pipe
    /// `/dev/null` (`asyncio.subprocess.DEVNULL`).
    case devNull
    /// The parent's own descriptor (`None`).
    case inherit
    /// A descriptor of the caller, which stays the caller's (an `int` or file object).
    case fileDescriptor(Int32)
    /// For standard error only: wherever standard output goes (`asyncio.subprocess.STDOUT`).
    case stdout
}

/// How to start a child: the arguments of `subprocess_exec` after the protocol factory.
struct SpawnRequest {
    var program: String
    var arguments: [String]
    var stdin: ProcessIO
    var stdout: ProcessIO
    var stderr: ProcessIO
    var environment: [String: String]?
    var workingDirectory: String?
    var processGroup: Int32?
    var startNewSession: Bool
}

/// A child just started: its pid, its pidfd (-1 without one) and the parent's ends of its pipes,
/// keyed by the child's descriptor (0, 1, 2).
struct SpawnedChild {
    let pid: Int32
    let pidfd: Int32
    let pipes: [Int32: Int32]
}

enum Spawn {
    /// Starts the child described by `request`.
    ///
    /// - Throws: `SystemError` (ENOENT for a program not found, EACCES, EMFILE, …);
    ///   `AsyncIOError.invalidArgument` for `.stdout` anywhere but standard error.
    static func start(_ request: SpawnRequest) throws -> SpawnedChild {
        let path = try executablePath(request.program, environment: request.environment)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [Int32: Int32] = [:]
        var childEnds: [Int32] = []
        defer { for fd in childEnds { Glibc.close(fd) } }
        do {
            for (target, io) in [(Int32(0), request.stdin), (1, request.stdout), (2, request.stderr)] {
                switch io {
                case .pipe:
                    var fds: [Int32] = [-1, -1]
                    guard casyncio_pipe_cloexec(&fds) == 0 else { throw SystemError(call: "pipe2") }
                    let (parent, child) = target == 0 ? (fds[1], fds[0]) : (fds[0], fds[1])
                    parentEnds[target] = parent
                    childEnds.append(child)
                    _ = fcntl(parent, F_SETFL, fcntl(parent, F_GETFL) | O_NONBLOCK)
                    posix_spawn_file_actions_adddup2(&actions, child, target)
                case .devNull:
                    posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_RDWR, 0)
                case .inherit:
                    break
                case .fileDescriptor(let fd):
                    // dup2 onto itself would leave close-on-exec set: the parent's own is inherited.
                    if fd != target { posix_spawn_file_actions_adddup2(&actions, fd, target) }
                case .stdout:
                    guard target == 2 else {
                        throw AsyncIOError.invalidArgument("ProcessIO.stdout is only valid for stderr")
                    }
                    posix_spawn_file_actions_adddup2(&actions, 1, 2)
                }
            }
            _ = casyncio_spawn_addclosefrom(&actions, 3)
            if let directory = request.workingDirectory { _ = casyncio_spawn_addchdir(&actions, directory) }
            let pid = try spawn(path, request, &actions)
            let pidfd = casyncio_pidfd_open(pid)
            return SpawnedChild(pid: pid, pidfd: pidfd, pipes: parentEnds)
        } catch {
            for fd in parentEnds.values { Glibc.close(fd) }
            throw error
        }
    }

    private static func spawn(
        _ path: String,
        _ request: SpawnRequest,
        _ actions: inout posix_spawn_file_actions_t
    ) throws(SystemError) -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGXFSZ)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        if let group = request.processGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, group)
        }
        if request.startNewSession { flags |= Int32(CASYNCIO_POSIX_SPAWN_SETSID) }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = [request.program] + request.arguments
        let environment = request.environment.map { $0.map { "\($0.key)=\($0.value)" } }
        var pid: pid_t = 0
        let result = withCStrings(argv) { argv in
            if let environment {
                return withCStrings(environment) { envp in posix_spawn(&pid, path, &actions, &attributes, argv, envp) }
            }
            return posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        }
        guard result == 0 else { throw SystemError(call: "posix_spawn \(request.program)", errno: result) }
        return pid
    }

    /// The file to execute: `program` itself if it names a path, else the first executable of
    /// that name on PATH (the child's environment's PATH if one is given, as Popen does).
    static func executablePath(_ program: String, environment: [String: String]?) throws(SystemError) -> String {
        guard !program.isEmpty else { throw SystemError(call: "posix_spawn", errno: ENOENT) }
        if program.contains("/") { return program }
        let searchPath = environment.map { $0["PATH"] } ?? getenv("PATH").map { String(cString: $0) }
        var lastError = ENOENT
        for directory in (searchPath ?? "/bin:/usr/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            if access(candidate, X_OK) == 0 {
                var status = stat()
                if stat(candidate, &status) == 0, status.st_mode & S_IFMT == S_IFREG { return candidate }
            } else if errno == EACCES {
                lastError = EACCES
            }
        }
        throw SystemError(call: "posix_spawn \(program)", errno: lastError)
    }

    /// Runs `body` with a NULL-terminated C array of copies of `strings`.
    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }

    /// asyncio's returncode for a `waitpid` status: the exit code, or minus the signal number.
    static func returncode(status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : -signal
    }
}

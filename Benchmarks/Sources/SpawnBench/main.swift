// `spawn-bench --runner ours|subprocess [--program /bin/true] [--count 2000] [--parallel 1]`
//
// Spawns `count` children of `program` (no arguments, every standard descriptor inherited) and
// waits for each to exit, `parallel` at a time: each of `parallel` workers starts its next child
// as soon as its last one was reaped. Prints one JSON line: the children run, the wall time, the
// rate, and the CPU this process used (getrusage SELF, every thread; the children's own CPU is
// not in it).
//
//   ours        AsyncIO's `createSubprocessExec` + `Process.wait()` on one loop (posix_spawn, a
//               pidfd per child watched by epoll).
//   subprocess  swiftlang/swift-subprocess 1.0.2's `run(_:output:error:)` with discarded output,
//               from Swift tasks on the cooperative pool (its default).
//
// Scripts/spawn.py runs both beside Python's asyncio (`asyncio_spawn.py`), pinned to one CPU.
import AsyncIO
import Glibc
import Subprocess
import Synchronization
import SystemPackage

/// Writes `message` to standard error and exits with status 2 (a usage error).
func complain(_ message: String) -> Never {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

struct Options {
    var runner = "ours"
    var program = "/bin/true"
    var count = 2000
    var parallel = 1

    init(_ arguments: [String]) {
        var i = 1
        while i + 1 < arguments.count {
            let value = arguments[i + 1]
            switch arguments[i] {
            case "--runner": runner = value
            case "--program": program = value
            case "--count": count = Int(value)!
            case "--parallel": parallel = Int(value)!
            default:
                complain("spawn-bench: unknown option \(arguments[i])")
            }
            i += 2
        }
    }
}

/// Monotonic seconds and this process's CPU seconds (user + system, every thread).
func snapshot() -> (time: Double, cpu: Double) {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let cpu =
        Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return (Double(now.tv_sec) + Double(now.tv_nsec) / 1e9, cpu)
}

/// Hands out the children to start, `count` in all, to any worker on any thread.
final class Tickets: Sendable {
    private let left: Atomic<Int>
    let failures = Atomic<Int>(0)
    init(_ count: Int) { left = Atomic(count) }
    /// True while there is a child left to start (and takes it).
    func take() -> Bool { left.subtract(1, ordering: .relaxed).newValue >= 0 }
}

// MARK: - Ours

func runOurs(_ options: Options, _ tickets: Tickets) throws {
    try AsyncIO.run { loop in
        _ = try await gather(
            (0..<options.parallel).map { _ in
                {
                    while tickets.take() {
                        let process = try await loop.createSubprocessExec(options.program)
                        if try await process.wait() != 0 { tickets.failures.add(1, ordering: .relaxed) }
                    }
                }
            }
        )
    }
}

// MARK: - swift-subprocess

func runSubprocess(_ options: Options, _ tickets: Tickets) async throws {
    try await withThrowingTaskGroup(of: Void.self) { workers in
        for _ in 0..<options.parallel {
            workers.addTask {
                while tickets.take() {
                    let result = try await Subprocess.run(
                        .path(FilePath(options.program)),
                        output: .discarded,
                        error: .discarded
                    )
                    if !result.terminationStatus.isSuccess { tickets.failures.add(1, ordering: .relaxed) }
                }
            }
        }
        try await workers.waitForAll()
    }
}

/// A POSIX semaphore: the main thread waits on it, a Swift task posts it.
// SAFETY: sem_wait and sem_post are thread-safe; the pointer is freed only after the post.
struct Semaphore: @unchecked Sendable {
    let pointer = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    init() { sem_init(pointer, 0, 0) }
    func post() { sem_post(pointer) }
    func waitAndFree() {
        while sem_wait(pointer) != 0 {}
        sem_destroy(pointer)
        pointer.deallocate()
    }
}

/// Runs `runSubprocess` on the cooperative pool and blocks this thread until it ends: the main
/// thread stays synchronous, as `AsyncIO.run` needs for the other runner.
func runSubprocessBlocking(_ options: Options, _ tickets: Tickets) throws {
    let outcome = Mutex<Result<Void, any Error>?>(nil)
    let done = Semaphore()
    Task {
        let result: Result<Void, any Error>
        do {
            try await runSubprocess(options, tickets)
            result = .success(())
        } catch {
            result = .failure(error)
        }
        outcome.withLock { $0 = result }
        done.post()
    }
    done.waitAndFree()
    try outcome.withLock { $0 }!.get()
}

// MARK: - Main

let options = Options(CommandLine.arguments)
let tickets = Tickets(options.count)
let start = snapshot()
switch options.runner {
case "ours": try runOurs(options, tickets)
case "subprocess": try runSubprocessBlocking(options, tickets)
default:
    complain("spawn-bench: unknown runner \(options.runner) (ours, subprocess)")
}
let end = snapshot()
let seconds = end.time - start.time
print(
    """
    {"runner": "\(options.runner)", "children": \(options.count), "parallel": \(options.parallel), \
    "seconds": \(seconds), "spawns_per_s": \(Double(options.count) / seconds), \
    "cpu_us_per_spawn": \((end.cpu - start.cpu) / Double(options.count) * 1e6), \
    "failures": \(tickets.failures.load(ordering: .relaxed))}
    """
)

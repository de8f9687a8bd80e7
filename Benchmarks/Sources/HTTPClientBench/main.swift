// `http-client-bench --client ours|ahc|ahc-futures --url URL [--concurrency 64] [--warmup 1] [--duration 5]`
//
// One HTTP client fetching URL with `concurrency` requests in flight, each worker sending its next
// request as soon as the previous response was read whole, for `warmup` + `duration` seconds.
// Prints one JSON line: the requests completed in the measured window, its length, and the CPU
// time the whole process used in it (getrusage, user + system, every thread).
//
//   ours         AsyncIOHTTP's ClientSession on our loop (one thread).
//   ahc          AsyncHTTPClient 1.37 with async/await (its recommended API), one NIO event loop.
//   ahc-futures  AsyncHTTPClient with EventLoopFutures (no Swift concurrency), one NIO event loop.
//
// Run it pinned to one CPU (`taskset -c 1`), as Scripts/http-client.py does.
import AsyncHTTPClient
import AsyncIO
import AsyncIOHTTP
import Foundation
import NIOCore
import NIOPosix
import Synchronization

struct Options {
    var client = "ours"
    var url = "http://127.0.0.1:8080/"
    var concurrency = 64
    var warmup = 1.0
    var duration = 5.0

    init(_ arguments: [String]) {
        var i = 1
        while i + 1 < arguments.count {
            let value = arguments[i + 1]
            switch arguments[i] {
            case "--client": client = value
            case "--url": url = value
            case "--concurrency": concurrency = Int(value)!
            case "--warmup": warmup = Double(value)!
            case "--duration": duration = Double(value)!
            default: fatalError("unknown option \(arguments[i])")
            }
            i += 2
        }
    }
}

/// Counts completed requests and takes the (count, CPU, time) snapshots of the window's edges.
final class Tally: Sendable {
    let completed = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    /// Set at the end of the measured window: the workers stop.
    let stop = Atomic<Bool>(false)
}

struct Snapshot {
    var count: Int
    var cpu: Double
    var time: Double

    static func take(_ tally: Tally) -> Snapshot {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu =
            Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Snapshot(
            count: tally.completed.load(ordering: .relaxed),
            cpu: cpu,
            time: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        )
    }
}

func report(_ options: Options, _ start: Snapshot, _ end: Snapshot, _ tally: Tally) {
    let requests = end.count - start.count
    let seconds = end.time - start.time
    let line: [String: Any] = [
        "client": options.client, "requests": requests, "seconds": seconds, "cpu_seconds": end.cpu - start.cpu,
        "requests_per_s": Double(requests) / seconds,
        "cpu_us_per_request": (end.cpu - start.cpu) / Double(max(requests, 1)) * 1e6,
        "errors": tally.errors.load(ordering: .relaxed), "concurrency": options.concurrency,
    ]
    let data = try! JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// Waits the warmup, snapshots, waits the duration, snapshots (on a plain thread, off the loops).
func measureWindow(_ options: Options, _ tally: Tally) -> (Snapshot, Snapshot) {
    Thread.sleep(forTimeInterval: options.warmup)
    let start = Snapshot.take(tally)
    Thread.sleep(forTimeInterval: options.duration)
    return (start, Snapshot.take(tally))
}

// MARK: - Ours

func runOurs(_ options: Options) throws {
    let tally = Tally()
    let window = Mutex<(Snapshot, Snapshot)?>(nil)
    let timer = Thread {
        let edges = measureWindow(options, tally)
        window.withLock { $0 = edges }
        tally.stop.store(true, ordering: .relaxed)
    }
    timer.start()
    try run { loop in
        let session = try ClientSession(limit: options.concurrency)
        defer { session.close() }
        _ = try await gather(
            (0..<options.concurrency).map { _ in
                {
                    while !tally.stop.load(ordering: .relaxed) {
                        do {
                            let response = try await session.get(options.url)
                            _ = try await response.bytes()
                            tally.completed.add(1, ordering: .relaxed)
                        } catch {
                            tally.errors.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
        )
    }
    let (start, end) = window.withLock { $0! }
    report(options, start, end, tally)
}

// MARK: - AsyncHTTPClient

func makeAHC(_ options: Options, _ group: MultiThreadedEventLoopGroup) -> HTTPClient {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(
        idleTimeout: .seconds(60),
        concurrentHTTP1ConnectionsPerHostSoftLimit: options.concurrency
    )
    return HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
}

func runAHC(_ options: Options) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let client = makeAHC(options, group)
    let tally = Tally()
    let window = Mutex<(Snapshot, Snapshot)?>(nil)
    let timer = Thread {
        let edges = measureWindow(options, tally)
        window.withLock { $0 = edges }
        tally.stop.store(true, ordering: .relaxed)
    }
    timer.start()
    await withTaskGroup(of: Void.self) { workers in
        for _ in 0..<options.concurrency {
            workers.addTask {
                while !tally.stop.load(ordering: .relaxed) {
                    do {
                        let response = try await client.execute(
                            HTTPClientRequest(url: options.url),
                            timeout: .seconds(30)
                        )
                        _ = try await response.body.collect(upTo: 1 << 24)
                        tally.completed.add(1, ordering: .relaxed)
                    } catch {
                        tally.errors.add(1, ordering: .relaxed)
                    }
                }
            }
        }
    }
    try await client.shutdown()
    try await group.shutdownGracefully()
    let (start, end) = window.withLock { $0! }
    report(options, start, end, tally)
}

func runAHCFutures(_ options: Options) throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let client = makeAHC(options, group)
    let tally = Tally()
    let loop = group.next()
    let done = loop.makePromise(of: Void.self)
    let remaining = Atomic<Int>(options.concurrency)

    @Sendable func worker() {
        guard !tally.stop.load(ordering: .relaxed) else {
            if remaining.subtract(1, ordering: .relaxed).newValue == 0 { done.succeed(()) }
            return
        }
        let request = try! HTTPClient.Request(url: options.url)
        client.execute(request: request, eventLoop: .delegate(on: loop)).whenComplete { result in
            switch result {
            case .success: tally.completed.add(1, ordering: .relaxed)
            case .failure: tally.errors.add(1, ordering: .relaxed)
            }
            worker()
        }
    }
    loop.execute { for _ in 0..<options.concurrency { worker() } }
    let (start, end) = measureWindow(options, tally)
    tally.stop.store(true, ordering: .relaxed)
    try done.futureResult.wait()
    try client.syncShutdown()
    try group.syncShutdownGracefully()
    report(options, start, end, tally)
}

let options = Options(CommandLine.arguments)
switch options.client {
case "ours":
    try runOurs(options)
case "ahc":
    // Top-level code stays synchronous (`run` refuses to block inside a Swift task): the async
    // client runs in a task of its own and the main thread waits for it.
    let finished = DispatchSemaphore(value: 0)
    Task.detached {
        do { try await runAHC(options) } catch { fatalError("\(error)") }
        finished.signal()
    }
    finished.wait()
case "ahc-futures":
    try runAHCFutures(options)
default:
    fatalError("--client ours|ahc|ahc-futures")
}

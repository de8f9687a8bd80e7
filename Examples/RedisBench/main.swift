// The client side of ../shared/bench/redis on AsyncIORedis: the same shapes as its redis-py and
// asyncio_redis clients, and its `RESULT ops=… seconds=…` line, plus the client's own CPU time per
// operation (getrusage), which ranks clients where the server is the limit.
//
//   set-c1 / get-c1      one connection, each command awaited before the next
//   set-c50 / get-c50    50 tasks over a Pool of 50 connections, each awaiting its own commands
//   set-p100 / get-p100  one connection, 100 commands per round trip (a Pipeline)
//   pubsub               a Subscriber and a publisher connection on this loop; the publisher sends
//                        PUBLISH of 16 bytes in pipelined batches of 100; rate = messages received
//                        ÷ (first publish → last message received)
//
// Usage: RedisBench --port P --shape SHAPE [--host H] [--ops N] [--duration S]
import AsyncIO
import AsyncIORedis
import Glibc

let key = "key:bench"
let value = "xxx"
let batch = 100

/// Writes a line to `fd` at once.
func say(_ line: String, fd: Int32 = 1) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

struct Options {
    var host = "127.0.0.1"
    var port = 6379
    var shape = "set-c1"
    var ops = 200_000
    var duration = 10.0
}

func parseArguments() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst()
    func value(_ name: String) -> String {
        guard let value = arguments.popFirst() else {
            say("\(name) needs a value", fd: 2)
            exit(2)
        }
        return value
    }
    while let argument = arguments.popFirst() {
        switch argument {
        case "--host": options.host = value(argument)
        case "--port": options.port = Int(value(argument)) ?? options.port
        case "--shape": options.shape = value(argument)
        case "--ops": options.ops = Int(value(argument)) ?? options.ops
        case "--duration": options.duration = Double(value(argument)) ?? options.duration
        default:
            say("usage: RedisBench --port P --shape SHAPE [--host H] [--ops N] [--duration S]", fd: 2)
            exit(2)
        }
    }
    return options
}

/// User + system CPU seconds this process has used.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let (whole, fraction) = (ContinuousClock.now - start).components
    return Double(whole) + Double(fraction) / 1e18
}

/// One connection, one command at a time.
func single(_ options: Options, get: Bool) async throws -> (Int, Double) {
    let redis = try await Connection.create(host: options.host, port: options.port)
    defer { redis.close() }
    try await redis.set(key, value)
    var done = 0
    let start = ContinuousClock.now
    while done < options.ops {
        for _ in 0..<batch {
            if get { _ = try await redis.get(key) } else { try await redis.set(key, value) }
        }
        done += batch
        if seconds(since: start) > options.duration { break }
    }
    return (done, seconds(since: start))
}

/// 50 tasks sharing a pool of 50 connections.
func concurrent(_ options: Options, get: Bool, loop: isolated EventLoop) async throws -> (Int, Double) {
    let pool = try await Pool.create(Configuration(host: options.host, port: options.port), size: 50)
    try await pool.set(key, value)
    var done = 0
    let start = ContinuousClock.now
    let workers = (0..<50).map { _ in
        loop.createTask {
            while done < options.ops {
                for _ in 0..<10 {
                    if get { _ = try await pool.get(key) } else { try await pool.set(key, value) }
                }
                done += 10
                if seconds(since: start) > options.duration { break }
            }
        }
    }
    for worker in workers { try await worker.value }
    let elapsed = seconds(since: start)
    await pool.close()
    return (done, elapsed)
}

/// One connection, 100 commands per round trip.
func pipelined(_ options: Options, get: Bool) async throws -> (Int, Double) {
    let redis = try await Connection.create(host: options.host, port: options.port)
    defer { redis.close() }
    try await redis.set(key, value)
    let pipeline = Pipeline()
    var done = 0
    let start = ContinuousClock.now
    while done < options.ops {
        pipeline.removeAll()
        for _ in 0..<batch {
            if get { pipeline.send("GET", key) } else { pipeline.send("SET", key, value) }
        }
        try await redis.execute(pipeline)
        done += batch
        if seconds(since: start) > options.duration { break }
    }
    return (done, seconds(since: start))
}

/// Messages received by a subscriber while a publisher on the same loop publishes in batches.
func pubsub(_ options: Options, loop: isolated EventLoop) async throws -> (Int, Double, Int) {
    let channel = "chan:bench"
    let message = [UInt8](repeating: UInt8(ascii: "m"), count: 16)
    let subscriber = try await Connection.create(host: options.host, port: options.port)
        .startSubscribe(bufferPolicy: .dropOldest(limit: 1 << 20), reconnect: .never)
    try await subscriber.subscribe([channel])
    let publisher = try await Connection.create(host: options.host, port: options.port)
    var received = 0
    let start = ContinuousClock.now
    var last = start
    let reader = loop.createTask {
        while received < options.ops {
            _ = try await subscriber.nextPublished()
            received += 1
            last = .now
        }
    }
    var sent = 0
    let pipeline = Pipeline()
    while sent < options.ops, seconds(since: start) < options.duration {
        pipeline.removeAll()
        let count = min(batch, options.ops - sent)
        for _ in 0..<count { pipeline.send("PUBLISH", channel, message) }
        try await publisher.execute(pipeline)
        sent += count
    }
    let giveUp = ContinuousClock.now + .seconds(5)
    while received < sent, !reader.isDone, ContinuousClock.now < giveUp { try await sleep(.milliseconds(1)) }
    reader.cancel()
    _ = try? await reader.value
    subscriber.close()
    publisher.close()
    let (whole, fraction) = (last - start).components
    return (received, Double(whole) + Double(fraction) / 1e18, sent)
}

let options = parseArguments()
do {
    try run { loop in
        let cpuBefore = cpuSeconds()
        let parts = options.shape.split(separator: "-").map(String.init)
        var extra = ""
        let ops: Int
        let elapsed: Double
        switch (parts.first, parts.last) {
        case ("pubsub", _):
            let (received, time, sent) = try await pubsub(options, loop: loop)
            (ops, elapsed, extra) = (received, time, " sent=\(sent)")
        case (let op?, "c1"): (ops, elapsed) = try await single(options, get: op == "get")
        case (let op?, "c50"): (ops, elapsed) = try await concurrent(options, get: op == "get", loop: loop)
        case (let op?, "p100"): (ops, elapsed) = try await pipelined(options, get: op == "get")
        default:
            say("unknown shape \(options.shape): set-c1 get-c1 set-c50 get-c50 set-p100 get-p100 pubsub", fd: 2)
            exit(2)
        }
        let cpu = cpuSeconds() - cpuBefore
        let rate = elapsed > 0 ? Double(ops) / elapsed : 0
        say(
            "RESULT ops=\(ops) seconds=\(elapsed) ops_per_s=\(Int(rate))\(extra) "
                + "client_cpu_us_per_op=\(ops > 0 ? (cpu * 1e6 / Double(ops) * 100).rounded() / 100 : 0)"
        )
    }
} catch {
    say("RedisBench: \(error)", fd: 2)
    exit(1)
}

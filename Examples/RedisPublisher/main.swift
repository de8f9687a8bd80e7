// The other half of RedisSubscriber: publishes each line typed on stdin to a channel and says how
// many subscribers received it. Ends at end of input (Ctrl-D).
//
//     $ swift run RedisPublisher
//     hello
//     published to 1 subscriber(s)
//
// Usage: swift run RedisPublisher [--host H] [--port P] [CHANNEL]   (localhost:6379, my-channel)
import AsyncIO
import AsyncIORedis
import Glibc

/// Writes a line to `fd` at once (unbuffered).
func say(_ line: String, fd: Int32 = 1) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written > 0 else { return }
        offset += written
    }
}

/// `--host`, `--port` and the channel; exits with status 2 on bad arguments.
func parseArguments() -> (host: String, port: Int, channel: String) {
    var host = "localhost"
    var port = 6379
    var channel = "my-channel"
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--host": host = arguments.popFirst() ?? host
        case "--port":
            guard let value = arguments.popFirst().flatMap({ Int($0) }) else {
                say("usage: RedisPublisher [--host H] [--port P] [CHANNEL]", fd: 2)
                exit(2)
            }
            port = value
        default: channel = argument
        }
    }
    return (host, port, channel)
}

do {
    let (host, port, channel) = parseArguments()
    try run { loop in
        let connection = try await Connection.create(host: host, port: port)
        defer { connection.close() }
        // stdin blocks, so each line is read on the loop's thread pool.
        while let line = try await loop.runInExecutor(nil, { readLine() }).value {
            let receivers = try await connection.publish(channel, line)
            say("published to \(receivers) subscriber(s)")
        }
    }
} catch {
    say("RedisPublisher: \(error)", fd: 2)
    exit(1)
}

// The talk's last program, line for line: connect with `Connection.create`, `startSubscribe()`,
// `subscribe(channels)`, then print every message `nextPublished()` returns.
//
//     Received:  'hello' on channel my-channel
//
// Each line is written as it arrives (`print` here writes unbuffered). When the server goes away the
// subscriber reconnects with backoff and subscribes again, so it keeps going through a restart
// (messages published while it was down are lost: pub/sub keeps nothing).
//
// Usage: swift run RedisSubscriber [--host H] [--port P] [CHANNEL…]   (localhost:6379, my-channel)
import AsyncIO
import AsyncIORedis
import Glibc

/// Writes a line to `fd` at once (unbuffered), so a reader of the pipe sees each message as it arrives.
func say(_ line: String, fd: Int32 = 1) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written > 0 else { return }
        offset += written
    }
}

/// Python's `print(*args)`: the arguments joined by spaces, one line, written unbuffered.
func print(_ items: String...) { say(items.joined(separator: " ")) }

/// `--host`, `--port` and the channels; exits with status 2 on bad arguments.
func parseArguments() -> (host: String, port: Int, channels: [String]) {
    var host = "localhost"
    var port = 6379
    var channels: [String] = []
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--host": host = arguments.popFirst() ?? host
        case "--port":
            guard let value = arguments.popFirst().flatMap({ Int($0) }) else {
                say("usage: RedisSubscriber [--host H] [--port P] [CHANNEL…]", fd: 2)
                exit(2)
            }
            port = value
        default: channels.append(argument)
        }
    }
    return (host, port, channels.isEmpty ? ["my-channel"] : channels)
}

/// Python's `repr()` of a string: single quotes, with quotes, backslashes and control bytes escaped.
func repr(_ text: String) -> String {
    var out = "'"
    for scalar in text.unicodeScalars {
        switch scalar {
        case "'": out += "\\'"
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "'"
}

func subscriber(_ channels: [String], host: String, port: Int) async throws {
    // Create connection
    let connection = try await Connection.create(host: host, port: port)
    // Create subscriber.
    let subscriber = try await connection.startSubscribe()
    // Subscribe to channel.
    try await subscriber.subscribe(channels)
    // Wait for incoming events.
    while true {
        let reply = try await subscriber.nextPublished()
        print("Received: ", repr(reply.value), "on channel", reply.channel)
    }
}

do {
    let (host, port, channels) = parseArguments()
    try run { _ in try await subscriber(channels, host: host, port: port) }
} catch {
    say("RedisSubscriber: \(error)", fd: 2)
    exit(1)
}

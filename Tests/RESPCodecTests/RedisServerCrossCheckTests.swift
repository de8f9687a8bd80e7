// Cross-check against a real redis-server (skipped when none is installed): our encoder writes the
// commands, redis-server answers in RESP2 and then RESP3 (`HELLO 3`), and our parser must read every
// raw reply as the value Redis meant. `DEBUG PROTOCOL <type>` makes Redis emit each RESP3 type,
// attributes and push frames included. Findings: docs/decisions/0003-resp-limits.md.
import Foundation
import RESPCodec
import Testing

#if canImport(Glibc)
import Glibc
#endif

private let redisServerPath: String? = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// A redis-server on a free loopback port, stopped by its own PID when the test ends.
private final class RedisServer {
    let port: UInt16
    private let process = Process()

    init(executable: String) throws {
        port = try Self.freePort()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--enable-debug-command", "yes", "--daemonize", "no", "--loglevel", "warning",
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    func stop() {
        // SIGKILL to this child only, by its PID: the test runner's threads block SIGTERM, and a
        // spawned child inherits that mask, so redis-server would never see a SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A port in 20000..<30000 that nothing is bound to right now.
    private static func freePort() throws -> UInt16 {
        for _ in 0..<50 {
            let port = UInt16.random(in: 20000..<30000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = loopback(port)
            // SAFETY: sockaddr_in is layout-compatible with sockaddr for bind(2), and the pointer
            // does not escape the call.
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound == 0 {
                return port
            }
        }
        throw POSIXError(.EADDRINUSE)
    }
}

private func loopback(_ port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}

/// Sends `request` on a fresh connection and returns every byte the server sends until it closes.
private func exchange(port: UInt16, request: [UInt8]) throws -> [UInt8] {
    let deadline = Date().addingTimeInterval(10)
    var fd: Int32 = -1
    // The server may still be starting: retry the connect until the deadline.
    while true {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port)
        // SAFETY: as in `freePort`: sockaddr_in rebound to sockaddr for connect(2), not escaping.
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if connected == 0 {
            break
        }
        close(fd)
        guard Date() < deadline else { throw POSIXError(.ETIMEDOUT) }
        usleep(20_000)
    }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    // SAFETY: send(2) and recv(2) read or write only within the lent buffers, during the call.
    let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    guard sent == request.count else { throw POSIXError(.EIO) }
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 {
            break  // QUIT makes the server close the connection
        }
        received += chunk[..<count]
    }
    return received
}

private func text(_ string: String) -> RESPValue { RESPValue(bulkString: string) }

/// A command, and the replies it must produce under RESP2 and RESP3 (a push frame adds one).
private struct Exchange {
    let command: [String]
    let resp2: [RESPValue]
    let resp3: [RESPValue]

    init(_ command: String..., both: RESPValue) {
        self.init(command, resp2: [both], resp3: [both])
    }

    init(_ command: String..., resp2: RESPValue, resp3: RESPValue...) {
        self.init(command, resp2: [resp2], resp3: resp3)
    }

    init(_ command: [String], resp2: [RESPValue], resp3: [RESPValue]) {
        self.command = command
        self.resp2 = resp2
        self.resp3 = resp3
    }
}

private func simpleText(_ string: String) -> RESPValue { RESPValue(simpleString: string) }
private func errorText(_ string: String) -> RESPValue { .simpleError(Array(string.utf8)) }

/// The conversation, with every reply as redis-server 7 sends it (raw bytes checked by hand once).
private func exchanges(key: String) -> [Exchange] {
    let attributed = RESPValue.attributed(
        attributes: [RESPPair(key: text("key-popularity"), value: .array([text("key:123"), .integer(90)]))],
        value: text("Some real reply following the attribute")
    )
    return [
        Exchange("PING", both: simpleText("PONG")),
        Exchange("SET", key, "value", both: simpleText("OK")),
        Exchange("GET", key, both: text("value")),
        Exchange("GET", key + ":missing", resp2: .nullBulkString, resp3: .null),
        Exchange("INCRBY", key + ":n", "-5", both: .integer(-5)),
        Exchange("INCRBY", key + ":max", "9223372036854775807", both: .integer(.max)),
        Exchange(
            "INCRBY",
            key + ":n",
            "9223372036854775808",
            both: errorText("ERR value is not an integer or out of range")
        ),
        Exchange("RPUSH", key + ":l", "a", "", "c", both: .integer(3)),
        Exchange("LRANGE", key + ":l", "0", "-1", both: .array([text("a"), text(""), text("c")])),
        Exchange("LRANGE", key + ":none", "0", "-1", both: .array([])),
        Exchange(
            "GET",
            key + ":l",
            both: errorText("WRONGTYPE Operation against a key holding the wrong kind of value")
        ),
        Exchange("HSET", key + ":h", "f", "v", both: .integer(1)),
        Exchange(
            "HGETALL",
            key + ":h",
            resp2: .array([text("f"), text("v")]),
            resp3: .map([RESPPair(key: text("f"), value: text("v"))])
        ),
        Exchange("SADD", key + ":s", "x", both: .integer(1)),
        Exchange("SMEMBERS", key + ":s", resp2: .array([text("x")]), resp3: .set([text("x")])),
        Exchange("ZADD", key + ":z", "1.5", "m", "inf", "top", both: .integer(2)),
        Exchange("ZSCORE", key + ":z", "m", resp2: text("1.5"), resp3: .double(1.5)),
        Exchange("ZSCORE", key + ":z", "top", resp2: text("inf"), resp3: .double(.infinity)),
        Exchange("BLPOP", key + ":empty", "0.01", resp2: .nullArray, resp3: .null),
        Exchange("EXISTS", key, key + ":missing", both: .integer(1)),
        Exchange("DEBUG", "PROTOCOL", "string", both: text("Hello World")),
        Exchange("DEBUG", "PROTOCOL", "integer", both: .integer(12345)),
        Exchange("DEBUG", "PROTOCOL", "double", resp2: text("3.141"), resp3: .double(3.141)),
        Exchange(
            "DEBUG",
            "PROTOCOL",
            "bignum",
            resp2: text("1234567999999999999999999999999999999"),
            resp3: .bigNumber("1234567999999999999999999999999999999")
        ),
        Exchange("DEBUG", "PROTOCOL", "null", resp2: .nullBulkString, resp3: .null),
        Exchange("DEBUG", "PROTOCOL", "array", both: .array([.integer(0), .integer(1), .integer(2)])),
        Exchange(
            "DEBUG",
            "PROTOCOL",
            "set",
            resp2: .array([.integer(0), .integer(1), .integer(2)]),
            resp3: .set([.integer(0), .integer(1), .integer(2)])
        ),
        Exchange(
            "DEBUG",
            "PROTOCOL",
            "map",
            resp2: .array([.integer(0), .integer(0), .integer(1), .integer(1), .integer(2), .integer(0)]),
            resp3: .map([
                RESPPair(key: .integer(0), value: .boolean(false)),
                RESPPair(key: .integer(1), value: .boolean(true)),
                RESPPair(key: .integer(2), value: .boolean(false)),
            ])
        ),
        Exchange(
            "DEBUG",
            "PROTOCOL",
            "attrib",
            resp2: text("Some real reply following the attribute"),
            resp3: attributed
        ),
        Exchange(
            ["DEBUG", "PROTOCOL", "push"],
            resp2: [errorText("ERR RESP2 is not supported by this command")],
            resp3: [.push([text("server-cpu-usage"), .integer(42)]), text("Some real reply following the push reply")]
        ),
        Exchange(
            "DEBUG",
            "PROTOCOL",
            "verbatim",
            resp2: text("This is a verbatim\nstring"),
            resp3: .verbatimString(format: .text, text: Array("This is a verbatim\nstring".utf8))
        ),
        Exchange("DEBUG", "PROTOCOL", "true", resp2: .integer(1), resp3: .boolean(true)),
        Exchange("DEBUG", "PROTOCOL", "false", resp2: .integer(0), resp3: .boolean(false)),
        Exchange("NOSUCHCOMMAND", both: errorText("ERR unknown command 'NOSUCHCOMMAND', with args beginning with: ")),
        Exchange("QUIT", both: simpleText("OK")),
    ]
}

@Suite("redis-server cross-check", .enabled(if: redisServerPath != nil, "redis-server is not installed"))
struct RedisServerCrossCheckTests {
    @Test("every reply type redis-server sends parses as the value it means, in RESP2 and RESP3", arguments: [2, 3])
    func repliesParse(protocolVersion: Int) throws {
        let server = try RedisServer(executable: redisServerPath!)
        defer { server.stop() }
        let conversation = exchanges(key: "crosscheck:\(protocolVersion)")
        var request: [UInt8] = []
        if protocolVersion == 3 {
            RESPEncoder.encodeCommand("HELLO", "3", into: &request)
        }
        for exchange in conversation {
            RESPEncoder.encodeCommand(exchange.command, into: &request)
        }
        let raw = try exchange(port: server.port, request: request)

        // Whole, and byte by byte: the same values either way.
        let whole = parseWhole(raw)
        #expect(whole.error == nil)
        #expect(whole.leftover == 0)
        #expect(parseByteByByte(raw) == whole)
        var replies = whole.values[...]
        if protocolVersion == 3 {
            let hello = replies.popFirst()
            guard case .map(let pairs) = hello else {
                Issue.record("HELLO 3 did not answer a map: \(String(describing: hello))")
                return
            }
            #expect(pairs.contains(RESPPair(key: text("proto"), value: .integer(3))))
        }
        let expected = conversation.flatMap { exchange in
            (protocolVersion == 2 ? exchange.resp2 : exchange.resp3).map { (exchange.command, $0) }
        }
        #expect(replies.count == expected.count)
        for (reply, (command, want)) in zip(replies, expected) {
            #expect(reply == want, "reply to \(command.joined(separator: " "))")
        }
        // What Redis sent is what our encoder writes for the same values (canonical encodings).
        #expect(whole.values.flatMap { RESPEncoder.encode($0) } == raw)
    }
}

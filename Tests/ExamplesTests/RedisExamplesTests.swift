import Foundation
import Glibc
import Testing

/// The Redis examples against a real redis-server on a free loopback port (scripts/test.sh installs
/// redis-server and redis-tools).
@Suite(.serialized) struct RedisExamplesTests {
    /// A redis-server in the foreground, its log on the pipe ExampleProcess reads.
    private func startServer(port: Int) async throws -> ExampleProcess {
        let server = try ExampleProcess(
            "/usr/bin/redis-server",
            arguments: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        )
        #expect(try await server.waitForOutput(containing: "Ready to accept connections"))
        return server
    }

    /// A loopback port that was free a moment ago.
    private func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        // SAFETY: sockaddr_in is layout-compatible with sockaddr; the pointer does not escape.
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Publishes with redis-cli until `process` printed `expected` (a publish that reaches no
    /// subscriber yet is lost, so once is not enough).
    private func publish(
        _ message: String,
        port: Int,
        until expected: String,
        in process: ExampleProcess
    ) async throws
        -> Bool
    {
        for _ in 0..<100 {
            let cli = try ExampleProcess(
                "/usr/bin/redis-cli",
                arguments: ["-p", String(port), "PUBLISH", "my-channel", message]
            )
            _ = try await cli.waitForExit()
            if try await process.waitForOutput(containing: expected, seconds: 0.1) { return true }
        }
        return false
    }

    @Test func redisSubscriberPrintsEachMessageAndKeepsGoingThroughARestart() async throws {
        let port = try freePort()
        var server = try await startServer(port: port)
        let subscriber = try ExampleProcess(
            "RedisSubscriber",
            arguments: ["--port", String(port), "my-channel", "other"]
        )
        #expect(
            try await publish("hello", port: port, until: "Received:  'hello' on channel my-channel", in: subscriber)
        )
        server.send(SIGKILL)
        _ = try await server.waitForExit()
        server = try await startServer(port: port)
        #expect(
            try await publish(
                "it's back",
                port: port,
                until: "Received:  'it\\'s back' on channel my-channel",
                in: subscriber
            )
        )
        subscriber.send(SIGKILL)
        server.send(SIGKILL)
        _ = try await server.waitForExit()
    }
}

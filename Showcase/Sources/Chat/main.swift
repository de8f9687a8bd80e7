import ArgumentParser
// The chat service (issue 16): a web page on http://127.0.0.1:8080 and a line protocol on TCP
// 8023 (`nc 127.0.0.1 8023`), one process with an in-process broker by default.
//
// Usage: swift run -c release --package-path Showcase Chat [--http-port N] [--line-port N]
//        [--redis URL] [--loops N] [--host ADDRESS] [--log-level LEVEL]
import AsyncIO
import ChatCore
import Glibc
import Logging

/// An environment variable's value, if set and not empty.
func environment(_ name: String) -> String? {
    guard let value = getenv(name).map({ String(cString: $0) }), !value.isEmpty else { return nil }
    return value
}

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chat",
        abstract: "The swift-asyncio chat: a web page and a line protocol sharing rooms.",
        discussion: """
            Open http://127.0.0.1:8080 in a browser, or `nc 127.0.0.1 8023` and type /help. \
            Every option can also be set from the environment variable named beside it; \
            the flag wins. SIGTERM or Ctrl-C stop the server gracefully (clients are told).
            """
    )

    @Option(help: "The address to listen on (env CHAT_HOST).")
    var host: String = environment("CHAT_HOST") ?? "127.0.0.1"

    @Option(help: "The port of the web page, /healthz and /metrics (env CHAT_HTTP_PORT; 0 picks one).")
    var httpPort: Int = environment("CHAT_HTTP_PORT").flatMap { Int($0) } ?? 8080

    @Option(help: "The port of the line protocol (env CHAT_LINE_PORT; 0 picks one).")
    var linePort: Int = environment("CHAT_LINE_PORT").flatMap { Int($0) } ?? 8023

    @Option(help: "Share rooms with other instances through Redis, redis://HOST:PORT (env CHAT_REDIS).")
    var redis: String?

    @Option(help: "Event loops, one per core, on the same ports (env CHAT_LOOPS).")
    var loops: Int = environment("CHAT_LOOPS").flatMap { Int($0) } ?? 1

    @Option(help: "trace, debug, info, notice, warning, error or critical (env CHAT_LOG_LEVEL).")
    var logLevel: String = environment("CHAT_LOG_LEVEL") ?? "info"

    @Option(help: "The longest message in bytes (env CHAT_MAX_MESSAGE).")
    var maxMessage: Int = environment("CHAT_MAX_MESSAGE").flatMap { Int($0) } ?? 2_000

    @Option(
        help:
            "Connections accepted per second from one address after a burst of as many times five (env CHAT_CONNECTION_RATE)."
    )
    var connectionRate: Double = environment("CHAT_CONNECTION_RATE").flatMap { Double($0) } ?? 10

    /// `--redis`, else `CHAT_REDIS`.
    var redisURL: String? { redis ?? environment("CHAT_REDIS") }

    func validate() throws {
        for (name, port) in [("--http-port", httpPort), ("--line-port", linePort)] where !(0...65_535).contains(port) {
            throw ValidationError("\(name) must be a port number (0 to 65535), not \(port)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard (1...1024).contains(loops) else { throw ValidationError("--loops must be from 1 to 1024") }
        guard maxMessage > 0, connectionRate > 0 else {
            throw ValidationError("--max-message and --connection-rate must be positive")
        }
        if let redis = redisURL, !redis.hasPrefix("redis://"), !redis.hasPrefix("unix://") {
            throw ValidationError("--redis takes a URL such as redis://127.0.0.1:6379, not \(redis)")
        }
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "chat")
        var configuration = ChatService.Configuration()
        configuration.host = host
        configuration.httpPort = httpPort
        configuration.linePort = linePort
        configuration.limits.maxMessageBytes = maxMessage
        configuration.limits.connectionsPerSecond = connectionRate
        configuration.limits.connectionBurst = connectionRate * 5
        configuration.instance = "\(host):\(httpPort)/\(getpid())"
        do {
            if loops > 1 { return try runLoops(configuration, logger: logger) }
            let broker = try redisURL.map {
                try RedisBroker(
                    url: $0,
                    instance: configuration.instance,
                    historyLength: configuration.limits.historyLength,
                    logger: logger
                )
            }
            try AsyncIO.run { loop in
                let service = ChatService(configuration: configuration, broker: broker, logger: logger)
                let stop = try stopSignal(loop: loop)
                try await service.start(loop: loop)
                let reason = try await stop.value
                await service.shutdown(reason: reason)
            }
        } catch {
            logger.critical("chat failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }

    /// `--loops N`: a loop group serves; this thread's loop only waits for the signal.
    func runLoops(_ configuration: ChatService.Configuration, logger: Logger) throws {
        try AsyncIO.run { loop in
            let stop = try stopSignal(loop: loop)
            let chat = try await ChatServiceGroup.start(
                configuration: configuration,
                loops: loops,
                redisURL: redisURL,
                logger: logger
            )
            let reason = try await stop.value
            await chat.shutdown(reason: reason)
        }
    }

    /// A future that SIGTERM (a restart) and SIGINT (Ctrl-C) complete with the reason told to clients.
    func stopSignal(loop: isolated EventLoop) throws -> Future<String> {
        let stop = loop.createFuture(of: String.self)
        try loop.addSignalHandler(SIGTERM) {
            try? stop.setResult("the server is restarting, reconnect in a moment")
        }
        try loop.addSignalHandler(SIGINT) { try? stop.setResult("the server is stopping") }
        return stop
    }
}

ChatCommand.main()

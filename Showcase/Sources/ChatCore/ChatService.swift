import AsyncIO
import Logging

/// The whole chat on one loop: the hub, its broker, the web server and the line server.
///
/// ```swift
/// try run { loop in
///     let service = ChatService(configuration: .init(), logger: Logger(label: "chat"))
///     try await service.start(loop: loop)
///     … // until SIGTERM
///     await service.shutdown(reason: "the server is restarting")
/// }
/// ```
public final class ChatService {
    public struct Configuration: Sendable {
        public var host: String? = "127.0.0.1"
        public var httpPort = 8080
        public var linePort = 8023
        /// Several processes or loops on the same ports.
        public var reusePort = false
        public var limits = ChatLimits()
        /// This instance's name in the events it publishes.
        public var instance = "chat"

        public init() {}
    }

    public let configuration: Configuration
    public let hub: ChatHub
    public let web: WebServer
    public let lines: LineServer
    let logger: Logger

    /// - Parameters:
    ///   - broker: what joins it to other loops and instances; an ``InProcessBroker`` by default.
    ///   - metrics: shared by the services of one process's loops (`--loops N`).
    ///   - loopIndex: which of the process's loops this service runs on.
    public init(
        configuration: Configuration,
        broker: (any ChatBroker)? = nil,
        metrics: ChatMetrics = ChatMetrics(),
        loopIndex: Int = 0,
        logger: Logger
    ) {
        self.configuration = configuration
        self.logger = logger
        hub = ChatHub(
            broker: broker ?? InProcessBroker(historyLength: configuration.limits.historyLength),
            limits: configuration.limits,
            metrics: metrics,
            instance: configuration.instance,
            loopIndex: loopIndex,
            logger: logger
        )
        web = WebServer(hub: hub, logger: logger)
        lines = LineServer(hub: hub, logger: logger)
    }

    /// Connects the broker and starts both servers (with `SO_REUSEPORT` when
    /// `configuration.reusePort`).
    public func start(loop: isolated EventLoop) async throws {
        try await hub.broker.start(sink: hub, loop: loop)
        try await web.start(
            host: configuration.host,
            port: configuration.httpPort,
            reusePort: configuration.reusePort,
            loop: loop
        )
        try await lines.start(
            host: configuration.host,
            port: configuration.linePort,
            reusePort: configuration.reusePort,
            loop: loop
        )
        logger.info(
            "chat started",
            metadata: [
                "http": "http://\(configuration.host ?? "0.0.0.0"):\(web.port)/",
                "line": "\(configuration.host ?? "0.0.0.0"):\(lines.port)",
                "broker": "\(hub.broker.name)",
                "loop": "\(hub.loopIndex)",
            ]
        )
    }

    /// Stops accepting, tells every client `reason` and closes it, lets HTTP requests in progress
    /// finish for up to `timeout`, then closes the broker.
    public func shutdown(reason: String, timeout: Duration = .seconds(2)) async {
        logger.info("chat stopping", metadata: ["reason": "\(reason)", "clients": "\(hub.clientCount)"])
        lines.close()
        hub.closeAll(reason: reason)
        await web.shutdown(timeout: timeout)
        // Let the goodbyes flush (a client that does not read is dropped after the grace).
        var waited = Duration.zero
        while hub.clientCount > 0, waited < timeout {
            try? await sleep(.milliseconds(20))
            waited += .milliseconds(20)
        }
        await hub.broker.close()
        logger.info("chat stopped")
    }
}

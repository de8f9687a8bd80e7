import AsyncIO
import Logging

/// The chat on several loops of one process (`--loops N`): a ``ChatService`` per loop, all
/// listening on the same two ports with `SO_REUSEPORT`, sharing their rooms.
///
/// The kernel spreads new connections over the loops; each loop keeps the clients it accepted.
/// Rooms are shared through ``LoopRooms`` (in-process), or through Redis with `redisURL`, where
/// each loop is one more instance of the chat (its own connections, its own subscriptions).
///
/// ```swift
/// let chat = try await ChatServiceGroup.start(configuration: configuration, loops: 4, logger: logger)
/// … // until SIGTERM
/// await chat.shutdown(reason: "the server is restarting")
/// ```
public final class ChatServiceGroup: Sendable {
    public let group: EventLoopGroup
    /// Shared by every loop's service.
    public let metrics: ChatMetrics
    private let services: [LoopBound<ChatService>]
    /// The ports every loop listens on.
    public let httpPort: Int
    public let linePort: Int

    private init(
        group: EventLoopGroup,
        metrics: ChatMetrics,
        services: [LoopBound<ChatService>],
        ports: (http: Int, line: Int)
    ) {
        self.group = group
        self.metrics = metrics
        self.services = services
        (httpPort, linePort) = ports
    }

    /// Starts `loops` loops and a service on each: loop 0 first, on `configuration`'s ports (0
    /// picks free ones), then the others on the ports loop 0 bound.
    ///
    /// - Parameter redisURL: share the rooms through Redis (each loop its own connections) rather
    ///   than in the process.
    /// - Throws: what a service's start throws (the loops are then shut down).
    public static func start(
        configuration: ChatService.Configuration,
        loops: Int,
        redisURL: String? = nil,
        logger: Logger
    ) async throws -> ChatServiceGroup {
        let group = try EventLoopGroup(loopCount: loops, name: "chat-loop")
        let metrics = ChatMetrics(loops: loops)
        let rooms = LoopRooms(loops: group.loops, historyLength: configuration.limits.historyLength)
        var configuration = configuration
        configuration.reusePort = true
        @Sendable func start(
            _ index: Int,
            _ configuration: ChatService.Configuration
        ) async throws -> (service: LoopBound<ChatService>, http: Int, line: Int) {
            try await group.threads[index].run { loop in
                var configuration = configuration
                configuration.instance += "#\(index)"
                let broker: any ChatBroker =
                    try redisURL.map {
                        try RedisBroker(
                            url: $0,
                            instance: configuration.instance,
                            historyLength: configuration.limits.historyLength,
                            logger: logger
                        )
                    } ?? rooms.broker(loop: index)
                let service = ChatService(
                    configuration: configuration,
                    broker: broker,
                    metrics: metrics,
                    loopIndex: index,
                    logger: logger
                )
                try await service.start(loop: loop)
                return (LoopBound(service, loop: loop), service.web.port, service.lines.port)
            }
        }
        do {
            let first = try await start(0, configuration)
            configuration.httpPort = first.http
            configuration.linePort = first.line
            let others = try await withThrowingTaskGroup(of: (Int, LoopBound<ChatService>).self) { tasks in
                for index in 1..<loops {
                    tasks.addTask { [configuration] in (index, try await start(index, configuration).service) }
                }
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
            return ChatServiceGroup(
                group: group,
                metrics: metrics,
                services: [first.service] + others.sorted { $0.0 < $1.0 }.map(\.1),
                ports: (first.http, first.line)
            )
        } catch {
            group.shutdown()
            throw error
        }
    }

    /// Shuts every loop's service down at once (as ``ChatService/shutdown(reason:timeout:)``),
    /// then stops the loops. Blocks its thread while the loops stop: call it from outside them.
    public func shutdown(reason: String, timeout: Duration = .seconds(2)) async {
        await withTaskGroup(of: Void.self) { tasks in
            for service in services {
                tasks.addTask {
                    _ = try? await service.loop.runCoroutineThreadSafe { _ in
                        await service.value.shutdown(reason: reason, timeout: timeout)
                    }.value
                }
            }
        }
        group.shutdown()
    }
}

/// A value made on a loop and used only there, carried between threads.
final class LoopBound<Value>: @unchecked Sendable {
    // SAFETY (@unchecked): `value` is only touched by code that runs on `loop` (it is made there,
    // and is reached only through `runCoroutineThreadSafe` on that loop).
    let value: Value
    let loop: EventLoop

    init(_ value: Value, loop: EventLoop) {
        self.value = value
        self.loop = loop
    }
}

import CoreMetrics
import Prometheus
import Synchronization

/// The chat's metrics, through swift-metrics with swift-prometheus as the backend, and their
/// Prometheus text for `/metrics`.
///
/// Each instance has its own registry (passed as the factory explicitly, so that several services
/// in one test process do not share counters). The loops of one instance (`--loops N`) share one:
/// counters and gauges are totals of the process, and `chat_loop_connections{loop}` tells how the
/// clients are spread over the loops.
public final class ChatMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let lineConnections: CoreMetrics.Meter
    let webConnections: CoreMetrics.Meter
    let rooms: CoreMetrics.Meter
    let messagesIn: CoreMetrics.Counter
    let messagesOut: CoreMetrics.Counter
    let droppedSlow: CoreMetrics.Counter
    let refusedMessages: CoreMetrics.Counter
    let refusedConnections: CoreMetrics.Counter
    let brokerLag: CoreMetrics.Timer
    let brokerDegraded: CoreMetrics.Meter
    /// Per loop, when there are several: its connections.
    let loopConnections: [CoreMetrics.Meter]
    /// What `/healthz` reads back: clients per loop, and per room how many loops have members in it.
    private let census: Mutex<Census>

    struct Census {
        var clients: [Int]
        var rooms: [String: Int] = [:]
    }

    /// Metrics of an instance running `loops` loops.
    public init(loops: Int = 1) {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        self.registry = registry
        lineConnections = CoreMetrics.Meter(label: "chat_connections", dimensions: [("kind", "line")], factory: factory)
        webConnections = CoreMetrics.Meter(label: "chat_connections", dimensions: [("kind", "web")], factory: factory)
        rooms = CoreMetrics.Meter(label: "chat_rooms", factory: factory)
        messagesIn = CoreMetrics.Counter(label: "chat_messages_in_total", factory: factory)
        messagesOut = CoreMetrics.Counter(label: "chat_messages_out_total", factory: factory)
        droppedSlow = CoreMetrics.Counter(
            label: "chat_dropped_total",
            dimensions: [("reason", "slow_client")],
            factory: factory
        )
        refusedMessages = CoreMetrics.Counter(
            label: "chat_dropped_total",
            dimensions: [("reason", "refused_message")],
            factory: factory
        )
        refusedConnections = CoreMetrics.Counter(
            label: "chat_dropped_total",
            dimensions: [("reason", "connection_rate")],
            factory: factory
        )
        brokerLag = CoreMetrics.Timer(
            label: "chat_broker_lag_seconds",
            preferredDisplayUnit: .seconds,
            factory: factory
        )
        brokerDegraded = CoreMetrics.Meter(label: "chat_broker_degraded", factory: factory)
        brokerDegraded.set(0)
        loopConnections =
            loops > 1
            ? (0..<loops).map {
                CoreMetrics.Meter(label: "chat_loop_connections", dimensions: [("loop", "\($0)")], factory: factory)
            } : []
        census = Mutex(Census(clients: Array(repeating: 0, count: max(1, loops))))
    }

    // MARK: - Clients and rooms, across loops

    /// A client of `kind` connected on loop `loop`.
    func connected(_ kind: ChatClient.Kind, loop: Int) {
        counted(kind, loop: loop, by: 1)
    }

    /// A client of `kind` on loop `loop` is gone.
    func disconnected(_ kind: ChatClient.Kind, loop: Int) {
        counted(kind, loop: loop, by: -1)
    }

    private func counted(_ kind: ChatClient.Kind, loop: Int, by delta: Int) {
        (kind == .line ? lineConnections : webConnections).increment(by: Double(delta))
        if loopConnections.indices.contains(loop) { loopConnections[loop].increment(by: Double(delta)) }
        census.withLock { $0.clients[loop] += delta }
    }

    /// A loop has a first member in `room`.
    func roomOpened(_ room: String) {
        rooms.set(
            census.withLock { census in
                census.rooms[room, default: 0] += 1
                return census.rooms.count
            }
        )
    }

    /// A loop's last member left `room`.
    func roomClosed(_ room: String) {
        rooms.set(
            census.withLock { census in
                census.rooms[room, default: 1] -= 1
                if census.rooms[room] == 0 { census.rooms[room] = nil }
                return census.rooms.count
            }
        )
    }

    /// Connected clients, per loop.
    public var clientsPerLoop: [Int] { census.withLock { $0.clients } }

    /// Rooms with members on any loop.
    public var roomCount: Int { census.withLock { $0.rooms.count } }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}

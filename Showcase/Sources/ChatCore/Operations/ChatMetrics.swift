import CoreMetrics
import Prometheus

/// The chat's metrics, through swift-metrics with swift-prometheus as the backend, and their
/// Prometheus text for `/metrics`.
///
/// Each instance has its own registry (passed as the factory explicitly, so that several services
/// in one test process do not share counters).
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

    public init() {
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
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}

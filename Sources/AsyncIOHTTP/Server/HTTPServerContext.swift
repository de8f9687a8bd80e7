import HTTPTypes
import Logging
import Synchronization

/// What the connections of one server share: the configuration, the loggers and the bytes of the
/// `Server` field. Immutable, so one instance serves every connection (and every loop).
final class HTTPServerContext: Sendable {
    let configuration: HTTPServerConfiguration
    /// The configuration's values the connection state machine uses.
    let machineSettings: HTTPConnectionStateMachine.Settings
    /// Receives handler errors (aiohttp's `aiohttp.server` logger).
    let logger: Logger
    /// Receives one line per request when set (aiohttp's `aiohttp.access` logger).
    let accessLog: AccessLogger?
    /// `Server: <name>\r\n`, or nil for no such field.
    let serverField: [UInt8]?

    init(configuration: HTTPServerConfiguration, logger: Logger? = nil, accessLog: AccessLogger? = nil) {
        self.configuration = configuration
        machineSettings = HTTPConnectionStateMachine.Settings(configuration)
        self.logger = logger ?? Logger(label: "aiohttp.server")
        self.accessLog = accessLog
        if let name = configuration.serverName, !name.isEmpty {
            // Through swift-http-types' legalization, so that no name can split the head.
            let value = HTTPField(name: .server, value: name).value
            serverField = Array("Server: \(value)\r\n".utf8)
        } else {
            serverField = nil
        }
    }

    /// The last context made by ``shared(_:)``.
    private static let last = Mutex<HTTPServerContext?>(nil)

    /// A context with `configuration` and the default logger, shared with the connections made
    /// before with the same configuration (the talk's API makes one protocol object per
    /// connection, each with its configuration: a context each would cost every idle connection
    /// a logger and a copy of the configuration).
    static func shared(_ configuration: HTTPServerConfiguration) -> HTTPServerContext {
        last.withLock { last in
            if let context = last, context.configuration == configuration { return context }
            let context = HTTPServerContext(configuration: configuration)
            last = context
            return context
        }
    }
}

import HTTPTypes
import Logging

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
}

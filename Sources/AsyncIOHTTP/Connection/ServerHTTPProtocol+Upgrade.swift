import AsyncIO

/// A protocol that takes a server connection over after `101 Switching Protocols` (a WebSocket):
/// from then on the connection forwards its transport's events here instead of parsing HTTP.
protocol UpgradedConnection: AnyObject {
    /// Bytes from the socket.
    func received(_ bytes: UnsafeRawBufferPointer)
    /// The peer shut its side.
    func peerClosedInput()
    /// The connection is gone.
    func connectionLost()
    /// The transport's write buffer went over its high-water mark.
    func pauseWriting()
    /// The transport's write buffer drained below its low-water mark.
    func resumeWriting()
    /// The server shuts down gracefully: end the protocol soon (a WebSocket sends 1001).
    func serverShuttingDown()
}

extension ServerHTTPProtocol {
    /// Hands the connection to `handler` once the `101` head is committed: the head is flushed,
    /// HTTP parsing stops for good, and reading resumes for the new protocol.
    ///
    /// - Returns: bytes that arrived after the request head, which belong to the new protocol.
    func switchProtocols(to handler: any UpgradedConnection) -> [UInt8] {
        endResponse()
        flush()
        machine.switchedProtocols()
        upgraded = handler
        socketTransport?.resumeReading()
        return parser.takeUnconsumedBytes()
    }
}

extension WebSocketChannel: UpgradedConnection {
    func serverShuttingDown() {
        guard state == .open else { return }
        loop.runIsolated(self) { channel, loop in
            loop.createTask(name: "WebSocket going away") {
                _ = try? await channel.close(code: .goingAway, reason: "server shutdown")
            }
        }
    }
}

import AsyncIO

/// A line client's connection (`nc 127.0.0.1 8023`): each event and reply is a line of text.
///
/// Its outgoing queue is the transport's write buffer: events are written without waiting, and
/// once more than `maxOutgoingBytes` wait to be sent (the client does not read), ``send(_:)`` says
/// so and the hub cuts the client off.
final class LineConnection: ClientConnection {
    let writer: StreamWriter
    let maxOutgoingBytes: Int
    /// How long a closing connection may take to flush before it is dropped.
    static let closeGrace: Duration = .seconds(2)

    init(writer: StreamWriter, maxOutgoingBytes: Int) {
        self.writer = writer
        self.maxOutgoingBytes = maxOutgoingBytes
    }

    func send(_ event: Outgoing) -> Bool {
        guard writer.transport.writeBufferSize <= maxOutgoingBytes else { return false }
        try? writer.write(event.line)
        return true
    }

    func send(_ reply: Reply) {
        try? writer.write(reply.lines.map { $0 + "\n" }.joined())
    }

    func close(reason: String?, shutdown: Bool) {
        if let reason { try? writer.write("* Bye: \(reason)\n") }
        writer.close()
        // A peer that reads nothing would keep the flush waiting forever: drop it after a grace.
        let transport = writer.transport
        transport.loop.runIsolated(transport) { transport, loop in
            loop.callLater(Self.closeGrace) { transport.abort() }
        }
    }
}

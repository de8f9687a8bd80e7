import AsyncIO

/// A line client's connection (`nc 127.0.0.1 8023`): each event and reply is a line of text.
///
/// What the hub sends during a loop iteration is queued here and written at the start of the
/// next one in one system call. Its outgoing queue is then the transport's write buffer: once more
/// than `maxOutgoingBytes` wait to be sent (the client does not read), ``send(_:)`` says so and
/// the hub cuts the client off.
final class LineConnection: ClientConnection {
    let writer: StreamWriter
    let maxOutgoingBytes: Int
    /// Queued during this iteration, written by `flush`.
    private var pending: [UInt8] = []
    private var isClosing = false
    /// How long a closing connection may take to flush before it is dropped.
    static let closeGrace: Duration = .seconds(2)

    init(writer: StreamWriter, maxOutgoingBytes: Int) {
        self.writer = writer
        self.maxOutgoingBytes = maxOutgoingBytes
    }

    func send(_ event: Outgoing) -> Bool {
        guard writer.transport.writeBufferSize + pending.count <= maxOutgoingBytes else { return false }
        enqueue(event.line)
        return true
    }

    func send(_ reply: Reply) {
        for line in reply.lines { enqueue(Array((line + "\n").utf8)) }
    }

    private func enqueue(_ bytes: [UInt8]) {
        guard !isClosing else { return }
        let wasEmpty = pending.isEmpty
        pending.append(contentsOf: bytes)
        guard wasEmpty else { return }
        let transport = writer.transport
        transport.loop.runIsolated(self) { this, loop in loop.callSoon { this.flush() } }
    }

    /// Writes what is queued, in one system call.
    private func flush() {
        guard !pending.isEmpty else { return }
        try? writer.write(pending)
        // Not kept: an idle client holds no queue.
        pending = []
    }

    func close(reason: String?, shutdown: Bool) {
        guard !isClosing else { return }
        if let reason { enqueue(Array("* Bye: \(reason)\n".utf8)) }
        flush()
        isClosing = true
        writer.close()
        // A peer that reads nothing would keep the flush waiting forever: drop it after a grace.
        let transport = writer.transport
        transport.loop.runIsolated(transport) { transport, loop in
            loop.callLater(Self.closeGrace) { transport.abort() }
        }
    }
}

import AsyncIO
import AsyncIOHTTP
import WebSocketCodec

/// A web page's connection: JSON text messages over its WebSocket.
///
/// What the hub sends during a loop iteration is queued here and written at the start of the
/// next one, all of it in one system call (`sendNowait` with frames encoded once per event for
/// every page): a broadcast never waits on its slowest reader, and a page that gets ten messages
/// in an iteration costs one write, not ten. The connection's write buffer is then the page's
/// outgoing queue, as for a line client: once more than `maxOutgoingBytes` wait in it
/// (`bufferedAmount`), ``send(_:)`` says so and the hub cuts the page off (close code 1008 with
/// the reason). A page that reads nothing is dropped after a grace period.
final class WebConnection: ClientConnection {
    let socket: WebSocketResponse
    let transport: HTTPServerTransport
    let maxOutgoingBytes: Int
    /// Queued during this iteration, written by `flush`.
    private var pending: [WebSocketPreparedMessage] = []
    private var pendingBytes = 0
    private var isClosing = false
    /// How long a closing connection may take to flush before it is dropped.
    static let closeGrace: Duration = .seconds(2)

    init(socket: WebSocketResponse, transport: HTTPServerTransport, maxOutgoingBytes: Int) {
        self.socket = socket
        self.transport = transport
        self.maxOutgoingBytes = maxOutgoingBytes
    }

    func send(_ event: Outgoing) -> Bool {
        guard socket.bufferedAmount + pendingBytes <= maxOutgoingBytes else { return false }
        enqueue(event.webSocketMessage)
        return true
    }

    func send(_ reply: Reply) {
        enqueue(WebSocketPreparedMessage(text: reply.json))
    }

    private func enqueue(_ message: WebSocketPreparedMessage) {
        guard !isClosing else { return }
        pending.append(message)
        pendingBytes += message.frameSize
        guard pending.count == 1, let connection = transport.socket else { return }
        connection.loop.runIsolated(self) { this, loop in loop.callSoon { this.flush() } }
    }

    /// Writes what is queued, in one system call.
    private func flush() {
        guard !pending.isEmpty else { return }
        // A connection already gone throws: the hub hears of it from the reading side.
        try? socket.sendNowait(pending)
        // Not kept: an idle page holds no queue.
        pending = []
        pendingBytes = 0
    }

    func close(reason: String?, shutdown: Bool) {
        guard !isClosing else { return }
        var code = WebSocketCloseCode.normalClosure
        var text = ""
        if let reason {
            send(Reply(.bye, text: reason))
            code = shutdown ? .serviceRestart : .policyViolation
            // A close frame's reason holds at most 123 bytes.
            text = String(decoding: reason.utf8.prefix(120), as: UTF8.self)
        }
        flush()
        isClosing = true
        guard let connection = transport.socket else { return }
        // The closing handshake waits for the page's answer: in a task of its own. A page that
        // reads nothing is dropped after the grace.
        connection.loop.runIsolated(self, (code, text)) { this, close, loop in
            loop.createTask { _ = try? await this.socket.close(code: close.0, reason: close.1) }
            loop.callLater(Self.closeGrace) { this.transport.socket?.abort() }
        }
    }
}

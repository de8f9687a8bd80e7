import AsyncIO
import AsyncIOHTTP
import WebSocketCodec

/// A web page's connection: JSON text messages over its WebSocket.
///
/// The WebSocket's `send` waits while the page reads too slowly, so the connection keeps its own
/// bounded queue: a pump task sends what is queued, one message at a time, and once more than
/// `maxOutgoingBytes` wait, ``send(_:)`` says so and the hub cuts the client off (close code 1008
/// with the reason). A page that reads nothing is dropped after a grace period.
final class WebConnection: ClientConnection {
    let socket: WebSocketResponse
    let transport: HTTPServerTransport
    let maxOutgoingBytes: Int
    private let queue = Queue<String>()
    private var queuedBytes = 0
    private var closeCode = WebSocketCloseCode.normalClosure
    private var closeReason = ""
    /// How long a closing connection may take to flush before it is dropped.
    static let closeGrace: Duration = .seconds(2)

    init(socket: WebSocketResponse, transport: HTTPServerTransport, maxOutgoingBytes: Int) {
        self.socket = socket
        self.transport = transport
        self.maxOutgoingBytes = maxOutgoingBytes
    }

    func send(_ event: Outgoing) -> Bool {
        guard queuedBytes <= maxOutgoingBytes else { return false }
        enqueue(event.json)
        return true
    }

    func send(_ reply: Reply) {
        enqueue(reply.json)
    }

    private func enqueue(_ text: String) {
        queuedBytes += text.utf8.count
        try? queue.putNowait(text)
    }

    func close(reason: String?, shutdown: Bool) {
        if let reason {
            enqueue(Reply(.bye, text: reason).json)
            closeCode = shutdown ? .serviceRestart : .policyViolation
            // A close frame's reason holds at most 123 bytes.
            closeReason = String(decoding: reason.utf8.prefix(120), as: UTF8.self)
        }
        queue.shutdown()
        guard let socket = transport.socket else { return }
        socket.loop.runIsolated(socket) { socket, loop in
            loop.callLater(Self.closeGrace) { socket.abort() }
        }
    }

    /// Sends what is queued until the connection is closed, then closes the WebSocket.
    func pump() async {
        do {
            while true {
                let text = try await queue.get()
                queuedBytes -= text.utf8.count
                try await socket.send(text: text)
            }
        } catch {}
        if !socket.isClosed { _ = try? await socket.close(code: closeCode, reason: closeReason) }
    }
}

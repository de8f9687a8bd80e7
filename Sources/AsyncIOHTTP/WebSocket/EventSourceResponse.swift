import AsyncIO
import HTTPTypes

/// A stream of server-sent events (`text/event-stream`): aiohttp-sse's `EventSourceResponse`.
///
/// ```swift
/// let server = try await HTTPServer.start(port: 8080, loop: loop) { request in
///     let events = EventSourceResponse()
///     try await events.prepare(request)
///     var next = Int(events.lastEventID ?? "") ?? 0
///     while true {
///         next += 1
///         try await events.send("tick \(next)", event: "tick", id: String(next))
///         try await sleep(.seconds(1))
///     }
/// }
/// ```
/// `prepare` sends the head at once, so the browser's `EventSource` opens. A comment (`: ping`)
/// goes out every ``pingInterval`` while nothing else is sent, so proxies keep the stream open.
/// When the client leaves, the handler is cancelled (a `CancelledError`, which the server does not
/// log) and the keep-alive timer stops: the stream ends cleanly.
///
/// Mirrors `aiohttp_sse.EventSourceResponse` (`send(data, id, event, retry)`, `ping_interval`,
/// `last_event_id`). Deviations: lines end with LF (aiohttp-sse uses CRLF; both are valid);
/// ``sendComment(_:)`` writes any comment.
public final class EventSourceResponse: StreamResponse {
    /// How often a `: ping` comment is sent while the stream is idle; nil for never. aiohttp-sse's 15 s.
    public let pingInterval: Duration?
    /// The client's `Last-Event-ID` (sent by `EventSource` when it reconnects), to resume from.
    public private(set) var lastEventID: String?
    private var pingTimer: Handle?
    private var sentSincePing = false

    /// Why an event could not be sent.
    public enum EventError: Error, Sendable, Equatable {
        /// An `event` name or `id` holds CR or LF (or an `id` holds NUL), which would split the field.
        case invalidField(String)
    }

    /// Creates a stream; `prepare(request)` starts it.
    public init(pingInterval: Duration? = .seconds(15), headers: HTTPFields = [:]) {
        self.pingInterval = pingInterval
        super.init(status: .ok, headers: headers)
        contentType = "text/event-stream"
        charset = "utf-8"
    }

    /// Sends the head at once and starts the keep-alive comments.
    public override func prepare(_ request: Request) async throws {
        guard !isPrepared else { return }
        lastEventID = request.headers[HTTPField.Name("Last-Event-ID")!]
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-cache" }
        // nginx buffers responses unless told not to; an event stream must not wait in a buffer.
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        enableChunkedEncoding()
        try await super.prepare(request)
        try await drain()
        schedulePing()
    }

    /// Sends one event: `data` (split into one `data:` line per line), and optionally its `event`
    /// type, `id` (what `Last-Event-ID` will carry) and the client's reconnection delay `retry`.
    ///
    /// - Throws: ``EventError/invalidField(_:)``; `CancelledError` or ``ResponseError`` when the
    ///   client is gone. Mirrors `send(data, id=None, event=None, retry=None)`.
    public func send(_ data: String, event: String? = nil, id: String? = nil, retry: Duration? = nil) async throws {
        var text = ""
        if let id {
            guard !id.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw EventError.invalidField(id)
            }
            text += "id: \(id)\n"
        }
        if let event {
            guard !event.contains(where: { $0 == "\r" || $0 == "\n" }) else { throw EventError.invalidField(event) }
            text += "event: \(event)\n"
        }
        if let retry {
            let (seconds, attoseconds) = retry.components
            text += "retry: \(seconds * 1000 + attoseconds / 1_000_000_000_000_000)\n"
        }
        // CRLF, CR and LF all end a line in an event stream (a Character holds CRLF as one).
        for line in data.split(
            omittingEmptySubsequences: false,
            whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        ) {
            text += "data: \(line)\n"
        }
        text += "\n"
        sentSincePing = true
        try await write(text)
    }

    /// Sends a comment line (`: text`), which clients ignore; pings are comments.
    public func sendComment(_ comment: String = "ping") async throws {
        let lines = comment.split(
            omittingEmptySubsequences: false,
            whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        )
        try await write(lines.map { ": \($0)\n" }.joined() + "\n")
    }

    /// Ends the stream (the client's `EventSource` will reconnect unless told otherwise).
    public override func writeEOF(_ data: [UInt8] = []) async throws {
        pingTimer?.cancel()
        pingTimer = nil
        try await super.writeEOF(data)
    }

    private func schedulePing() {
        guard let pingInterval, let loop = connection?.eventLoop else { return }
        pingTimer = loop.callLaterOnLoop(pingInterval) { [weak self] in self?.pingDue() }
    }

    /// Writes `: ping` if nothing else went out during the interval, unless the stream is over.
    private func pingDue() {
        pingTimer = nil
        guard !isFinished, let connection, connection.response.number == exchangeNumber,
            connection.socketTransport != nil
        else { return }
        if !sentSincePing && !connection.writingPaused {
            pingComment.withUnsafeBytes { try? connection.writeBody($0) }
            connection.flush()
        }
        sentSincePing = false
        schedulePing()
    }
}

private let pingComment = Array(": ping\n\n".utf8)

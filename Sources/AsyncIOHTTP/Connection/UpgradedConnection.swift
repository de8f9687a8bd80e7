import AsyncIO
import DequeModule
import HTTPTypes

/// A connection after `101 Switching Protocols`: raw bytes both ways, for the protocol that took it
/// over (WebSocket, a tunnel).
///
/// Made by ``StreamResponse/switchProtocols(_:)`` in a handler; the handler keeps running and
/// speaks the new protocol with ``read()`` and ``write(_:)``, and the connection closes when the
/// handler returns (or at ``close()``). Bytes the client sent right after its request head (before
/// it saw the 101) come first from ``read()``. Reading from the socket pauses while more than
/// ``maxBuffered`` bytes wait to be read; ``write(_:)`` waits while the client reads too slowly.
/// No HTTP deadline applies any more: the new protocol keeps its own (pings, idle timeouts).
/// A client that disconnects ends ``read()`` (nil) and cancels the handler, as for any request.
///
/// Loop thread only, like everything a handler touches. Mirrors what aiohttp's
/// `WebSocketResponse.prepare` does with the protocol's transport and its `StreamReader` after the
/// handshake.
public final class UpgradedConnection {
    /// The most received bytes kept before reading from the socket pauses.
    public var maxBuffered = 64 * 1024

    private weak var owner: ServerHTTPProtocol?
    private var chunks = Deque<[UInt8]>()
    /// Bytes received and not yet read.
    public private(set) var bufferedCount = 0
    private var ended = false
    private var failure: (any Error)?
    private let waiter: WaitPoint

    init(owner: ServerHTTPProtocol, loop: EventLoop, leftover: [UInt8]) {
        self.owner = owner
        waiter = WaitPoint(loop: loop)
        if !leftover.isEmpty {
            chunks.append(leftover)
            bufferedCount = leftover.count
        }
    }

    /// The socket transport (nil once the connection is lost): its addresses, its descriptor.
    public var transport: (any Transport)? { owner?.socketTransport }

    /// True once the connection is closing or lost.
    public var isClosing: Bool { owner?.socketTransport?.isClosing ?? true }

    /// The next bytes the client sent, as they arrived; nil once it closed its side.
    ///
    /// - Throws: the transport's error if the connection was lost with one; `CancelledError` if
    ///   the waiting task is cancelled.
    public func read() async throws -> [UInt8]? {
        while true {
            if let chunk = chunks.popFirst() {
                bufferedCount -= chunk.count
                owner?.updateReading()
                return chunk
            }
            if let failure { throw failure }
            if ended { return nil }
            try await waiter.wait()
        }
    }

    /// Sends `bytes`, waiting first while the client reads too slowly.
    ///
    /// - Throws: `TransportError.closed` once the connection is closing or lost; `CancelledError`
    ///   when the client went away while we waited.
    public func write(_ bytes: [UInt8]) async throws {
        guard let owner, let transport = owner.socketTransport, !transport.isClosing else {
            throw TransportError.closed
        }
        try transport.write(bytes)
        if owner.writingPaused { try await owner.waitForDrain() }
    }

    /// Waits until the client has read enough of what was written.
    public func drain() async throws {
        guard let owner else { return }
        if owner.writingPaused { try await owner.waitForDrain() }
    }

    /// Closes the connection once what was written is sent. Reads then end.
    public func close() {
        owner?.socketTransport?.close()
    }

    // MARK: - Feeding (the connection)

    func received(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, !ended else { return }
        chunks.append(bytes)
        bufferedCount += bytes.count
        waiter.wake()
    }

    /// The client closed its side (nil) or the connection was lost (`error`).
    func finish(_ error: (any Error)?) {
        guard !ended else { return }
        ended = true
        failure = error
        if let error { waiter.wake(throwing: error) } else { waiter.wake() }
    }

    /// Whether the connection should read from the socket.
    var wantsBytes: Bool { !ended && bufferedCount < maxBuffered }
}

extension StreamResponse {
    /// Sends this response, whose status must be `101 Switching Protocols`, and hands the
    /// connection over: what the client sends next, and what the handler writes, are raw bytes of
    /// the new protocol.
    ///
    /// The handler keeps running and speaks the new protocol through the returned
    /// ``UpgradedConnection``; then it returns this response (already sent), and the connection
    /// closes. Set the fields the new protocol needs first (`Upgrade`, `Connection: Upgrade`,
    /// `Sec-WebSocket-Accept`, …): they are sent as they are, with `Date` and `Server`.
    /// ```swift
    /// let response = StreamResponse(status: .switchingProtocols)
    /// response.headers[.upgrade] = "websocket"
    /// response.headers[.connection] = "Upgrade"
    /// response.headers[.secWebSocketAccept] = accept
    /// let connection = try response.switchProtocols(request)
    /// while let bytes = try await connection.read() { … }
    /// return response
    /// ```
    /// - Throws: ``ResponseError/cannotSwitchProtocols(_:)`` if the status is not 101 or the
    ///   request has a body still arriving; ``ResponseError/headersAlreadySent``;
    ///   ``ResponseError/exchangeOver``. Mirrors what aiohttp's `WebSocketResponse.prepare` does.
    public func switchProtocols(_ request: Request) throws(ResponseError) -> UpgradedConnection {
        guard !isPrepared else { throw .headersAlreadySent }
        guard status.code == 101 else { throw .cannotSwitchProtocols("the status is \(status.code), not 101") }
        let connection = request.connection
        guard connection.response.number == request.exchangeNumber, !connection.response.committed,
            let loop = connection.eventLoop, connection.socketTransport != nil
        else { throw .exchangeOver }
        guard case .exchange(let exchange) = connection.machine.phase, !exchange.bodyPending else {
            throw .cannotSwitchProtocols("the request has a body")
        }
        bind(to: connection, exchange: request.exchangeNumber)
        connection.commitHead(
            ResponseHeadInfo(
                code: 101,
                reason: status.reasonPhrase,
                headers: headers,
                contentType: nil,
                contentLength: nil,
                chunked: false,
                close: false
            ),
            finalBodyCount: nil
        )
        connection.response.ended = true
        connection.machine.switchedProtocols()
        connection.flush()
        let upgraded = UpgradedConnection(
            owner: connection,
            loop: loop,
            leftover: connection.parser.takeUnconsumedBytes()
        )
        connection.upgraded = upgraded
        connection.updateReading()
        isPrepared = true
        isFinished = true
        return upgraded
    }
}

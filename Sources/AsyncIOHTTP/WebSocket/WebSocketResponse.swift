import AsyncIO
import HTTP1Codec
import HTTPTypes
import WebSocketCodec

/// The server's side of a WebSocket: aiohttp's `web.WebSocketResponse`.
///
/// ```swift
/// let server = try await HTTPServer.start(port: 8080, loop: loop) { request in
///     let ws = WebSocketResponse()
///     try await ws.prepare(request)
///     for try await message in ws {
///         if let text = message.text { try await ws.send(text: "echo: \(text)") }
///     }
///     return ws
/// }
/// ```
/// `prepare` checks the upgrade request (answering `400`, `403` or `426` by throwing an
/// ``HTTPError``), sends `101 Switching Protocols` and takes the connection over. Then
/// ``receive(timeout:)`` or `for try await` reads messages (pings are answered for you), ``send(text:)``
/// and ``send(_:)`` write them, waiting while the client reads too slowly, and
/// ``close(code:reason:)`` runs the closing handshake. The iteration ends when the client closes;
/// return the response from the handler then.
///
/// On the low-level API (a ``ServerHTTPProtocol`` subclass), call
/// ``prepare(_:transport:)`` with the request's message and the connection's ``ServerHTTPProtocol/transport``.
/// A server started with TLS (`HTTPServer.start(…, tls:)`) serves `wss://` with the same code.
///
/// Mirrors `aiohttp.web.WebSocketResponse`. Deviations: options are one ``WebSocketOptions``
/// value; compression is off by default; a protocol error is thrown by `receive` (after its close
/// code was sent) instead of returned as an `ERROR` message; `send(text:)` / `send(_:)` for
/// `send_str` / `send_bytes`.
public final class WebSocketResponse: StreamResponse, AsyncSequence, WebSocketMessageSource {

    /// How this WebSocket behaves.
    public let options: WebSocketOptions
    /// The subprotocol agreed with the client, if any. Mirrors `ws_protocol`.
    public private(set) var subprotocol: String?
    /// The permessage-deflate parameters agreed, or nil when messages are not compressed.
    public private(set) var compression: PerMessageDeflateParameters?
    var channel: WebSocketChannel?
    var messageChannel: WebSocketChannel? { channel }

    /// Creates a response that upgrades the request it is prepared for.
    public init(options: WebSocketOptions = WebSocketOptions()) {
        self.options = options
        super.init(status: .switchingProtocols)
    }

    /// Performs the opening handshake for `request` and takes the connection over.
    ///
    /// - Throws: ``HTTPError`` (`400`, `403` for a refused origin, `426` with
    ///   `Sec-WebSocket-Version: 13`) for a request that is not a valid upgrade; the server sends it.
    ///   Mirrors `await ws.prepare(request)`.
    public override func prepare(_ request: Request) async throws {
        try upgrade(request.message, connection: request.connection, exchange: request.exchangeNumber)
    }

    /// Performs the opening handshake on the low-level API: `message` is the request head given to
    /// ``ServerHTTPProtocol/handleRequest(_:_:)``, `transport` the connection's.
    public func prepare(_ message: RawRequestMessage, transport: HTTPServerTransport) async throws {
        try upgrade(message, connection: transport.connection, exchange: transport.connection.response.number)
    }

    /// Whether `request` is a WebSocket upgrade this response would accept. Mirrors `can_prepare`.
    public func canPrepare(_ request: Request) -> Bool {
        (try? validate(request.message)) != nil
    }

    private func validate(_ message: RawRequestMessage) throws -> WebSocketUpgradeRequest {
        guard message.version.major == 1, message.version.minor >= 1 else {
            throw HTTPError.badRequest(text: "WebSocket needs HTTP/1.1")
        }
        let upgrade: WebSocketUpgradeRequest
        do {
            upgrade = try WebSocketHandshake.validateUpgradeRequest(
                method: message.httpMethod,
                headerFields: message.headers
            )
        } catch {
            let fields = error.status == .upgradeRequired ? WebSocketHandshake.upgradeRequiredFields : [:]
            throw HTTPError(error.status, text: "\(error.status.code): \(description(of: error))", headers: fields)
        }
        if let allowed = options.allowedOrigins, !allowed.contains(upgrade.origin ?? "") {
            throw HTTPError.forbidden(text: "403: origin not allowed")
        }
        return upgrade
    }

    private func upgrade(_ message: RawRequestMessage, connection: ServerHTTPProtocol, exchange: Int) throws {
        guard !isPrepared else { return }
        let upgrade = try validate(message)
        subprotocol = WebSocketHandshake.selectSubprotocol(offered: upgrade.subprotocols, supported: options.protocols)
        compression = options.compression?.negotiate(offers: upgrade.extensionOffers)
        headers = WebSocketHandshake.responseFields(for: upgrade, subprotocol: subprotocol, deflate: compression)
        bind(to: connection, exchange: exchange)
        try commit(finalBodyCount: nil)
        isFinished = true
        guard let socket = connection.socketTransport else { throw WebSocketConnectionError.closed }
        let channel = WebSocketChannel(role: .server, transport: socket, options: options, deflate: compression)
        self.channel = channel
        let early = connection.switchProtocols(to: channel)
        if !early.isEmpty { early.withUnsafeBytes { channel.received($0) } }
    }

    private func description(of error: WebSocketHandshakeError) -> String {
        switch error {
        case .methodNotGet: "a WebSocket upgrade must be a GET"
        case .missingUpgrade: "No WebSocket UPGRADE hdr"
        case .missingConnectionUpgrade: "No CONNECTION upgrade hdr"
        case .unsupportedVersion: "Unsupported version (Sec-WebSocket-Version must be 13)"
        case .invalidKey: "Handshake error: invalid Sec-WebSocket-Key"
        default: "\(error)"
        }
    }

    private func prepared() throws -> WebSocketChannel {
        guard let channel else { throw ResponseError.notPrepared }
        return channel
    }

    // MARK: - Messages

    /// The next message: text, binary, the client's close (answered already), or `.closed`.
    ///
    /// - Parameter timeout: give up after this long (`AsyncIOError.timeout`); the connection stays open.
    /// - Throws: `WebSocketError` when the client broke the protocol (the close frame with its
    ///   code was sent and the connection closes); ``WebSocketConnectionError/heartbeatTimeout``;
    ///   `AsyncIOError.invalidState` if another task is receiving. Mirrors `receive(timeout)`.
    public func receive(timeout: Duration? = nil) async throws -> WebSocketMessage {
        try await prepared().receive(timeout: timeout)
    }

    /// The next text message; a binary one throws. Mirrors `receive_str()`.
    public func receiveText(timeout: Duration? = nil) async throws -> String {
        let message = try await receive(timeout: timeout)
        guard let text = message.text else { throw WebSocketError.invalidUTF8 }
        return text
    }

    /// Sends a text message, waiting while the client reads too slowly. Mirrors `send_str`.
    ///
    /// - Throws: ``WebSocketConnectionError/closed`` once the closing handshake began or the
    ///   connection is gone.
    public func send(text: String) async throws {
        try await prepared().sendText(text)
    }

    /// Sends a binary message, waiting while the client reads too slowly. Mirrors `send_bytes`.
    public func send(_ bytes: some Collection<UInt8>) async throws {
        try await prepared().sendBinary(bytes)
    }

    /// Sends a ping (at most 125 bytes). Mirrors `ping(message)`.
    public func ping(_ payload: [UInt8] = []) async throws {
        try await prepared().ping(payload)
    }

    /// Sends an unsolicited pong (at most 125 bytes). Mirrors `pong(message)`.
    public func pong(_ payload: [UInt8] = []) async throws {
        try await prepared().pong(payload)
    }

    /// Starts the closing handshake, waits for the client's close (up to
    /// ``WebSocketOptions/closeTimeout``) and closes the connection.
    ///
    /// - Returns: false if the connection was already closing or closed. Mirrors `close(code, message)`.
    @discardableResult
    public func close(code: WebSocketCloseCode = .normalClosure, reason: String = "") async throws -> Bool {
        try await prepared().close(code: code, reason: reason)
    }

    /// Whether the closing handshake started or the connection is gone. Mirrors `closed`.
    public var isClosed: Bool { channel?.isClosed ?? false }

    /// The close code once closed: the client's, ours, 1005 for a close without a code, 1006 for a
    /// connection lost without one. Mirrors `close_code`.
    public var closeCode: WebSocketCloseCode? { channel?.closeCode }

    // MARK: - AsyncSequence

    /// Iterates text and binary messages; ends when the connection closes. Mirrors `async for msg in ws`.
    public func makeAsyncIterator() -> WebSocketMessageIterator {
        WebSocketMessageIterator(source: self)
    }
}

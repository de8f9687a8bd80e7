import AsyncIO
import AsyncIOTLS
import HTTP1Codec
import HTTPTypes
import WebSocketCodec

/// The client's side of a WebSocket, from ``ClientSession/wsConnect(_:options:headers:origin:timeout:)``:
/// aiohttp's `ClientWebSocketResponse`.
///
/// The message API is ``WebSocketResponse``'s: ``receive(timeout:)`` or `for try await`,
/// ``send(text:)``, ``send(_:)``, ``ping(_:)``, ``close(code:reason:)``. Every frame is masked with
/// a fresh key from a fast generator seeded from the system's random source.
public final class ClientWebSocket: AsyncSequence, WebSocketMessageSource {

    let channel: WebSocketChannel
    var messageChannel: WebSocketChannel? { channel }
    /// The subprotocol the server chose, if any. Mirrors `protocol`.
    public let subprotocol: String?
    /// The permessage-deflate parameters agreed, or nil.
    public let compression: PerMessageDeflateParameters?
    /// The `101` response's header fields.
    public let responseHeaders: HTTPFields

    init(
        channel: WebSocketChannel,
        subprotocol: String?,
        compression: PerMessageDeflateParameters?,
        responseHeaders: HTTPFields
    ) {
        self.channel = channel
        self.subprotocol = subprotocol
        self.compression = compression
        self.responseHeaders = responseHeaders
    }

    /// The next message: text, binary, the server's close (answered already), or `.closed`.
    /// See ``WebSocketResponse/receive(timeout:)``. Mirrors `receive(timeout)`.
    public func receive(timeout: Duration? = nil) async throws -> WebSocketMessage {
        try await channel.receive(timeout: timeout)
    }

    /// Sends a text message, waiting while the server reads too slowly. Mirrors `send_str`.
    public func send(text: String) async throws { try await channel.sendText(text) }

    /// Sends a binary message, waiting while the server reads too slowly. Mirrors `send_bytes`.
    public func send(_ bytes: some Collection<UInt8>) async throws { try await channel.sendBinary(bytes) }

    /// Sends a ping (at most 125 bytes). Mirrors `ping(message)`.
    public func ping(_ payload: [UInt8] = []) async throws { try await channel.ping(payload) }

    /// Sends an unsolicited pong. Mirrors `pong(message)`.
    public func pong(_ payload: [UInt8] = []) async throws { try await channel.pong(payload) }

    /// Runs the closing handshake (waiting up to ``WebSocketOptions/closeTimeout``) and closes
    /// the connection. Returns false if it was already closing. Mirrors `close(code, message)`.
    @discardableResult
    public func close(code: WebSocketCloseCode = .normalClosure, reason: String = "") async throws -> Bool {
        try await channel.close(code: code, reason: reason)
    }

    /// Whether the closing handshake started or the connection is gone. Mirrors `closed`.
    public var isClosed: Bool { channel.isClosed }

    /// The close code once closed. Mirrors `close_code`.
    public var closeCode: WebSocketCloseCode? { channel.closeCode }

    /// Iterates text and binary messages; ends when the connection closes.
    public func makeAsyncIterator() -> WebSocketMessageIterator {
        WebSocketMessageIterator(source: self)
    }
}

/// The connection under a ``ClientWebSocket``: reads the `101` answer with `HTTP1Codec`, then
/// hands every byte to the WebSocket channel.
final class WebSocketClientProtocol: ConnectionProtocol {
    private let key: String
    private let options: WebSocketOptions
    private var parser = ResponseParser()
    private(set) var transport: (any Transport)?
    /// The task that opens the connection (see `wsConnect`).
    var connecting: LoopTask<Void>?
    private let handshakeDone: WaitPoint
    private(set) var result: Result<ClientWebSocket, any Error>?
    private var channel: WebSocketChannel?

    init(key: String, options: WebSocketOptions, loop: EventLoop) {
        self.key = key
        self.options = options
        handshakeDone = WaitPoint(loop: loop)
    }

    func connectionMade(_ transport: any Transport, loop: isolated EventLoop) {
        self.transport = transport
    }

    func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {
        if let channel {
            data.withUnsafeBytes { channel.received($0) }
            return
        }
        guard result == nil, let transport else { return }
        parser.feed(Array(data))
        do {
            guard let event = try parser.next(requestMethod: .other) else { return }
            guard case .head(let head) = event else { throw ClientError.unexpectedData }
            let response = head.makeHTTPResponse()
            let agreed = try WebSocketHandshake.validateResponse(
                status: head.statusCode,
                headerFields: response.headerFields,
                key: key,
                subprotocols: options.protocols,
                deflate: options.compression
            )
            let channel = WebSocketChannel(
                role: .client,
                transport: transport,
                options: options,
                deflate: agreed.deflate
            )
            self.channel = channel
            finish(
                .success(
                    ClientWebSocket(
                        channel: channel,
                        subprotocol: agreed.subprotocol,
                        compression: agreed.deflate,
                        responseHeaders: response.headerFields
                    )
                )
            )
            let early = parser.takeUnconsumedBytes()
            if !early.isEmpty { early.withUnsafeBytes { channel.received($0) } }
        } catch let error as WebSocketHandshakeError {
            finish(.failure(WebSocketConnectionError.handshakeFailed(error)))
            transport.close()
        } catch let error as HTTPParseError {
            finish(.failure(ClientError.malformedResponse(error)))
            transport.close()
        } catch {
            finish(.failure(error))
            transport.close()
        }
    }

    func eofReceived(loop: isolated EventLoop) -> Bool {
        if let channel {
            channel.peerClosedInput()
            return true
        }
        finish(.failure(ClientError.serverDisconnected(duringBody: false)))
        return false
    }

    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        channel?.connectionLost()
        finish(.failure(ClientError.serverDisconnected(duringBody: false)))
    }

    func pauseWriting(loop: isolated EventLoop) { channel?.pauseWriting() }

    func resumeWriting(loop: isolated EventLoop) { channel?.resumeWriting() }

    private func finish(_ outcome: Result<ClientWebSocket, any Error>) {
        guard result == nil else { return }
        result = outcome
        handshakeDone.wake()
    }

    /// Waits for the server's answer to the upgrade request.
    func waitForHandshake() async throws -> ClientWebSocket {
        while result == nil { try await handshakeDone.wait() }
        return try result!.get()
    }
}

extension ClientSession {
    /// Opens a WebSocket to `url` (`ws://`, `wss://`, or `http://` / `https://`): aiohttp's
    /// `session.ws_connect(url)`.
    ///
    /// The connection is the WebSocket's own, not one from the session's pool. The session's
    /// default headers are sent with `headers`. `wss://` runs TLS with the session's context
    /// (`ClientSession(tls:)`), or the default one: the system's roots, full verification, SNI
    /// for the URL's host, ALPN `http/1.1`; the handshake counts against `delay`.
    ///
    /// - Parameters:
    ///   - url: `ws://host:port/path` or `wss://host:port/path`.
    ///   - options: limits, heartbeat, subprotocols to offer, compression to offer.
    ///   - extraHeaders: more request fields (cookies, authorization).
    ///   - origin: the `Origin` to send, as a browser would.
    ///   - delay: the time allowed for connecting and the opening handshake together.
    /// - Throws: ``ClientError`` (`invalidURL`, `cannotConnect`, `tls` for a TLS failure such
    ///   as an untrusted certificate, `serverDisconnected`, `malformedResponse`);
    ///   ``WebSocketConnectionError/handshakeFailed(_:)``
    ///   for an answer that is not a valid `101` (a `404`, a wrong `Sec-WebSocket-Accept`);
    ///   `AsyncIOError.timeout`.
    public func wsConnect(
        _ url: String,
        options: WebSocketOptions = WebSocketOptions(),
        headers extraHeaders: HTTPFields = [:],
        origin: String? = nil,
        timeout delay: Duration? = .seconds(30)
    ) async throws -> ClientWebSocket {
        let parsed = try ClientURL(url)
        let secure: Bool
        switch parsed.scheme {
        case "ws", "http": secure = false
        case "wss", "https": secure = true
        default: throw ClientError.invalidURL(url)
        }
        guard !isClosed else { throw ClientError.sessionClosed }
        let tls: TLSContext?
        do {
            tls = secure ? try pool.tlsContext() : nil
        } catch {
            throw ClientError.tls(host: parsed.host, port: parsed.port, error: error)
        }
        let loop = try getRunningLoop()
        var generator = WebSocketMaskGenerator()
        let key = WebSocketHandshake.makeKey(using: &generator)
        var fields = headers
        for field in extraHeaders { fields.append(field) }
        for field in WebSocketHandshake.requestFields(
            key: key,
            subprotocols: options.protocols,
            deflate: options.compression,
            origin: origin
        ) {
            fields[field.name] = field.value
        }
        var head = Array("GET \(parsed.target) HTTP/1.1\r\nHost: \(parsed.authority)\r\n".utf8)
        for field in fields {
            head += Array("\(field.name.rawName): \(field.value)\r\n".utf8)
        }
        head += [0x0D, 0x0A]
        return try await AsyncIO.timeout(delay) { _ in
            let connection = WebSocketClientProtocol(key: key, options: options, loop: loop)
            loop.runIsolated(connection) { connection, loop in
                connection.connecting = loop.createTask(name: "WebSocket connect \(parsed.host):\(parsed.port)") {
                    if let tls {
                        _ = try await loop.createConnection(
                            { connection },
                            host: parsed.host,
                            port: parsed.port,
                            tls: tls
                        )
                    } else {
                        _ = try await loop.createConnection({ connection }, host: parsed.host, port: parsed.port)
                    }
                }
            }
            let connecting = connection.connecting!
            connection.connecting = nil
            do {
                try await connecting.value
            } catch let error as CancelledError {
                connecting.cancel()
                throw error
            } catch let error as TLSError {
                throw ClientError.tls(host: parsed.host, port: parsed.port, error: error)
            } catch {
                throw ClientError.cannotConnect(host: parsed.host, port: parsed.port, reason: "\(error)")
            }
            guard let transport = connection.transport else { throw ClientError.serverDisconnected(duringBody: false) }
            do {
                try transport.write(head)
                return try await connection.waitForHandshake()
            } catch {
                transport.abort()
                throw error
            }
        }
    }
}

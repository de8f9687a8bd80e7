// Theory of operation
//
// asyncio's `sslproto.py` design: the TLS layer is a protocol to the socket transport below and
// a transport (`TLSTransport`) to the application's protocol above, which cannot tell it from a
// socket. Ciphertext arrives in `dataReceived`, goes into the engine, and whatever plaintext the
// engine yields goes up; plaintext the application writes is encrypted at once and the
// ciphertext written to the socket transport, whose write buffer is the only buffer: its
// `pauseWriting`/`resumeWriting` are passed up as they come, and `writeBufferSize` and the water
// marks are the socket transport's. `pauseReading` on the TLS transport pauses the socket's reading
// and stops handing up plaintext the engine still holds; `resumeReading` hands it up in the next
// iteration.
//
// States:
//
//   handshaking --(done)--> wrapped --(close, or the peer's close_notify/EOF)--> shuttingDown --> closed
//        |                                                                                          ^
//        +--(error, timeout, EOF)--------------------------------------------------------------------+
//
// The application's `connectionMade` comes when the handshake is done (never before), and then
// exactly one `connectionLost`, when the socket transport's comes. A failed handshake never
// reaches the application's protocol: it fails the waiter of `createConnection`/`startTLS`, or,
// on a server, is logged at debug level (asyncio: an `OSError`, logged only in debug mode).
//
// Closing (`close()`) sends our close_notify and waits, at most the shutdown timeout, for the
// peer's (or its EOF) before closing the socket transport, as asyncio does. The peer's
// close_notify is an EOF to the application, and so is a TCP EOF without one (asyncio's choice:
// the application's framing, a Content-Length or a chunked body, is what detects truncation;
// `TLSTransport.receivedCloseNotify` tells them apart). TLS 1.3 allows half-closed connections:
// an application whose `eofReceived` returns true may go on writing until it closes.
import AsyncIO
import Glibc

/// The TLS layer between a stream transport and the application's protocol. Loop thread only.
final class TLSProtocol: ConnectionProtocol {
    enum State {
        case handshaking
        case wrapped
        case shuttingDown
        case closed
    }

    /// asyncio's `SSL_HANDSHAKE_TIMEOUT`.
    static let defaultHandshakeTimeout = Duration.seconds(60)
    /// asyncio's `SSL_SHUTDOWN_TIMEOUT`.
    static let defaultShutdownTimeout = Duration.seconds(30)

    /// Nil only if OpenSSL could not make the connection's state (out of memory) on a server,
    /// which then drops the connection in `connectionMade`.
    let engine: TLSEngine?
    /// Where the failure to make the engine is kept, to be logged.
    private let engineError: TLSError?
    /// Whether the application's `connectionMade` is called after the handshake (not for
    /// `startTLS`: that protocol is connected already).
    private let connectsApp: Bool
    private(set) var state = State.handshaking
    private var app: StreamReceiver?
    /// The socket transport (or any stream transport) under us.
    private(set) var transport: (any Transport)?
    /// The application's view, made when the handshake is done; let go at `connectionLost`.
    private(set) var appTransport: TLSTransport?
    /// `createConnection`'s or `startTLS`'s wait for the handshake (nil on a server).
    private var handshakeWaiter: Future<Void>?
    private let handshakeTimeout: Duration
    private let shutdownTimeout: Duration
    private var timer: Handle?

    /// The application's `connectionMade` was called and its `connectionLost` not yet.
    private var appConnected = false
    /// The application called `close()` or `abort()`.
    private(set) var appClosing = false
    private(set) var appReadingPaused = false
    /// The application was told about the end of the peer's data, and what its `eofReceived` said.
    private var appEOFDelivered = false
    private var appKeepsOpen = false
    /// The transport below reported EOF.
    private var transportEOF = false
    /// The socket transport paused us (and so the application, once it is connected).
    private var writingPaused = false
    private var deliveryScheduled = false
    /// What broke the connection, for the application's `connectionLost`.
    private var failure: (any Error)?
    private var writesAfterClose = 0

    /// The TLS layer of a client connection, or of a `startTLS` upgrade (either side).
    init(
        engine: TLSEngine,
        app: StreamReceiver,
        handshakeWaiter: Future<Void>,
        handshakeTimeout: Duration?,
        shutdownTimeout: Duration?,
        connectsApp: Bool = true
    ) {
        self.engine = engine
        engineError = nil
        self.app = app
        self.handshakeWaiter = handshakeWaiter
        self.handshakeTimeout = handshakeTimeout ?? Self.defaultHandshakeTimeout
        self.shutdownTimeout = shutdownTimeout ?? Self.defaultShutdownTimeout
        self.connectsApp = connectsApp
    }

    /// The TLS layer of a connection a server accepted.
    init(server context: TLSContext, app: StreamReceiver, handshakeTimeout: Duration?, shutdownTimeout: Duration?) {
        do {
            engine = try TLSEngine(context: context, serverHostname: nil)
            engineError = nil
        } catch {
            engine = nil
            engineError = error
        }
        self.app = app
        handshakeWaiter = nil
        self.handshakeTimeout = handshakeTimeout ?? Self.defaultHandshakeTimeout
        self.shutdownTimeout = shutdownTimeout ?? Self.defaultShutdownTimeout
        connectsApp = true
    }

    /// Waits until the handshake is done (the application's `connectionMade` was called).
    ///
    /// - Throws: the handshake's error; `CancelledError`.
    func waitForHandshake() async throws {
        if let handshakeWaiter { try await handshakeWaiter.value }
    }

    // MARK: - From the transport below

    func connectionMade(_ transport: any Transport, loop: isolated EventLoop) {
        self.transport = transport
        guard engine != nil else {
            state = .closed
            loop.logger.error(
                "TLS connection with \(peerDescription) dropped: \(engineError.map { "\($0)" } ?? "no engine")"
            )
            transport.abort()
            return
        }
        timer = loop.callLater(handshakeTimeout) { [self] in
            handshakeFailed(TLSError.handshakeTimeout, abort: true, loop: loop)
        }
        // A client speaks first (ClientHello); a server's engine just waits for bytes.
        doHandshake(loop: loop)
    }

    func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {
        guard let engine else { return }
        // The engine reads the transport's bytes in place while this runs, and copies only what
        // it leaves unread (a record's start, or what a paused application did not take).
        data.withUnsafeBytes { bytes in
            engine.lend(bytes) {
                switch state {
                case .handshaking: doHandshake(loop: loop)
                case .wrapped, .shuttingDown: readPlaintext(loop: loop)
                case .closed: break
                }
            }
        }
    }

    func eofReceived(loop: isolated EventLoop) -> Bool {
        transportEOF = true
        switch state {
        case .handshaking:
            handshakeFailed(TLSError.closedDuringHandshake, abort: false, loop: loop)
            return false
        case .wrapped:
            // Hand up what is still decrypted first; a paused application gets the EOF on resume.
            readPlaintext(loop: loop)
            guard state == .wrapped else { return false }
            if appReadingPaused { return true }
            return deliverEOF(loop: loop)
        case .shuttingDown, .closed:
            return false
        }
    }

    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        timer?.cancel()
        timer = nil
        if state == .handshaking {
            try? handshakeWaiter?.setException(error ?? TLSError.closedDuringHandshake)
            handshakeWaiter = nil
        }
        state = .closed
        if appConnected {
            appConnected = false
            app?.base.connectionLost(error ?? failure, loop: loop)
        }
        app = nil
        appTransport = nil
    }

    func pauseWriting(loop: isolated EventLoop) {
        writingPaused = true
        if appConnected { app?.base.pauseWriting(loop: loop) }
    }

    func resumeWriting(loop: isolated EventLoop) {
        writingPaused = false
        if appConnected { app?.base.resumeWriting(loop: loop) }
    }

    // MARK: - Handshake

    private func doHandshake(loop: isolated EventLoop) {
        guard let engine else { return }
        let done: Bool
        do {
            done = try engine.handshake()
        } catch {
            // The alert OpenSSL queued for the peer goes out before the transport closes.
            flushOutgoing()
            handshakeFailed(error, abort: false, loop: loop)
            return
        }
        flushOutgoing()
        if done { handshakeCompleted(loop: loop) }
    }

    private func handshakeCompleted(loop: isolated EventLoop) {
        timer?.cancel()
        timer = nil
        state = .wrapped
        guard let app else { return }
        let appTransport = TLSTransport(self, loop: loop)
        self.appTransport = appTransport
        appConnected = true
        if connectsApp { app.base.connectionMade(appTransport, loop: loop) }
        if writingPaused, appConnected { app.base.pauseWriting(loop: loop) }
        try? handshakeWaiter?.setResult(())
        handshakeWaiter = nil
        // Application data may have come in the same segment as the handshake's last message.
        if state == .wrapped { readPlaintext(loop: loop) }
    }

    private func handshakeFailed(_ error: any Error, abort: Bool, loop: isolated EventLoop) {
        guard state == .handshaking else { return }
        state = .closed
        timer?.cancel()
        timer = nil
        if let handshakeWaiter {
            try? handshakeWaiter.setException(error)
            self.handshakeWaiter = nil
        } else {
            loop.logger.debug("TLS handshake failed with \(peerDescription): \(error)")
        }
        if abort { transport?.abort() } else { transport?.close() }
    }

    private var peerDescription: String {
        transport?.extraInfo.peerName.map { "\($0)" } ?? "the peer"
    }

    // MARK: - Reading

    /// Hands up what the engine can decrypt, until it needs more bytes, the application pauses,
    /// or the peer's close_notify.
    private func readPlaintext(loop: isolated EventLoop) {
        while state == .wrapped && !appReadingPaused || state == .shuttingDown {
            let outcome: TLSEngine.ReadOutcome
            do {
                outcome = try readOnce(loop: loop)
            } catch {
                fail(error, loop: loop)
                return
            }
            if outcome == .wantMore { break }
            if outcome == .closed {
                closeNotifyReceived(loop: loop)
                break
            }
        }
        // Reading may produce records to send (a TLS 1.3 KeyUpdate's answer).
        flushOutgoing()
    }

    /// One read: into the application's buffer, or into ours and then `dataReceived`. While
    /// shutting down, what arrives is read and dropped (the application closed).
    private func readOnce(loop: isolated EventLoop) throws(TLSError) -> TLSEngine.ReadOutcome {
        guard let engine else { return .wantMore }
        if state == .wrapped, case .buffered(let proto)? = app {
            let buffer = proto.getBuffer(sizeHint: max(engine.pendingPlaintext, 1), loop: loop)
            let outcome = try engine.read(into: buffer)
            if case .bytes(let count) = outcome { proto.bufferUpdated(count, loop: loop) }
            return outcome
        }
        // This thread's scratch buffer (`PlaintextScratch`): no plaintext memory per idle
        // connection, no allocation per read, and a read nested in another's `dataReceived` gets a
        // buffer of its own, so bytes lent to this protocol are never written over.
        return try PlaintextScratch.withBuffer { buffer throws(TLSError) in
            var filled = 0
            var last = TLSEngine.ReadOutcome.wantMore
            while filled < buffer.count {
                last = try engine.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                guard case .bytes(let count) = last else { break }
                filled += count
            }
            guard filled > 0 else { return last }
            if state == .wrapped, case .plain(let proto)? = app {
                // SAFETY: the engine initialised `filled` bytes of the buffer; the span is borrowed
                // by the protocol for this call only.
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<filled]).bindMemory(to: UInt8.self)
                proto.dataReceived(bytes.span, loop: loop)
            }
            return .bytes(filled)
        }
    }

    private func closeNotifyReceived(loop: isolated EventLoop) {
        switch state {
        case .wrapped:
            // An application that does not keep the connection half-open is shut down by deliverEOF.
            _ = deliverEOF(loop: loop)
        case .shuttingDown:
            // Our close_notify went out before; theirs is in: the TLS connection is over.
            transport?.close()
        case .handshaking, .closed:
            break
        }
    }

    /// Tells the application the peer's data ended; returns what its `eofReceived` returned
    /// (true: it keeps writing, half-closed, and closes itself).
    private func deliverEOF(loop: isolated EventLoop) -> Bool {
        guard !appEOFDelivered else { return appKeepsOpen && state == .wrapped }
        guard let app else { return false }
        appEOFDelivered = true
        appKeepsOpen = app.base.eofReceived(loop: loop)
        if !appKeepsOpen { beginShutdown(loop: loop) }
        return appKeepsOpen && state == .wrapped
    }

    /// The next iteration hands up what the engine holds (after `resumeReading`).
    private func scheduleDelivery(loop: isolated EventLoop) {
        guard !deliveryScheduled else { return }
        deliveryScheduled = true
        loop.callSoon { [self] in
            deliveryScheduled = false
            guard state == .wrapped, !appReadingPaused else { return }
            readPlaintext(loop: loop)
            if transportEOF, state == .wrapped, !appReadingPaused, !deliverEOF(loop: loop) {
                transport?.close()
            }
        }
    }

    // MARK: - Writing

    /// Writes what the engine produced to the transport below.
    private func flushOutgoing() {
        guard let engine, engine.hasOutgoing, let transport else { return }
        engine.withOutgoing { bytes in try? transport.write(bytes) }
    }

    /// The application's `write`.
    func write(_ bytes: UnsafeRawBufferPointer) {
        guard let transport = writableTransport(), let engine else { return }
        do {
            try engine.write(bytes)
        } catch {
            transport.loop.runIsolated(self) { tls, loop in tls.fail(error, loop: loop) }
            return
        }
        flushOutgoing()
    }

    /// The application's `writeLines`: every chunk encrypted, then one write below.
    func writeLines(_ chunks: [[UInt8]]) {
        guard let transport = writableTransport(), let engine else { return }
        for chunk in chunks {
            let outcome = chunk.withUnsafeBytes { bytes in Result { () throws(TLSError) in try engine.write(bytes) } }
            if case .failure(let error) = outcome {
                transport.loop.runIsolated(self) { tls, loop in tls.fail(error, loop: loop) }
                return
            }
        }
        flushOutgoing()
    }

    /// The transport below if the application may write now; else counts a dropped write (asyncio
    /// warns from the 5th write after the connection closed).
    private func writableTransport() -> (any Transport)? {
        if state == .wrapped, !appClosing, let transport { return transport }
        writesAfterClose += 1
        if writesAfterClose == 5, let transport { transport.loop.logger.warning("SSL connection is closed") }
        return nil
    }

    // MARK: - Closing

    /// The application's `close()`: our close_notify, then the transport once the peer answers.
    func close() {
        guard !appClosing else { return }
        appClosing = true
        guard let transport else { return }
        transport.loop.runIsolated(self) { tls, loop in tls.beginShutdown(loop: loop) }
    }

    /// The application's `abort()`.
    func abort() {
        appClosing = true
        if state != .closed { state = .closed }
        transport?.abort()
    }

    /// Sends close_notify; closes the transport at once if the peer is done, else waits for it at
    /// most the shutdown timeout.
    private func beginShutdown(loop: isolated EventLoop) {
        guard state == .wrapped else {
            if state == .handshaking {
                state = .closed
                transport?.close()
            }
            return
        }
        state = .shuttingDown
        engine?.shutdown()
        flushOutgoing()
        if engine?.receivedCloseNotify ?? true || transportEOF {
            transport?.close()
            return
        }
        timer = loop.callLater(shutdownTimeout) { [self] in
            loop.logger.debug("TLS shutdown timed out with \(peerDescription)")
            transport?.abort()
        }
        // The peer's close_notify must be read even if the application had paused reading.
        transport?.resumeReading()
        readPlaintext(loop: loop)
    }

    /// A broken record or an alert: the alert goes out, the transport closes, and the application
    /// gets the error in `connectionLost`. Mirrors `_fatal_error`.
    private func fail(_ error: any Error, loop: isolated EventLoop) {
        guard state != .closed else { return }
        failure = error
        state = .closed
        flushOutgoing()
        loop.logger.debug("TLS connection with \(peerDescription) failed: \(error)")
        transport?.close()
    }

    // MARK: - Reading flow control (the application's)

    func pauseReading() {
        guard !appReadingPaused, state == .wrapped, !appClosing else { return }
        appReadingPaused = true
        transport?.pauseReading()
    }

    func resumeReading() {
        guard appReadingPaused, state == .wrapped, !appClosing else { return }
        appReadingPaused = false
        transport?.resumeReading()
        guard let transport else { return }
        transport.loop.runIsolated(self) { tls, loop in tls.scheduleDelivery(loop: loop) }
    }

    /// Switches the application protocol (`setProtocol` on the TLS transport).
    func setApp(_ proto: any StreamingProtocol) throws(TransportError) {
        guard state != .closed, app != nil else { throw TransportError.closed }
        guard let receiver = StreamReceiver(proto) else {
            throw TransportError.invalidValue(
                "\(type(of: proto)) is neither a ConnectionProtocol nor a BufferedConnectionProtocol"
            )
        }
        app = receiver
    }
}

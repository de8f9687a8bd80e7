// Theory of operation
//
// One `ServerHTTPProtocol` per connection: a `ConnectionProtocol` that feeds received bytes to
// `HTTP1Codec`'s `RequestParser` and runs the user's `handleRequest` for each request, one at a
// time, in a task of the connection's own. Every decision (keep-alive, draining a body, closing,
// pausing reading, deadlines) comes from `HTTPConnectionStateMachine`; this file moves bytes and
// turns the machine's actions into calls.
//
// Callback order (asyncio's): start -> connectionMade [-> dataReceived*] [-> eofReceived?]
// -> connectionLost -> end, with pauseWriting/resumeWriting in between.
//
// The handler task. A `LoopTask` per request would cost more than the rest of a small request, and
// a task per connection would cost an idle keep-alive connection about 1.8 KB. So a connection
// makes its task when a request arrives, the task serves requests until none is waiting, parks
// (no allocation: a `WaitPoint`), and is let go when the connection stays idle for
// `handlerLinger`. Under load a connection keeps its task; idle ones hold none.
//
// Input. `dataReceived` feeds the parser and `pump` pulls events while the phase allows: a head
// when no request is in progress (it becomes `pending` and wakes the task), body parts into the
// current `RequestBody` while it has room, parts of an unread body to skip (`draining`). A head
// that arrives while a request is handled stays unparsed, so requests are never parsed ahead, and
// reading pauses while such bytes wait (`shouldRead`).
//
// Output. Responses are serialized into `out`, one reused buffer, and handed to the transport in
// one write: when a response is streamed (`write`), when a response ends and no pipelined request
// waits, and when the task parks. Pipelined requests answered in one go therefore go out in one
// write.
//
// Closing. An answer to a broken request, or any close while the client may still be sending, is a
// lingering close (nginx's): our side is shut down with `writeEOF`, further input is read and
// dropped for up to two seconds, then the socket closes. Closing at once with unread input makes
// the kernel send RST, and a client can lose the answer it has not read yet.
import AsyncIO
import Glibc
import HTTP1Codec
import HTTPTypes
import Logging

/// A server connection that parses HTTP/1.1 requests and calls ``handleRequest(_:_:)`` for each:
/// the talk's `aiohttp.server.ServerHttpProtocol`.
///
/// Subclass it and override ``handleRequest(_:_:)``; answer with a ``Response`` bound to
/// ``transport``:
/// ```swift
/// final class HelloServer: ServerHTTPProtocol {
///     override func handleRequest(_ message: RawRequestMessage, _ payload: RequestBody) async throws {
///         let response = Response(transport, 200)
///         response.addHeader("Content-Type", "text/plain")
///         response.sendHeaders()
///         try await response.write("Hello world!\r\n")
///         try await response.writeEOF()
///     }
/// }
/// let server = try await loop.createServer({ HelloServer() }, host: "127.0.0.1", port: 8080)
/// ```
/// Requests on one connection are handled one after the other, each in the connection's task (a
/// `LoopTask`, so `timeout`, `sleep` and cancellation work as in asyncio). A handler that throws gets
/// a `500` (its error is logged, never sent); a client that disconnects cancels its handler.
///
/// Mirrors `aiohttp.server.ServerHttpProtocol` (aiohttp 0.x; today's `web_protocol.RequestHandler`).
/// Deviation: ``transport`` is the connection's HTTP side, not the socket transport (which is
/// ``socketTransport``): responses go through the connection so that keep-alive, framing and
/// pipelined order stay right.
open class ServerHTTPProtocol: ConnectionProtocol {
    /// A request whose head was parsed, waiting for the handler task.
    struct PendingRequest {
        var head: RequestHead
        var body: RequestBody
    }

    /// What the connection shares with the others of its server: configuration and loggers.
    let context: HTTPServerContext
    /// The socket transport, from `connectionMade` until `connectionLost`.
    @exclusivity(unchecked) public private(set) var socketTransport: (any Transport)?
    /// The loop the connection runs on (set in `connectionMade`).
    @exclusivity(unchecked) var eventLoop: EventLoop?
    @exclusivity(unchecked) var parser: RequestParser
    @exclusivity(unchecked) var machine: HTTPConnectionStateMachine

    /// Response bytes not handed to the transport yet.
    @exclusivity(unchecked) var out: [UInt8] = []
    @exclusivity(unchecked) var date = DateCache.Local()
    /// The response being written, for the exchange being handled.
    @exclusivity(unchecked) var response = ResponseState()
    /// Numbers exchanges, so that a `Response` kept past its exchange cannot write into a later one.
    @exclusivity(unchecked) var exchangeNumber = 0

    @exclusivity(unchecked) private var pending: PendingRequest?
    /// The body the parser is feeding (the current request's, while it is still arriving).
    @exclusivity(unchecked) private var feedingBody: RequestBody?
    /// A finished empty body, shared by the requests of this connection that have none.
    @exclusivity(unchecked) private var emptyBody: RequestBody?
    @exclusivity(unchecked) private var handlerTask: LoopTask<Void>?
    /// Where the handler task parks between requests (made when it first parks).
    @exclusivity(unchecked) private var requestWait: WaitPoint?
    @exclusivity(unchecked) private var releaseRequested = false
    /// The handler waits for the transport to resume writing.
    @exclusivity(unchecked) var drainWait: WaitPoint?
    @exclusivity(unchecked) var writingPaused = false
    @exclusivity(unchecked) private var reading = true
    /// The connection is being closed: by us after the last response, or lingering.
    @exclusivity(unchecked) private(set) var closing = false
    @exclusivity(unchecked) private var lingering = false
    @exclusivity(unchecked) private var timer: Handle?
    @exclusivity(unchecked) private var timerDeadline: LoopInstant?
    /// The server that tracks this connection for graceful shutdown, if any.
    weak var server: HTTPServer?
    /// The protocol that took the connection over after a `101` (a WebSocket): it gets every
    /// transport event from then on (see ServerHTTPProtocol+Upgrade.swift).
    @exclusivity(unchecked) var upgraded: (any UpgradedConnection)?

    /// Creates a connection protocol with `configuration`; `logger` receives handler errors.
    public init(configuration: HTTPServerConfiguration = .init(), logger: Logger? = nil) {
        context =
            logger == nil
            ? HTTPServerContext.shared(configuration)
            : HTTPServerContext(configuration: configuration, logger: logger)
        parser = RequestParser(limits: configuration.limits)
        machine = HTTPConnectionStateMachine(settings: context.machineSettings, now: LoopInstant(nanoseconds: 0))
    }

    /// Creates a connection protocol sharing a server's context.
    init(context: HTTPServerContext) {
        self.context = context
        parser = RequestParser(limits: context.configuration.limits)
        machine = HTTPConnectionStateMachine(settings: context.machineSettings, now: LoopInstant(nanoseconds: 0))
    }

    /// The server's configuration.
    public var configuration: HTTPServerConfiguration { context.configuration }

    /// The logger that receives handler errors.
    public var logger: Logger { context.logger }

    /// The connection as a response sees it: pass it to `Response(transport, status)`.
    public var transport: HTTPServerTransport { HTTPServerTransport(connection: self) }

    /// Handles one request: override it and answer with a ``Response`` on ``transport``.
    ///
    /// The default answers `404 Not Found`, as aiohttp's `ServerHttpProtocol.handle_request` did.
    /// A handler that returns without answering gets a `500`; one that started a response without
    /// ending it has it ended (`writeEOF`) for it.
    ///
    /// - Parameters:
    ///   - message: the request head.
    ///   - payload: the request body, as it arrives.
    /// Mirrors `handle_request(message, payload)`.
    open func handleRequest(_ message: RawRequestMessage, _ payload: RequestBody) async throws {
        let response = Response(transport, 404, close: false)
        response.contentType = "text/plain"
        try await response.writeEOF(Array("404: Not Found".utf8))
    }

    // MARK: - Protocol callbacks

    open func connectionMade(_ transport: any Transport, loop: isolated EventLoop) {
        socketTransport = transport
        eventLoop = loop
        machine = HTTPConnectionStateMachine(settings: context.machineSettings, now: loop.time)
        server?.connectionMade(self)
        rearmTimer(loop: loop)
    }

    open func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {
        if let upgraded {
            data.withUnsafeBytes { upgraded.received($0) }
            return
        }
        if lingering || closing { return }
        parser.feed(data)
        if case .idle = machine.phase { machine.bytesArrived(now: loop.time) }
        pump(loop: loop)
        updateReading()
        rearmTimer(loop: loop)
    }

    open func eofReceived(loop: isolated EventLoop) -> Bool {
        if let upgraded {
            upgraded.peerClosedInput()
            return true
        }
        guard !lingering, !closing else { return false }
        let action = machine.peerClosed()
        switch action {
        case .close:
            return false
        case .failBody:
            failFeedingBody(HTTPError.badRequest(text: "the request body was cut short"))
            return true
        case .finishThenClose:
            return true
        }
    }

    open func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        upgraded?.connectionLost()
        let wasHandling = machine.connectionLost()
        timer?.cancel()
        timer = nil
        socketTransport = nil
        let gone = CancelledError(message: "the client disconnected")
        failFeedingBody(gone)
        drainWait?.wake(throwing: gone)
        if wasHandling { handlerTask?.cancel(message: "the client disconnected") }
        requestWait?.wake(throwing: gone)
        pending = nil
        server?.connectionLost(self)
    }

    open func pauseWriting(loop: isolated EventLoop) {
        writingPaused = true
        upgraded?.pauseWriting()
        machine.writingPaused(now: loop.time)
        rearmTimer(loop: loop)
    }

    open func resumeWriting(loop: isolated EventLoop) {
        writingPaused = false
        upgraded?.resumeWriting()
        machine.writingResumed()
        drainWait?.wake()
    }

    // MARK: - Input

    /// Pulls parser events while the phase allows (see the theory of operation).
    private func pump(loop: isolated EventLoop) {
        while true {
            switch machine.phase {
            case .idle, .readingHead:
                guard pending == nil, let event = nextEvent() else { return }
                guard case .head(let head) = event else {
                    // The parser yields a head before any body part; anything else is a bug there.
                    handleParseError(.invalidStartLine)
                    return
                }
                startExchange(head, loop: loop)
            case .exchange(let exchange):
                guard exchange.bodyPending, let body = feedingBody,
                    body.bufferedCount < context.configuration.bodyBufferSize,
                    let event = nextEvent()
                else { return }
                switch event {
                case .body(let bytes):
                    body.append(bytes)
                    machine.bodyBytesArrived(now: loop.time)
                case .end(let trailers):
                    feedingBody = nil
                    body.finish(trailers: trailers?.makeHTTPFields() ?? [:])
                    machine.bodyFinished(now: loop.time)
                case .head:
                    return
                }
            case .draining:
                guard let event = nextEvent() else { return }
                switch event {
                case .body(let bytes):
                    if !machine.bodyDrained(bytes.count, now: loop.time) {
                        closeLingering(loop: loop)
                        return
                    }
                case .end:
                    machine.bodyFinished(now: loop.time)
                case .head:
                    return
                }
            case .upgraded, .closed:
                return
            }
        }
    }

    /// The parser's next event; a parse error is handled here and ends the pumping.
    private func nextEvent() -> RequestParser.Event? {
        do {
            return try parser.next()
        } catch {
            handleParseError(error)
            return nil
        }
    }

    private func startExchange(_ head: RequestHead, loop: isolated EventLoop) {
        let hasBody: Bool
        switch head.framing {
        case .none, .contentLength(0): hasBody = false
        default: hasBody = true
        }
        guard
            case .dispatch = machine.headReceived(
                keepAlive: head.keepAlive,
                hasBody: hasBody,
                expectsContinue: head.expectsContinue
            )
        else { return }
        let body: RequestBody
        if hasBody {
            body = RequestBody(owner: self, loop: loop)
            feedingBody = body
        } else {
            // The parser ends a request without a body with an `.end` at once: take it now.
            _ = nextEvent()
            if emptyBody == nil { emptyBody = RequestBody() }
            body = emptyBody!
        }
        pending = PendingRequest(head: head, body: body)
        if let handlerTask, !handlerTask.isDone {
            if let requestWait, requestWait.isWaiting {
                machine.handlerTaskParked(false)
                requestWait.wake()
            }
        } else {
            handlerTask = loop.createTask(name: "HTTP connection") { [self] in
                await serveRequests(loop: loop)
            }
        }
    }

    private func handleParseError(_ error: HTTPParseError) {
        let action = machine.parseFailed(error)
        switch action {
        case .respondAndClose(let status):
            writeErrorResponse(status: status)
            eventLoop?.runIsolated(self) { connection, loop in connection.closeLingering(loop: loop) }
        case .failBody:
            failFeedingBody(HTTPError(.init(code: error.status)))
        case .close:
            eventLoop?.runIsolated(self) { connection, loop in connection.closeLingering(loop: loop) }
        }
    }

    private func failFeedingBody(_ error: any Error) {
        guard let body = feedingBody else { return }
        feedingBody = nil
        body.fail(error)
    }

    /// Pauses or resumes reading from the socket as the machine wants.
    func updateReading() {
        guard let socketTransport, !lingering, upgraded == nil else { return }
        let pendingInput = machine.isHandling && feedingBody == nil && parser.hasPendingBytes ? Int.max : 0
        let want = machine.shouldRead(bodyBuffered: feedingBody?.bufferedCount ?? 0, pendingInput: pendingInput)
        guard want != reading else { return }
        reading = want
        if want { socketTransport.resumeReading() } else { socketTransport.pauseReading() }
    }

    // MARK: - Body flow (called by RequestBody)

    /// The handler took bytes from the body: read again if that made room.
    func bodyConsumed() {
        guard let eventLoop else { return }
        if !reading || feedingBody != nil {
            eventLoop.runIsolated(self) { connection, loop in
                connection.pump(loop: loop)
                connection.updateReading()
            }
        }
    }

    /// The handler waits for body bytes: send `100 Continue` if the client waits for it, and start
    /// the body-read deadline.
    func bodyWaitStarted() {
        guard let eventLoop else { return }
        let action = machine.bodyWaitStarted(now: eventLoop.time)
        if action == .sendContinue, !response.committed {
            out.append(contentsOf: continueLine)
            flush()
        }
        eventLoop.runIsolated(self) { connection, loop in
            connection.pump(loop: loop)
            connection.updateReading()
            connection.rearmTimer(loop: loop)
        }
    }

    /// The handler stopped waiting for body bytes.
    func bodyWaitEnded() {
        machine.bodyWaitEnded()
    }

    // MARK: - The handler task

    /// The connection's task: serves requests while there are any, then parks until the next one,
    /// the linger deadline, or the end of the connection.
    private func serveRequests(loop: isolated EventLoop) async {
        while true {
            if pending == nil, !closing { pump(loop: loop) }
            if let request = pending, !closing {
                pending = nil
                await runExchange(request, loop: loop)
                continue
            }
            flush()
            updateReading()
            if closing || socketTransport == nil || machine.phase == .closed { break }
            // Past the server's budget of lingering tasks, an idle connection lets its task go
            // now: a burst of connections that stay idle then costs no task memory each.
            if let server, !server.taskParks() { break }
            machine.handlerTaskParked(true)
            rearmTimer(loop: loop)
            if requestWait == nil { requestWait = WaitPoint(loop: loop) }
            do {
                try await requestWait?.wait()
            } catch {
                server?.parkedTaskLeft()
                break
            }
            server?.parkedTaskLeft()
            if releaseRequested { break }
        }
        releaseRequested = false
        machine.handlerTaskParked(false)
        handlerTask = nil
        // An idle connection keeps no more memory than it needs.
        if out.isEmpty { out = [] }
        requestWait = nil
        emptyBody = nil
        if pending != nil, socketTransport != nil {
            // A request arrived as the task was leaving: start a new one.
            handlerTask = loop.createTask(name: "HTTP connection") { [self] in
                await serveRequests(loop: loop)
            }
        }
    }

    /// Runs the handler for one request and ends the exchange.
    private func runExchange(_ request: PendingRequest, loop: isolated EventLoop) async {
        exchangeNumber &+= 1
        response = ResponseState(
            number: exchangeNumber,
            version: request.head.version,
            isHead: request.head.methodBytes.elementsEqual("HEAD".utf8)
        )
        let message = RawRequestMessage(head: request.head)
        let started = context.accessLog == nil ? nil : (wall: time(nil), clock: loop.time)
        do {
            if let broken = request.body.failure as? HTTPError {
                // The request's framing broke before its handler ran: the request is answered with
                // the parser's status, like a broken head, and the handler never sees it.
                throw broken
            }
            try await handleRequest(message, request.body)
            if !response.committed {
                context.logger.error(
                    "Handler returned without a response",
                    metadata: ["request": "\(message.method) \(message.path)"]
                )
                writeErrorResponse(status: 500)
            } else if !response.ended {
                endResponse()
            }
        } catch {
            handlerFailed(error, message: message)
        }
        if request.body !== emptyBody { request.body.detach() }
        if feedingBody === request.body {
            // The parser still feeds this body: what is left of it is skipped (draining).
            feedingBody = nil
        }
        let complete = response.complete
        if let started, let accessLog = context.accessLog {
            logAccess(accessLog, message: message, started: started, loop: loop)
        }
        response = ResponseState()
        exchangeNumber &+= 1
        guard socketTransport != nil else { return }
        let action = machine.exchangeFinished(now: loop.time, complete: complete)
        switch action {
        case .readNext, .drainBody:
            pump(loop: loop)
            updateReading()
        case .close:
            flush()
            if parser.hasPendingBytes || !complete {
                closeLingering(loop: loop)
            } else {
                closing = true
                socketTransport?.close()
            }
        }
    }

    /// A handler threw: `500` if nothing was sent yet, else the response is cut short.
    private func handlerFailed(_ error: any Error, message: RawRequestMessage) {
        if let httpError = error as? HTTPError, !response.committed {
            writeErrorResponse(httpError)
            return
        }
        if error is CancelledError || error is CancellationError, socketTransport == nil { return }
        context.logger.error(
            "Error handling request",
            metadata: ["request": "\(message.method) \(message.path)", "error": "\(error)"]
        )
        if !response.committed {
            writeErrorResponse(status: 500)
        } else {
            response.complete = false
            response.ended = true
        }
    }

    private func logAccess(
        _ accessLog: AccessLogger,
        message: RawRequestMessage,
        started: (wall: Int, clock: LoopInstant),
        loop: isolated EventLoop
    ) {
        let peer = socketTransport?.extraInfo.peerName
        let entry = AccessLogger.Entry(
            remote: peer?.host ?? "-",
            started: started.wall,
            requestLine: "\(message.method) \(message.path) HTTP/\(message.version.major).\(message.version.minor)",
            status: response.status,
            bytes: response.suppressBody ? 0 : response.written,
            elapsedNanoseconds: loop.time.nanoseconds &- started.clock.nanoseconds,
            field: { name in message.rawHeaders.first(named: name).map { String(decoding: $0, as: UTF8.self) } }
        )
        accessLog.log(entry)
    }

    // MARK: - Closing and time

    /// Shuts our side down, drops further input for up to two seconds, then closes.
    func closeLingering(loop: isolated EventLoop) {
        guard !lingering, let socketTransport else { return }
        lingering = true
        closing = true
        machine.closeStarted()
        flush()
        try? socketTransport.writeEOF()
        if !reading {
            reading = true
            socketTransport.resumeReading()
        }
        timer?.cancel()
        timerDeadline = loop.time + .seconds(2)
        timer = loop.callAt(timerDeadline!) { [self] in
            _ = loop.isRunning
            self.socketTransport?.close()
        }
    }

    /// Arms the connection's one timer for the machine's deadline, unless it fires earlier anyway.
    func rearmTimer(loop: isolated EventLoop) {
        guard !lingering, let deadline = machine.deadline else { return }
        if let armed = timerDeadline, armed <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = loop.callAt(deadline) { [self] in
            self.timerFired(loop: loop)
        }
    }

    private func timerFired(loop: isolated EventLoop) {
        timer = nil
        timerDeadline = nil
        guard !lingering else { return }
        let action = machine.timerFired(now: loop.time)
        switch action {
        case .none:
            break
        case .close:
            closing = true
            socketTransport?.close()
            requestWait?.wake(throwing: CancelledError(message: "the connection timed out"))
            return
        case .respondAndClose(let status):
            writeErrorResponse(status: status)
            closeLingering(loop: loop)
            return
        case .failBody:
            failFeedingBody(HTTPError.requestTimeout(text: "408: the request body did not arrive in time"))
        case .abort:
            closing = true
            out.removeAll()
            socketTransport?.abort()
            return
        case .releaseHandlerTask:
            releaseRequested = true
            requestWait?.wake()
        }
        rearmTimer(loop: loop)
    }

    /// Graceful shutdown: close if idle, else let the request finish and close after it.
    func shutdown(loop: isolated EventLoop) {
        guard !closing else { return }
        let action = machine.shutdownRequested()
        switch action {
        case .close:
            closing = true
            flush()
            socketTransport?.close()
            requestWait?.wake(throwing: CancelledError(message: "the server shuts down"))
        case .finishThenClose:
            upgraded?.serverShuttingDown()
        }
    }

    /// Cancels the handler and drops the connection (the end of a graceful shutdown's grace time).
    func abortConnection() {
        handlerTask?.cancel(message: "the server shuts down")
        closing = true
        socketTransport?.abort()
    }

    /// Whether a request is being handled.
    var isHandling: Bool { machine.isHandling }
}

/// `HTTP/1.1 100 Continue`, the interim answer to `Expect: 100-continue`.
private let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

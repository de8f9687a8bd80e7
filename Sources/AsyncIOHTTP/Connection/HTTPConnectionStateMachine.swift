// Theory of operation
//
// Every decision about one server connection is made here, and nothing here does I/O: the
// connection (`ServerHTTPProtocol`) reports what happened (a head parsed, the body ended, the
// response began, the peer closed, a timer fired) and does what the returned action says. Time
// comes in with the events, read from the loop's clock, which tests replace with a virtual one.
// The model is h11's `_state.py` ("Rule 1": one request at a time, the response ends the cycle) and
// Hummingbird's `HTTPConnectionStateHandler` (a struct whose methods return actions).
//
// Phases of a connection:
//
//   idle(first) --byte--> readingHead --head--> exchange --finished--> idle (keep-alive)
//      |                      |                   |   \--finished, body unread--> draining --end--> idle
//      |                      |                   \--finished, close--> closed
//      \--timeout/EOF--> closed  \--error/timeout--> (answer 4xx) closed
//
// - One exchange at a time: pipelined requests stay unparsed in the parser until the exchange
//   ends, and reading pauses while they pile up (`shouldRead`), so a client that pipelines without
//   reading costs at most one read buffer plus the pipeline limit.
// - Keep-alive is decided when the head arrives (version, `Connection`, the request count, a
//   shutdown) and can only get worse: a failed body, an `Expect` never answered, a response that
//   asks to close, or an EOF from the peer turn it off. The response head carries the final word
//   (`Connection: close`), so `responseStarted` returns it.
// - A body the handler did not read is skipped (`draining`) up to `maxBodyDrain` bytes, else the
//   connection closes: skipping a gigabyte to save a handshake is a bad trade.
// - Deadlines (`deadline`): the whole head within `headerTimeout` of its first byte (a connection's
//   first request: of its start), an idle keep-alive connection closes after `idleTimeout`, a
//   handler waiting for body bytes fails after `bodyReadTimeout` without any, and a peer that reads
//   nothing for `writeTimeout` while our writes are paused is dropped. The connection keeps one
//   timer and re-arms it lazily: a deadline that moved later is found when the old timer fires.
// - The handler task of an idle connection is let go after `handlerLinger`: it costs memory an
//   idle keep-alive connection should not, but keeping it through short pauses saves making one
//   per request.
// - `upgraded` is the hook for protocols that take the connection over (WebSocket, CONNECT): after
//   `switchedProtocols()` nothing here acts any more.

import AsyncIO
import HTTP1Codec

/// The decisions of one HTTP/1.1 server connection: events in, actions out, no I/O.
struct HTTPConnectionStateMachine: Sendable {
    /// Where the connection is in its cycle of requests.
    enum Phase: Equatable, Sendable {
        /// Waiting for the first byte of a request since `since`; `first` on a new connection.
        case idle(since: LoopInstant, first: Bool)
        /// The first bytes of a request head arrived at `since`.
        case readingHead(since: LoopInstant)
        /// A request is being handled.
        case exchange(Exchange)
        /// The response ended before the request body did: the rest is skipped, `left` bytes at most.
        case draining(since: LoopInstant, left: Int)
        /// Another protocol took the connection over.
        case upgraded
        /// The connection closes; nothing more is read or answered.
        case closed
    }

    /// One request and its response.
    struct Exchange: Equatable, Sendable {
        /// Whether the connection stays open after the response (may only turn false).
        var keepAlive: Bool
        /// The request body is still arriving (false once it ended, or if there is none).
        var bodyPending: Bool
        /// The request body failed (malformed, cut short, timed out): the connection must close.
        var bodyFailed = false
        /// Since when the handler has been waiting for body bytes, if it is.
        var bodyWaitSince: LoopInstant?
        /// The client sent `Expect: 100-continue` and no `100 Continue` went out yet.
        var awaitingContinue: Bool
        /// The response head was committed.
        var responseStarted = false
    }

    /// What to do with a request head.
    enum HeadAction: Equatable, Sendable {
        /// Hand the request to the handler; `keepAlive` is the current decision.
        case dispatch(keepAlive: Bool)
    }

    /// What to do when the handler starts waiting for body bytes.
    enum BodyWaitAction: Equatable, Sendable {
        case none
        /// Send `100 Continue` first: the client waits for it before sending the body.
        case sendContinue
    }

    /// What to do after an exchange ended.
    enum FinishAction: Equatable, Sendable {
        /// Parse the next request (pipelined bytes may already be there).
        case readNext
        /// Skip the rest of the request body, then parse the next request.
        case drainBody
        /// Flush what was written and close.
        case close
    }

    /// What to do about bytes the parser refused.
    enum ParseErrorAction: Equatable, Sendable {
        /// No request is in progress: answer `status`, then close.
        case respondAndClose(status: Int)
        /// The request being handled has a broken body: fail its body stream (the handler sees the
        /// error), answer as usual, then close.
        case failBody
        /// Close at once (the response already ended, or nothing can be answered).
        case close
    }

    /// What to do when the peer closed its side.
    enum EOFAction: Equatable, Sendable {
        /// Nothing is in progress: close.
        case close
        /// The request body was cut short: fail it; the response (if any) ends the connection.
        case failBody
        /// The request is whole: finish the response, then close (a half-closed client still reads).
        case finishThenClose
    }

    /// What to do when the connection's timer fires.
    enum TimerAction: Equatable, Sendable {
        case none
        /// An idle connection timed out: close it without a word.
        case close
        /// The head did not arrive in time: answer `408`, then close.
        case respondAndClose(status: Int)
        /// The handler waited too long for body bytes: fail the body stream with a timeout.
        case failBody
        /// The peer has not read for too long: drop the connection and what is buffered.
        case abort
        /// The connection is idle: let its handler task go.
        case releaseHandlerTask
    }

    /// What to do when the server shuts down gracefully.
    enum ShutdownAction: Equatable, Sendable {
        /// Nothing in progress: close now.
        case close
        /// A request is being handled: its response will say `Connection: close`; wait for it.
        case finishThenClose
    }

    /// The part of the configuration the machine uses: plain values, so that copying the machine
    /// (it is a field of the connection, read and written for every event) retains nothing.
    struct Settings: Sendable {
        var headerTimeout: Duration
        var idleTimeout: Duration
        var bodyReadTimeout: Duration
        var writeTimeout: Duration
        var handlerLinger: Duration
        var maxRequestsPerConnection: Int
        var bodyBufferSize: Int
        var pipelineBufferLimit: Int
        var maxBodyDrain: Int

        init(_ configuration: HTTPServerConfiguration) {
            headerTimeout = configuration.headerTimeout
            idleTimeout = configuration.idleTimeout
            bodyReadTimeout = configuration.bodyReadTimeout
            writeTimeout = configuration.writeTimeout
            handlerLinger = configuration.handlerLinger
            maxRequestsPerConnection = configuration.maxRequestsPerConnection
            bodyBufferSize = configuration.bodyBufferSize
            pipelineBufferLimit = configuration.pipelineBufferLimit
            maxBodyDrain = configuration.maxBodyDrain
        }
    }

    let configuration: Settings
    private(set) var phase: Phase
    /// Requests dispatched on this connection.
    private(set) var requestCount = 0
    /// A graceful shutdown began: no request after the current one.
    private(set) var isShuttingDown = false
    /// The connection's handler task exists and waits for the next request.
    private(set) var handlerTaskParked = false
    /// Since when our writes have been paused by the transport (the peer does not read), if they are.
    private(set) var writePausedSince: LoopInstant?

    /// A machine for a connection that was made at `now`.
    init(configuration: HTTPServerConfiguration, now: LoopInstant) {
        self.init(settings: Settings(configuration), now: now)
    }

    /// A machine for a connection that was made at `now`.
    init(settings: Settings, now: LoopInstant) {
        self.configuration = settings
        phase = .idle(since: now, first: true)
    }

    // MARK: - Requests

    /// Bytes arrived while no request was in progress: the head's clock starts.
    mutating func bytesArrived(now: LoopInstant) {
        if case .idle = phase { phase = .readingHead(since: now) }
    }

    /// A whole request head was parsed.
    ///
    /// - Parameters:
    ///   - keepAlive: what the request's version and `Connection` field ask for.
    ///   - hasBody: a body follows (Content-Length > 0 or chunked).
    ///   - expectsContinue: the request carries `Expect: 100-continue`.
    mutating func headReceived(keepAlive: Bool, hasBody: Bool, expectsContinue: Bool) -> HeadAction {
        requestCount += 1
        let limit = configuration.maxRequestsPerConnection
        let keep = keepAlive && !isShuttingDown && (limit <= 0 || requestCount < limit)
        phase = .exchange(
            Exchange(keepAlive: keep, bodyPending: hasBody, awaitingContinue: expectsContinue && hasBody)
        )
        return .dispatch(keepAlive: keep)
    }

    /// The request body ended (its last byte, or the trailers of a chunked body, arrived).
    mutating func bodyFinished(now: LoopInstant) {
        switch phase {
        case .exchange(var exchange):
            exchange.bodyPending = false
            exchange.bodyWaitSince = nil
            exchange.awaitingContinue = false
            phase = .exchange(exchange)
        case .draining:
            phase = .idle(since: now, first: false)
        default:
            break
        }
    }

    /// Body bytes arrived: the body-read clock starts again.
    mutating func bodyBytesArrived(now: LoopInstant) {
        switch phase {
        case .exchange(var exchange) where exchange.bodyWaitSince != nil:
            exchange.bodyWaitSince = now
            phase = .exchange(exchange)
        case .draining(_, let left):
            phase = .draining(since: now, left: left)
        default:
            break
        }
    }

    /// The handler waits for body bytes that are not there yet.
    mutating func bodyWaitStarted(now: LoopInstant) -> BodyWaitAction {
        guard case .exchange(var exchange) = phase, exchange.bodyPending, !exchange.bodyFailed else { return .none }
        exchange.bodyWaitSince = now
        let sendContinue = exchange.awaitingContinue && !exchange.responseStarted
        exchange.awaitingContinue = false
        phase = .exchange(exchange)
        return sendContinue ? .sendContinue : .none
    }

    /// The handler stopped waiting for body bytes (they came, or it gave up).
    mutating func bodyWaitEnded() {
        guard case .exchange(var exchange) = phase else { return }
        exchange.bodyWaitSince = nil
        phase = .exchange(exchange)
    }

    /// The response head is being committed; returns whether the connection stays open, which the
    /// head must announce.
    ///
    /// - Parameter close: the response itself needs the connection closed (it asked to, or its
    ///   length is delimited by the close).
    mutating func responseStarted(close: Bool) -> Bool {
        guard case .exchange(var exchange) = phase else { return false }
        exchange.responseStarted = true
        // A client still waiting for `100 Continue` may never send the body we would have to skip.
        if close || isShuttingDown || exchange.bodyFailed || (exchange.awaitingContinue && exchange.bodyPending) {
            exchange.keepAlive = false
        }
        phase = .exchange(exchange)
        return exchange.keepAlive
    }

    /// The exchange ended: the handler returned and its response was written.
    ///
    /// - Parameter complete: the response was whole (false: it was cut short, e.g. the handler
    ///   threw after the head went out, or wrote fewer bytes than its Content-Length).
    mutating func exchangeFinished(now: LoopInstant, complete: Bool) -> FinishAction {
        guard case .exchange(let exchange) = phase else { return .close }
        guard complete, exchange.keepAlive, exchange.responseStarted, !exchange.bodyFailed, !isShuttingDown else {
            phase = .closed
            return .close
        }
        if exchange.bodyPending {
            phase = .draining(since: now, left: configuration.maxBodyDrain)
            return .drainBody
        }
        phase = .idle(since: now, first: false)
        return .readNext
    }

    /// `count` bytes of an unread body were skipped; returns false when that is over the limit
    /// (the connection then closes).
    mutating func bodyDrained(_ count: Int, now: LoopInstant) -> Bool {
        guard case .draining(_, let left) = phase else { return true }
        guard count <= left else {
            phase = .closed
            return false
        }
        phase = .draining(since: now, left: left - count)
        return true
    }

    /// The handler task parked waiting for the next request (true), or ended or resumed (false).
    mutating func handlerTaskParked(_ parked: Bool) {
        handlerTaskParked = parked
    }

    /// The connection closes on our initiative (an answer to a broken request, a lingering close).
    mutating func closeStarted() {
        phase = .closed
    }

    /// Another protocol takes the connection over (a 101 response, a CONNECT tunnel).
    mutating func switchedProtocols() {
        phase = .upgraded
    }

    // MARK: - Failures and the peer

    /// The parser refused the input with `error`.
    mutating func parseFailed(_ error: HTTPParseError) -> ParseErrorAction {
        switch phase {
        case .idle, .readingHead:
            phase = .closed
            return .respondAndClose(status: error.status)
        case .exchange(var exchange) where exchange.bodyPending:
            exchange.bodyPending = false
            exchange.bodyFailed = true
            exchange.keepAlive = false
            exchange.bodyWaitSince = nil
            phase = .exchange(exchange)
            return .failBody
        case .exchange(var exchange):
            // Bytes after a whole request (pipelined) are bad: that request is answered, then we close.
            exchange.keepAlive = false
            phase = .exchange(exchange)
            return .failBody
        case .draining, .upgraded, .closed:
            phase = .closed
            return .close
        }
    }

    /// The peer sent EOF (it may still read).
    mutating func peerClosed() -> EOFAction {
        switch phase {
        case .exchange(var exchange):
            exchange.keepAlive = false
            let cutShort = exchange.bodyPending
            if cutShort {
                exchange.bodyPending = false
                exchange.bodyFailed = true
                exchange.bodyWaitSince = nil
            }
            phase = .exchange(exchange)
            return cutShort ? .failBody : .finishThenClose
        case .upgraded:
            return .finishThenClose
        case .idle, .readingHead, .draining, .closed:
            phase = .closed
            return .close
        }
    }

    /// The connection is gone (closed by either side, or reset). Returns whether a handler was
    /// running and must be cancelled.
    mutating func connectionLost() -> Bool {
        let handling: Bool
        if case .exchange = phase { handling = true } else { handling = false }
        phase = .closed
        return handling
    }

    /// The transport paused our writes (the peer reads slower than we write).
    mutating func writingPaused(now: LoopInstant) {
        if writePausedSince == nil { writePausedSince = now }
    }

    /// The transport resumed our writes.
    mutating func writingResumed() {
        writePausedSince = nil
    }

    /// A graceful shutdown began.
    mutating func shutdownRequested() -> ShutdownAction {
        isShuttingDown = true
        switch phase {
        case .exchange(var exchange):
            if !exchange.responseStarted { exchange.keepAlive = false }
            phase = .exchange(exchange)
            return .finishThenClose
        case .upgraded:
            return .finishThenClose
        case .idle, .readingHead, .draining, .closed:
            phase = .closed
            return .close
        }
    }

    // MARK: - Time

    /// When the connection's timer must fire next, or nil if no deadline applies.
    var deadline: LoopInstant? {
        let timeouts = configuration
        var earliest: LoopInstant?
        func consider(_ instant: LoopInstant) {
            if earliest == nil || instant < earliest! { earliest = instant }
        }
        switch phase {
        case .idle(let since, let first):
            consider(since + (first ? timeouts.headerTimeout : timeouts.idleTimeout))
            if handlerTaskParked { consider(since + timeouts.handlerLinger) }
        case .readingHead(let since):
            consider(since + timeouts.headerTimeout)
        case .exchange(let exchange):
            if let since = exchange.bodyWaitSince { consider(since + timeouts.bodyReadTimeout) }
        case .draining(let since, _):
            consider(since + timeouts.bodyReadTimeout)
        case .upgraded, .closed:
            return nil
        }
        if let since = writePausedSince { consider(since + timeouts.writeTimeout) }
        return earliest
    }

    /// The connection's timer fired at `now`.
    mutating func timerFired(now: LoopInstant) -> TimerAction {
        let timeouts = configuration
        if let since = writePausedSince, now >= since + timeouts.writeTimeout, phase != .upgraded {
            phase = .closed
            return .abort
        }
        switch phase {
        case .idle(let since, let first):
            if now >= since + (first ? timeouts.headerTimeout : timeouts.idleTimeout) {
                phase = .closed
                return .close
            }
            if handlerTaskParked && now >= since + timeouts.handlerLinger {
                handlerTaskParked = false
                return .releaseHandlerTask
            }
        case .readingHead(let since):
            if now >= since + timeouts.headerTimeout {
                phase = .closed
                return .respondAndClose(status: 408)
            }
        case .exchange(var exchange):
            if let since = exchange.bodyWaitSince, now >= since + timeouts.bodyReadTimeout {
                exchange.bodyPending = false
                exchange.bodyFailed = true
                exchange.keepAlive = false
                exchange.bodyWaitSince = nil
                phase = .exchange(exchange)
                return .failBody
            }
        case .draining(let since, _):
            if now >= since + timeouts.bodyReadTimeout {
                phase = .closed
                return .close
            }
        case .upgraded, .closed:
            break
        }
        return .none
    }

    // MARK: - Reading

    /// Whether the connection should read from the socket now.
    ///
    /// - Parameters:
    ///   - bodyBuffered: body bytes received and not yet consumed by the handler.
    ///   - pendingInput: bytes in the parser that wait for the current exchange to end.
    func shouldRead(bodyBuffered: Int, pendingInput: Int) -> Bool {
        switch phase {
        case .idle, .readingHead, .draining:
            return true
        case .exchange(let exchange):
            if exchange.bodyPending { return bodyBuffered < configuration.bodyBufferSize }
            return pendingInput < configuration.pipelineBufferLimit
        case .upgraded, .closed:
            return false
        }
    }

    /// True while a request is being handled.
    var isHandling: Bool {
        if case .exchange = phase { return true }
        return false
    }
}

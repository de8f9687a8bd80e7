import AsyncIO
import HTTP1Codec

// Theory of operation
//
// One keep-alive connection to a server: a ConnectionProtocol that feeds what it reads to a
// `ResponseParser` and hands the parser's events to the exchange in flight (ClientExchange.swift).
//
//   idle (in the pool) --send--> busy(exchange) --end of response, keep-alive--> idle
//                                  \--end, not reusable / error / abort--> closed
//   idle --server closes / bytes arrive--> closed
//
// Every byte from the server is accounted for: bytes while idle are a protocol error (nothing
// was asked), bytes after the end of a response are too (we never pipeline), and a malformed
// reply fails the exchange with the parser's exact error. In each case the connection is closed,
// never reused. The parser's 1xx heads (and their ends) are skipped: the final response follows.
// A `101 Switching Protocols` was never asked for, so it fails the exchange.
//
// The pool hears about the end of a connection in `connectionLost`, which the transport calls
// exactly once, on the loop: an abort from anywhere (a response dropped, a cancelled read) only
// aborts the transport, and the accounting happens there.

/// A connection to an HTTP/1.1 server, owned by a session's pool.
final class ClientConnection: ConnectionProtocol {
    enum Place {
        /// Carrying a request (or just handed to one).
        case busy
        /// In the pool, waiting for a request.
        case idle
        /// Closed; the pool has forgotten it.
        case gone
    }

    let id: Int
    let origin: ClientURL.Origin
    let loop: EventLoop
    /// The task that opens the connection (see `ConnectionPool.connect`).
    var connecting: LoopTask<Void>?
    /// Weak: connections outlive their session while their transports close.
    weak var pool: ConnectionPool?
    private(set) var transport: (any Transport)?
    private var parser: ResponseParser
    private var requestMethod = ResponseParser.RequestMethod.other
    /// Whether the request asked to close the connection after its response.
    private var closeAfterResponse = false
    private var inInformational = false
    var place = Place.busy
    /// The exchange whose response is arriving.
    private(set) var exchange: ClientExchange?
    /// How many responses this connection carried (a retry is safe only on a reused one).
    private(set) var responsesCarried = 0
    /// Write flow control: the transport's buffer is over its high-water mark.
    private(set) var writingPaused = false
    /// Where a body writer waits for the write buffer to drain (made at the first wait).
    private var drained: WaitPoint?
    /// A request body is still being written (a response that ends meanwhile cannot free the connection).
    var requestInFlight = false

    init(id: Int, origin: ClientURL.Origin, limits: HTTPParserLimits, pool: ConnectionPool, loop: EventLoop) {
        self.id = id
        self.origin = origin
        self.pool = pool
        self.loop = loop
        parser = ResponseParser(limits: limits)
    }

    /// Whether the connection was used before (the server may have closed it meanwhile).
    var isReused: Bool { responsesCarried > 0 }

    var isOpen: Bool { transport.map { !$0.isClosing } ?? false }

    // MARK: - Sending

    /// Starts an exchange for a request that is about to be written.
    func begin(
        method: ResponseParser.RequestMethod,
        close: Bool,
        total: LoopInstant?,
        sockRead: Duration?
    ) -> ClientExchange {
        requestMethod = method
        closeAfterResponse = close
        let exchange = ClientExchange.start(on: self, total: total, sockRead: sockRead)
        self.exchange = exchange
        return exchange
    }

    /// Writes request bytes (the transport queues what the kernel does not take).
    func write(_ bytes: [UInt8]) {
        // A write after the connection was lost is dropped by the transport; the exchange learns
        // of the loss through connectionLost.
        try? transport?.write(bytes)
    }

    /// Writes several buffers at once (one `writev`).
    func writeLines(_ chunks: [[UInt8]]) {
        try? transport?.writeLines(chunks)
    }

    /// Waits until the transport's write buffer drained to its low-water mark.
    func drain() async throws {
        let drained = self.drained ?? WaitPoint(loop: loop)
        self.drained = drained
        while writingPaused, isOpen { try await drained.wait() }
    }

    func pauseReading() { transport?.pauseReading() }

    func resumeReading() { transport?.resumeReading() }

    /// Closes the connection at once because `exchange` cannot finish (dropped, cancelled, failed).
    func abort(exchange: ClientExchange) {
        if self.exchange === exchange { self.exchange = nil }
        transport?.abort()
    }

    /// Closes the connection at once, whatever it carries (the session is closing).
    func abortTransport() {
        transport?.abort()
    }

    /// Closes an idle connection (evicted, expired, or the session closes).
    func close() {
        transport?.close()
    }

    // MARK: - ConnectionProtocol

    func connectionMade(_ transport: any Transport, loop: isolated EventLoop) {
        self.transport = transport
    }

    func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {
        guard let exchange else {
            // Nothing was asked: a server that talks out of turn cannot be trusted with the next request.
            transport?.abort()
            return
        }
        exchange.receivedAnything = true
        if exchange.sockRead != nil { exchange.lastActivity = loop.time }
        parser.feed(data)
        process(exchange, loop: loop)
    }

    func eofReceived(loop: isolated EventLoop) -> Bool {
        if let exchange {
            // The end of a close-delimited body, or a cut response: the parser decides which.
            parser.finish()
            process(exchange, loop: loop)
        }
        return false
    }

    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        transport = nil
        if let exchange {
            self.exchange = nil
            exchange.fail(ClientError.serverDisconnected(duringBody: exchange.head != nil), loop: loop)
        }
        drained?.wake()
        let place = self.place
        self.place = .gone
        pool?.connectionClosed(self, wasIdle: place == .idle, loop: loop)
    }

    func pauseWriting(loop: isolated EventLoop) {
        writingPaused = true
    }

    func resumeWriting(loop: isolated EventLoop) {
        writingPaused = false
        drained?.wake()
    }

    // MARK: - Parsing

    /// Hands every event the parser can produce now to the exchange, then wakes its consumer once.
    private func process(_ exchange: ClientExchange, loop: isolated EventLoop) {
        do {
            while let event = try parser.next(requestMethod: requestMethod) {
                switch event {
                case .head(let head):
                    if head.isInformational {
                        // 100 Continue, 103 Early Hints…: skipped; a 101 was never asked for.
                        guard head.statusCode != 101 else { throw HTTPParseError.invalidStatus }
                        inInformational = true
                    } else {
                        exchange.head = head
                    }
                case .body(let bytes):
                    exchange.append(bytes)
                case .end:
                    if inInformational {
                        inInformational = false
                        continue
                    }
                    complete(exchange, loop: loop)
                    return
                }
            }
        } catch HTTPParseError.unexpectedEOF {
            // The server closed the connection inside the head or the body.
            exchange.fail(ClientError.serverDisconnected(duringBody: exchange.head != nil), loop: loop)
            return
        } catch let error as HTTPParseError {
            exchange.fail(ClientError.malformedResponse(error), loop: loop)
            return
        } catch {
            exchange.fail(error, loop: loop)
            return
        }
        exchange.wake(loop: loop)
    }

    /// The response ended: back to the pool if the connection can carry another request.
    private func complete(_ exchange: ClientExchange, loop: isolated EventLoop) {
        self.exchange = nil
        responsesCarried += 1
        let keepAlive = exchange.head?.keepAlive ?? false
        // Bytes after the end of the response were not asked for (we never pipeline).
        let leftover = !parser.takeUnconsumedBytes().isEmpty
        exchange.finish(loop: loop)
        let reusable = keepAlive && !closeAfterResponse && !leftover && !requestInFlight && isOpen
        if reusable, let pool {
            pool.release(self, loop: loop)
        } else {
            transport?.close()
        }
    }
}

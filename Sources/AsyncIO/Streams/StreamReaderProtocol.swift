import Glibc

/// The protocol that connects a transport to a `StreamReader` and a `StreamWriter`:
/// asyncio's `StreamReaderProtocol` (with its `FlowControlMixin`).
///
/// Received bytes and EOF go to the reader; `connectionLost` ends the reader (EOF, or the error),
/// completes `waitClosed`, and wakes `drain`ers. `pauseWriting`/`resumeWriting` are what
/// `StreamWriter.drain()` waits on. On a server (`startServer`), `connectionMade` makes the
/// `StreamWriter` and runs the client callback.
///
/// Order of calls: `start -> connectionMade [-> dataReceived*] [-> eofReceived?] -> connectionLost -> end`,
/// with `pauseWriting`/`resumeWriting` alternating in between.
///
/// Mirrors `asyncio.StreamReaderProtocol`. Deviation: the reader is held strongly until
/// `connectionLost` (asyncio holds it weakly, for its garbage collector).
public final class StreamReaderProtocol: ConnectionProtocol {
    /// What to do with a connection once it is made (server side only).
    /// The per-client coroutine.
    typealias ClientCoroutine = (StreamReader, StreamWriter) async throws -> Void

    enum ClientConnected {
        /// Run the closure as a task per client (asyncio's coroutine callback).
        case task(ClientCoroutine)
        /// Call the closure (asyncio's plain-function callback).
        case callback((StreamReader, StreamWriter) -> Void)
    }

    private(set) var reader: StreamReader?
    private let clientConnected: ClientConnected?
    /// The client task started for this connection by `startServer`.
    private(set) var task: LoopTask<Void>?
    private(set) var transport: (any Transport)?

    // Flow control (FlowControlMixin).
    private(set) var paused = false
    private var drainWaiters: [Future<Void>] = []
    private(set) var connectionLostCalled = false

    // The close waiter: the outcome of `connectionLost`, once it was called.
    private var closedOutcome: Result<Void, any Error>?
    private var closedWaiters: [Future<Void>] = []

    /// Creates a protocol feeding `reader`; used with `createConnection` by `openConnection`.
    ///
    /// Mirrors `StreamReaderProtocol(stream_reader)`.
    public init(_ reader: StreamReader) {
        self.reader = reader
        clientConnected = nil
    }

    init(_ reader: StreamReader, clientConnected: ClientConnected) {
        self.reader = reader
        self.clientConnected = clientConnected
    }

    /// Creates a server's protocol: once the connection is made, `clientConnected` runs as a task
    /// with the client's reader and writer (closing the connection if it fails or is cancelled).
    ///
    /// What `startServer` makes for each connection; public so that a transport made elsewhere (a
    /// TLS server's, once its handshake is done) can serve streams too.
    /// Mirrors `StreamReaderProtocol(stream_reader, client_connected_cb)` with a coroutine.
    public convenience init(
        _ reader: StreamReader,
        clientConnected: @escaping (StreamReader, StreamWriter) async throws -> Void
    ) {
        self.init(reader, clientConnected: .task(clientConnected))
    }

    /// Creates a server's protocol that calls `acceptClient` in `connectionMade`.
    ///
    /// Mirrors `StreamReaderProtocol(stream_reader, client_connected_cb)` with a plain function.
    public convenience init(_ reader: StreamReader, acceptClient: @escaping (StreamReader, StreamWriter) -> Void) {
        self.init(reader, clientConnected: .callback(acceptClient))
    }

    /// The transport is now `transport` (STARTTLS swapped it); the reader pauses that one.
    ///
    /// Mirrors `StreamReaderProtocol._replace_transport()`.
    func replaceTransport(_ transport: any Transport) {
        self.transport = transport
        reader?.transport = transport
    }

    // MARK: - ConnectionProtocol

    public func connectionMade(_ transport: any Transport, loop: isolated EventLoop) {
        self.transport = transport
        try? reader?.setTransport(transport)
        guard let clientConnected, let reader else { return }
        // Not kept here (asyncio does not keep it either): the client code holds the writer, and
        // when it lets go of it, as a handler that ends without closing does, the writer's deinit
        // closes the connection. Kept here, the writer would live as long as the connection, and a
        // connection its handler left open would never close.
        let writer = StreamWriter(transport: transport, protocol: self, reader: reader)
        switch clientConnected {
        case .callback(let callback):
            callback(reader, writer)
        case .task(let body):
            let task = loop.createTask { try await body(reader, writer) }
            self.task = task
            // As asyncio 3.12+: a client task that fails or is cancelled closes its transport; a
            // failure also goes to the exception handler.
            task.addDoneCallback { [core = loop.core] task in
                if task.isCancelled {
                    transport.close()
                    return
                }
                if let error = try? task.exception() {
                    core.reportException(
                        message: "Unhandled exception in client_connected_cb",
                        error: error,
                        source: "\(transport)"
                    )
                    transport.close()
                }
            }
        }
    }

    public func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {
        try? reader?.feedData(data)
    }

    public func eofReceived(loop: isolated EventLoop) -> Bool {
        reader?.feedEOF()
        return true
    }

    public func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
        if let reader {
            if let error { reader.setException(error) } else { reader.feedEOF() }
        }
        if closedOutcome == nil {
            closedOutcome = error.map { .failure($0) } ?? .success(())
            let waiters = closedWaiters
            closedWaiters = []
            for waiter in waiters where !waiter.isDone {
                waiter.complete(error.map { .failed($0) } ?? .succeeded(()))
            }
        }
        // FlowControlMixin.connection_lost: wake the drainers if writing was paused.
        connectionLostCalled = true
        if paused {
            for waiter in drainWaiters where !waiter.isDone {
                waiter.complete(error.map { .failed($0) } ?? .succeeded(()))
            }
        }
        reader = nil
        task = nil
        transport = nil
    }

    public func pauseWriting(loop: isolated EventLoop) {
        paused = true
    }

    public func resumeWriting(loop: isolated EventLoop) {
        paused = false
        for waiter in drainWaiters where !waiter.isDone {
            waiter.complete(.succeeded(()))
        }
    }

    // MARK: - For StreamWriter

    /// True if this protocol serves a server's connection (it has a client callback).
    var isServerSide: Bool { clientConnected != nil }

    /// Whether `drainHelper` would wait: writing is paused. Synchronous, so that a `drain` that
    /// need not wait (nearly all of them) makes no async call.
    ///
    /// - Throws: `SystemError` ECONNRESET once the connection is lost.
    func mustWaitToDrain() throws -> Bool {
        if connectionLostCalled {
            throw SystemError(call: "drain: Connection lost", errno: ECONNRESET)
        }
        return paused
    }

    /// Waits while writing is paused; throws ECONNRESET once the connection is lost.
    ///
    /// Mirrors `FlowControlMixin._drain_helper()`.
    func drainHelper() async throws {
        guard try mustWaitToDrain() else { return }
        let waiter = Future<Void>(core: try loopForAwait().core)
        drainWaiters.append(waiter)
        defer { drainWaiters.removeAll { $0 === waiter } }
        try await waiter.value
    }

    /// Waits until `connectionLost` was called; rethrows its error.
    func waitClosed() async throws {
        if let closedOutcome { return try closedOutcome.get() }
        let waiter = Future<Void>(core: try loopForAwait().core)
        closedWaiters.append(waiter)
        try await waiter.value
    }
}

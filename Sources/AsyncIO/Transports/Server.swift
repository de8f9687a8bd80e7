import CAsyncIOShims
import Glibc

/// A listening server made by `createServer`: its sockets, and the connections it accepted.
///
/// `close()` stops listening (connections go on); `waitClosed()` then waits until every connection
/// it accepted has ended. `serveForever()` serves until the awaiting task is cancelled.
/// Not Sendable: used on its loop.
///
/// Mirrors `asyncio.Server`. Deviation: no `async with`; call `close()` and `waitClosed()`.
public final class Server: CustomStringConvertible {
    /// The loop the server runs on. Mirrors `get_loop()`.
    public let loop: EventLoop
    private var listeners: [Listener]
    let protocolFactory: () -> any StreamingProtocol
    let backlog: Int
    private var serving = false
    private var closed = false
    private var clients: [ObjectIdentifier: SocketTransport] = [:]
    private var closedWaiters: [Future<Void>] = []
    private var servingForever: Future<Void>?
    /// The Unix socket file to unlink on close, with its inode when bound (asyncio's `cleanup_socket`).
    var unixSocketFile: (path: String, inode: ino_t)?

    init(loop: EventLoop, sockets: [Socket], protocolFactory: @escaping () -> any StreamingProtocol, backlog: Int) {
        self.loop = loop
        self.protocolFactory = protocolFactory
        self.backlog = backlog
        listeners = []
        listeners = sockets.map { Listener(server: self, socket: $0) }
    }

    public var description: String {
        "<Server sockets=\(sockets.map { (try? $0.localAddress())?.description ?? "?" })>"
    }

    /// The listening sockets (empty once closed). Mirrors `Server.sockets`.
    public var sockets: [Socket] { listeners.map(\.socket) }

    /// True while the server accepts connections. Mirrors `is_serving()`.
    public var isServing: Bool { serving }

    /// Starts accepting connections; does nothing if it already does.
    ///
    /// - Throws: `AsyncIOError.loopState` if the server is closed. Mirrors `start_serving()`.
    public func startServing() async throws {
        try beginServing()
    }

    func beginServing() throws {
        guard !closed else { throw AsyncIOError.loopState("server \(self) is closed") }
        guard !serving else { return }
        serving = true
        for listener in listeners {
            try listener.socket.listen(backlog: backlog)
            listener.startAccepting()
        }
    }

    /// Accepts connections until the calling task is cancelled; then closes the server and waits
    /// for its connections to end, and rethrows the cancellation.
    ///
    /// - Throws: `CancelledError` when cancelled (or when `close()` is called meanwhile);
    ///   `AsyncIOError.loopState` if already awaited elsewhere or closed. Mirrors `serve_forever()`.
    public func serveForever() async throws {
        guard servingForever == nil else {
            throw AsyncIOError.loopState("server \(self) is already being awaited on serveForever()")
        }
        try beginServing()
        let forever = Future<Void>(core: loop.core)
        servingForever = forever
        defer { servingForever = nil }
        do {
            try await forever.value
        } catch {
            close()
            try? await waitClosed()
            throw error
        }
    }

    /// Stops listening and closes the listening sockets; accepted connections stay open.
    ///
    /// Mirrors `Server.close()`.
    public func close() {
        guard !closed else { return }
        closed = true
        serving = false
        for listener in listeners { listener.close() }
        listeners = []
        if let file = unixSocketFile {
            // Only if it is still the file this server bound: a successor may have replaced it.
            var status = stat()
            if stat(file.path, &status) == 0, status.st_ino == file.inode { unlink(file.path) }
            unixSocketFile = nil
        }
        servingForever?.cancel()
        wakeClosedWaitersIfDone()
    }

    /// Closes every accepted connection (flushing what they buffered). Mirrors `close_clients()` (3.13).
    public func closeClients() {
        for client in Array(clients.values) { client.close() }
    }

    /// Aborts every accepted connection. Mirrors `abort_clients()` (3.13).
    public func abortClients() {
        for client in Array(clients.values) { client.abort() }
    }

    /// Waits until the server is closed and every connection it accepted has ended.
    ///
    /// - Throws: `CancelledError` if the waiting task is cancelled.
    ///   Mirrors `wait_closed()` (3.12.1 semantics: returns at once only if closed and idle).
    public func waitClosed() async throws {
        guard !(closed && clients.isEmpty) else { return }
        let waiter = Future<Void>(core: loop.core)
        closedWaiters.append(waiter)
        try await waiter.value
    }

    // MARK: - Connections

    func connectionAccepted(_ transport: SocketTransport) {
        clients[ObjectIdentifier(transport)] = transport
    }

    func connectionClosed(_ transport: SocketTransport) {
        clients.removeValue(forKey: ObjectIdentifier(transport))
        wakeClosedWaitersIfDone()
    }

    private func wakeClosedWaitersIfDone() {
        guard closed, clients.isEmpty, !closedWaiters.isEmpty else { return }
        let waiters = closedWaiters
        closedWaiters = []
        for waiter in waiters where !waiter.isDone { waiter.complete(.succeeded(())) }
    }
}

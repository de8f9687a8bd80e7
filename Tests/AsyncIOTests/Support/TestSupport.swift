import AsyncIO
import AsyncIOTesting
import Foundation

/// A thread-safe list of events, for stories whose events come from several threads.
final class EventLog<Element: Sendable>: @unchecked Sendable {
    // SAFETY: `storage` is only touched with `lock` held.
    private let lock = NSLock()
    private var storage: [Element] = []

    func append(_ element: Element) {
        lock.lock()
        storage.append(element)
        lock.unlock()
    }

    var events: [Element] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}

/// Runs `body` on a new plain thread (not a Swift task) and returns its result to the awaiting test.
func onPlainThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// An exception handler that records each context's message and error description.
func recordingExceptionHandler(into log: EventLog<String>) -> ExceptionHandler {
    { _, context in
        log.append(context.error.map { "\(context.message): \($0)" } ?? context.message)
    }
}

struct TaggedError: Error, Equatable, CustomStringConvertible {
    var tag = "boom"
    var description: String { tag }
}

/// A TCP connection on 127.0.0.1 between the loop (`sockAccept`) and a blocking peer on a thread:
/// the loop's end, the peer, and the peer's address as the loop saw it.
func acceptBlockingPeer(on loop: isolated EventLoop) async throws -> (Socket, BlockingPeer, SocketAddress) {
    let listening = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
    defer { listening.close() }
    try listening.bind(to: .ipv4(host: "127.0.0.1", port: 0))
    try listening.listen()
    let address = try listening.localAddress()
    async let peer = BlockingPeer.connect(to: address)
    let (client, peerAddress) = try await loop.sockAccept(listening)
    return (client, try await peer, peerAddress)
}

/// A fresh socket path under /tmp (Unix paths are limited to 107 bytes).
func temporarySocketPath() -> String {
    "/tmp/asyncio-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
}

// MARK: - Waiting on a condition, never on the clock

/// Lets every ready task and callback run, several loop iterations deep, until all are blocked:
/// how a test lets a task it just made reach its first wait (a `sockRecv` registered, a server
/// serving) without guessing a duration.
func settle() async throws {
    for _ in 0..<10 {
        try await sleep(.zero)
    }
}

/// Polls `condition` on the loop every millisecond, failing after `seconds`: for what another
/// thread or the kernel decides (a peer's bytes arrived, a connection was accepted).
func waitUntil(seconds: Double = 10, _ condition: () -> Bool) async throws {
    var waited = 0.0
    while !condition() {
        guard waited < seconds else { throw AsyncIOError.timeout }
        try await sleep(.milliseconds(1))
        waited += 0.001
    }
}

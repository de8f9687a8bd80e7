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

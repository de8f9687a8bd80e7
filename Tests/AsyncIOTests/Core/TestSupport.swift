import AsyncIO
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

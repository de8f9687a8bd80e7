import Glibc

/// A mutex over an allocated `pthread_mutex_t`, for the few pieces of state that several threads touch.
///
/// `Synchronization.Mutex` would do, but ThreadSanitizer cannot see its futex and reports false
/// races; a pthread mutex on a stable heap address is what SwiftNIO's lock does too.
final class PThreadLock: @unchecked Sendable {
    // SAFETY: the mutex lives at a heap address that never moves; every access goes through
    // pthread_mutex_lock/unlock, which is what makes the class Sendable.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let rc = pthread_mutex_init(mutex, nil)
        precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// For the rare caller that cannot use `withLock` (it must consume a value under the lock).
    @inline(__always)
    func lock() { pthread_mutex_lock(mutex) }

    @inline(__always)
    func unlock() { pthread_mutex_unlock(mutex) }
}

/// A value guarded by a `PThreadLock`.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = PThreadLock()
    // SAFETY: `value` is only read or written inside `lock.withLock`.
    private var value: Value

    init(_ value: Value) { self.value = value }

    @inline(__always)
    func withLock<T, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        try lock.withLock { () throws(E) -> T in try body(&value) }
    }
}

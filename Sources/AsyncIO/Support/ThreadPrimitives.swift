import Glibc

/// A pthread condition variable with its own mutex (visible to ThreadSanitizer, unlike a futex).
final class PThreadCondition: @unchecked Sendable {
    // SAFETY: both live at stable heap addresses and are only used through pthread calls.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        cond = .allocate(capacity: 1)
        cond.initialize(to: pthread_cond_t())
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits for a signal; call with the lock held (inside `withLock`).
    func wait() { pthread_cond_wait(cond, mutex) }

    /// Waits for a signal or until `deadline` (CLOCK_REALTIME); returns false on timeout.
    func wait(until deadline: timespec) -> Bool {
        var deadline = deadline
        return pthread_cond_timedwait(cond, mutex, &deadline) == 0
    }

    func signal() { pthread_cond_signal(cond) }
    func broadcast() { pthread_cond_broadcast(cond) }
}

/// A counting semaphore for threads (for tasks, see `AsyncIO.Semaphore`).
final class ThreadSemaphore: @unchecked Sendable {
    private let condition = PThreadCondition()
    // SAFETY: only touched inside `condition.withLock`.
    private var count = 0

    func signal() {
        condition.withLock { count += 1 }
        condition.signal()
    }

    func wait() {
        condition.withLock {
            while count == 0 { condition.wait() }
            count -= 1
        }
    }
}

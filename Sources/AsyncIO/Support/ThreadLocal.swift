import Glibc

/// A per-thread slot holding a strong reference to an object (Swift has no `thread_local`).
final class ThreadLocal<Value: AnyObject>: Sendable {
    private let key: pthread_key_t

    init() {
        var key = pthread_key_t()
        // The destructor releases the reference a thread still holds when it exits.
        let rc = pthread_key_create(&key) { pointer in
            // SAFETY: every non-nil value stored under this key is a retained Unmanaged reference
            // made by `set` below, released exactly once here or in `set`.
            guard let pointer else { return }
            Unmanaged<AnyObject>.fromOpaque(pointer).release()
        }
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        self.key = key
    }

    var value: Value? {
        get {
            guard let pointer = pthread_getspecific(key) else { return nil }
            // SAFETY: see `set`; the thread's slot holds a +1 reference, so this read is valid.
            return (Unmanaged<AnyObject>.fromOpaque(pointer).takeUnretainedValue() as! Value)
        }
        set {
            if let old = pthread_getspecific(key) {
                // SAFETY: releases the reference stored by a previous `set` on this thread.
                Unmanaged<AnyObject>.fromOpaque(old).release()
            }
            let pointer = newValue.map { Unmanaged<AnyObject>.passRetained($0 as AnyObject).toOpaque() }
            pthread_setspecific(key, pointer)
        }
    }
}

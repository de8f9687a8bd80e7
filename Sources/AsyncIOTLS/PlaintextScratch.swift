import Glibc

/// The buffer a TLS read decrypts into before it hands the bytes to a plain protocol: one per
/// thread, lent to one read at a time.
///
/// A buffer per read (malloc and free of 64 KiB each time) made glibc give the top of its heap back
/// to the kernel and fault it in again on the next read whenever the application also allocated
/// and freed a large block per read (a `StreamReader` handing its buffer to `read()`): one page
/// fault per message of a streams echo at 4 KiB, 13 % of its CPU (issue #17). A buffer per
/// connection would cost every idle connection 64 KiB. One per thread serves every connection of
/// that thread's loop; a read that starts while another one's bytes are lent (an application
/// that closes another TLS connection inside `dataReceived`, which reads that one's last records)
/// gets a buffer of its own, so lent bytes are never written over.
final class PlaintextScratch {
    /// The plaintext read at most per `dataReceived` of a plain protocol (OpenSSL decrypts one
    /// record, 16 KiB at most, per call; several are gathered into one callback).
    static let size = 64 * 1024

    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    private var isLent = false

    deinit { buffer.deallocate() }

    /// Lends this thread's buffer to `body`, or a fresh one if it is lent already.
    static func withBuffer<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let scratch = current
        guard !scratch.isLent else {
            let own = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            defer { own.deallocate() }
            return try body(own)
        }
        scratch.isLent = true
        defer { scratch.isLent = false }
        return try body(scratch.buffer)
    }

    /// This thread's scratch, made on first use and released when the thread exits.
    private static var current: PlaintextScratch {
        if let pointer = pthread_getspecific(key) {
            // SAFETY: the slot holds a +1 reference stored below, released only by the destructor.
            return Unmanaged<PlaintextScratch>.fromOpaque(pointer).takeUnretainedValue()
        }
        let scratch = PlaintextScratch()
        pthread_setspecific(key, Unmanaged.passRetained(scratch).toOpaque())
        return scratch
    }

    // SAFETY: made once (a static's lazy, thread-safe initialisation) and never changed.
    nonisolated(unsafe) private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { pointer in
            // SAFETY: the only value stored under this key is the +1 reference made by `current`.
            guard let pointer else { return }
            Unmanaged<PlaintextScratch>.fromOpaque(pointer).release()
        }
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        return key
    }()
}

// Theory of operation
//
// The engine's network side: a BIO of our own instead of OpenSSL's two memory BIOs, which cost more
// than the cipher on an echo of 4 KiB messages (callgrind, issue #17): every `BIO_write` into a
// memory BIO moves what is unread to the front and zeroes the bytes it appends
// (`BUF_MEM_grow_clean`), and every `BIO_reset` zeroes the whole buffer it ever grew to.
//
// Incoming ciphertext is lent, not copied: `lend(_:_:)` hands OpenSSL the transport's read buffer
// for the duration of a closure (the engine's `handshake` and `read` calls), and only what OpenSSL
// left unread when the closure returns — the start of a record whose end has not arrived, or bytes
// an application that paused reading has not taken — is copied into `pending`, to be read first
// next time. Outgoing ciphertext is appended to one buffer that grows and is reused (never zeroed);
// `takeOutgoing` lends it to the transport and empties it.
//
// OpenSSL sees one source/sink BIO for both directions: a read with nothing to give is "retry"
// (want read); a write always takes everything.
import COpenSSL

/// Ciphertext in and out of one TLS connection, behind the BIO that OpenSSL reads and writes.
/// Loop thread only.
final class CiphertextBIO {
    /// The BIO for `SSL_set_bio` (both directions); the SSL owns it from then on.
    let bio: OpaquePointer

    /// Bytes lent by `lend` for the duration of its closure, and how many OpenSSL has read.
    private var lent = UnsafeRawBufferPointer(start: nil, count: 0)
    private var lentOffset = 0
    /// Unread ciphertext kept from an earlier `lend`: `pending[pendingStart..<pendingEnd]`.
    private var pending: UnsafeMutableRawPointer?
    private var pendingCapacity = 0
    private var pendingStart = 0
    private var pendingEnd = 0
    /// Ciphertext for the network: `outgoing[0..<outgoingCount]`.
    private var outgoing: UnsafeMutableRawPointer?
    private var outgoingCapacity = 0
    private(set) var outgoingCount = 0

    /// An outgoing buffer larger than this is given back once it has been written out (a burst of
    /// writes does not pin its size for the connection's life).
    private static let retainedCapacity = 128 * 1024

    init?() {
        guard let method = Self.method, let bio = BIO_new(method) else { return nil }
        self.bio = bio
        // SAFETY: the BIO lives inside the SSL that the engine owns, and the engine keeps this
        // object alive at least as long (it frees the SSL first): the pointer never dangles.
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
        BIO_set_init(bio, 1)
    }

    deinit {
        pending?.deallocate()
        outgoing?.deallocate()
    }

    // MARK: - Incoming

    /// Ciphertext received and not read by OpenSSL yet.
    var unreadCount: Int { pendingEnd - pendingStart + lent.count - lentOffset }

    /// Lets OpenSSL read `bytes` while `body` runs, then keeps a copy of what it did not read.
    func lend<R, E: Error>(_ bytes: UnsafeRawBufferPointer, _ body: () throws(E) -> R) throws(E) -> R {
        lent = bytes
        lentOffset = 0
        defer {
            let left = lent.count - lentOffset
            if left > 0, let base = lent.baseAddress { keep(base + lentOffset, count: left) }
            lent = UnsafeRawBufferPointer(start: nil, count: 0)
            lentOffset = 0
        }
        return try body()
    }

    /// Appends to `pending`, compacting or growing it first.
    private func keep(_ bytes: UnsafeRawPointer, count: Int) {
        if pendingStart == pendingEnd {
            pendingStart = 0
            pendingEnd = 0
        }
        if pendingEnd + count > pendingCapacity {
            let unread = pendingEnd - pendingStart
            let capacity = max(pendingCapacity * 2, unread + count, 16 * 1024 + 256)
            let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
            if let pending, unread > 0 { grown.copyMemory(from: pending + pendingStart, byteCount: unread) }
            pending?.deallocate()
            pending = grown
            pendingCapacity = capacity
            pendingStart = 0
            pendingEnd = unread
        }
        // SAFETY: `pending` has room for `count` more bytes at `pendingEnd` (made above).
        (pending! + pendingEnd).copyMemory(from: bytes, byteCount: count)
        pendingEnd += count
    }

    /// OpenSSL's read: kept bytes first, then lent ones; 0 means nothing to read yet.
    fileprivate func read(into buffer: UnsafeMutableRawPointer, count: Int) -> Int {
        var copied = 0
        if pendingEnd > pendingStart, let pending {
            let n = min(count, pendingEnd - pendingStart)
            buffer.copyMemory(from: pending + pendingStart, byteCount: n)
            pendingStart += n
            copied = n
        }
        if copied < count, lentOffset < lent.count, let base = lent.baseAddress {
            let n = min(count - copied, lent.count - lentOffset)
            (buffer + copied).copyMemory(from: base + lentOffset, byteCount: n)
            lentOffset += n
            copied += n
        }
        return copied
    }

    // MARK: - Outgoing

    /// OpenSSL's write: appended, growing the buffer as needed.
    fileprivate func write(_ bytes: UnsafeRawPointer, count: Int) {
        if outgoingCount + count > outgoingCapacity {
            let capacity = max(outgoingCapacity * 2, outgoingCount + count, 16 * 1024 + 256)
            let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
            if let outgoing, outgoingCount > 0 { grown.copyMemory(from: outgoing, byteCount: outgoingCount) }
            outgoing?.deallocate()
            outgoing = grown
            outgoingCapacity = capacity
        }
        // SAFETY: room for `count` more bytes at `outgoingCount` (made above).
        (outgoing! + outgoingCount).copyMemory(from: bytes, byteCount: count)
        outgoingCount += count
    }

    /// Lends the outgoing ciphertext to `body`, then empties the buffer.
    func takeOutgoing(_ body: (UnsafeRawBufferPointer) -> Void) {
        guard outgoingCount > 0, let outgoing else { return }
        body(UnsafeRawBufferPointer(start: outgoing, count: outgoingCount))
        outgoingCount = 0
        if outgoingCapacity > Self.retainedCapacity {
            outgoing.deallocate()
            self.outgoing = nil
            outgoingCapacity = 0
        }
    }

    // MARK: - The BIO method

    private static func object(_ bio: OpaquePointer?) -> CiphertextBIO? {
        guard let bio, let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<CiphertextBIO>.fromOpaque(data).takeUnretainedValue()
    }

    // SAFETY: made once (a global's lazy, thread-safe initialisation) and never changed; OpenSSL
    // only reads a BIO_METHOD.
    nonisolated(unsafe) private static let method: OpaquePointer? = {
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "swift-asyncio ciphertext")
        else { return nil }
        _ = BIO_meth_set_write_ex(method) { bio, data, count, written in
            guard let object = CiphertextBIO.object(bio), let data else { return 0 }
            object.write(data, count: count)
            written?.pointee = count
            return 1
        }
        _ = BIO_meth_set_read_ex(method) { bio, buffer, count, read in
            BIO_clear_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY)
            guard let object = CiphertextBIO.object(bio), let buffer else { return 0 }
            let copied = object.read(into: buffer, count: count)
            guard copied > 0 else {
                // Nothing yet: "retry", which SSL_get_error reports as want-read.
                BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY)
                read?.pointee = 0
                return 0
            }
            read?.pointee = copied
            return 1
        }
        _ = BIO_meth_set_ctrl(method) { bio, command, _, _ in
            switch command {
            case BIO_CTRL_FLUSH: return 1
            case BIO_CTRL_PENDING: return CiphertextBIO.object(bio).map { $0.unreadCount } ?? 0
            case BIO_CTRL_WPENDING: return CiphertextBIO.object(bio).map { $0.outgoingCount } ?? 0
            default: return 0
            }
        }
        _ = BIO_meth_set_create(method) { _ in 1 }
        _ = BIO_meth_set_destroy(method) { bio in
            BIO_set_data(bio, nil)
            BIO_set_init(bio, 0)
            return 1
        }
        return method
    }()
}

import CAsyncIOShims
import DequeModule
import Glibc

/// The bytes a transport could not write yet, as a queue of chunks flushed with `writev`.
///
/// A transport writes straight to the kernel while this is empty, so in the steady state of a
/// request/response protocol nothing is ever queued and nothing is allocated. When the kernel
/// takes only part of a write, the rest is copied here; later writes are appended (small ones into
/// the last chunk's spare room, so a burst of small writes does not become a long `iovec` list).
///
/// Water marks: `WriteFlowControl` decides when the protocol must pause (strictly over the
/// high-water mark) and resume (at or under the low-water mark). The counting lives here so the
/// transport asks one number, `count`.
struct WriteBuffer: ~Copyable {
    /// A chunk we allocated: `start..<end` of `base` is still to be written; `capacity` is its size.
    private struct Chunk {
        // SAFETY: allocated by `append`, freed exactly once by `consume` or `removeAll`/deinit.
        var base: UnsafeMutableRawPointer
        var start: Int
        var end: Int
        var capacity: Int
    }

    private var chunks = Deque<Chunk>()
    /// Bytes queued and not yet written.
    private(set) var count = 0

    /// Chunks are at least this big, so small appends share one.
    private static let minimumChunk = 16 * 1024
    /// The most chunks handed to one `writev` (IOV_MAX is 1024 on Linux).
    private static let maximumVectors = 64

    init() {}

    deinit {
        for chunk in chunks { chunk.base.deallocate() }
    }

    var isEmpty: Bool { count == 0 }

    /// Queues a copy of `bytes`.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty, let source = bytes.baseAddress else { return }
        count += bytes.count
        if var last = chunks.last, last.capacity - last.end >= bytes.count {
            // SAFETY: `last.end + bytes.count <= last.capacity`, inside the chunk's allocation.
            (last.base + last.end).copyMemory(from: source, byteCount: bytes.count)
            last.end += bytes.count
            chunks[chunks.count - 1] = last
            return
        }
        let capacity = max(bytes.count, Self.minimumChunk)
        let base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 1)
        // SAFETY: `base` has `capacity >= bytes.count` bytes.
        base.copyMemory(from: source, byteCount: bytes.count)
        chunks.append(Chunk(base: base, start: 0, end: bytes.count, capacity: capacity))
    }

    /// Writes as much as the kernel takes with one `send` or `writev`.
    ///
    /// - Parameter sockets: `fd` is a socket (one chunk goes with `send(MSG_NOSIGNAL)`); false for
    ///   pipes and ttys, which take `writev` only.
    /// - Returns: the number of bytes written (0 if the descriptor would block).
    /// - Throws: `SystemError` for anything but EAGAIN/EINTR (EPIPE, ECONNRESET, …).
    mutating func flush(to fd: Int32, sockets: Bool = true) throws(SystemError) -> Int {
        guard !chunks.isEmpty else { return 0 }
        let written: Int
        if sockets, chunks.count == 1, let only = chunks.first {
            // SAFETY: `start..<end` lies inside the chunk's allocation.
            written = send(fd, only.base + only.start, only.end - only.start, Int32(MSG_NOSIGNAL))
        } else {
            let vectorCount = min(chunks.count, Self.maximumVectors)
            written = withUnsafeTemporaryAllocation(of: iovec.self, capacity: vectorCount) { vectors in
                for index in 0..<vectorCount {
                    let chunk = chunks[index]
                    vectors[index] = iovec(iov_base: chunk.base + chunk.start, iov_len: chunk.end - chunk.start)
                }
                // SAFETY: each iovec points into a live chunk; writev only reads them during the call.
                return writev(fd, vectors.baseAddress, Int32(vectorCount))
            }
        }
        if written < 0 {
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return 0 }
            throw SystemError(call: sockets ? "send" : "write", errno: error)
        }
        consume(written)
        return written
    }

    /// Drops the first `written` bytes.
    private mutating func consume(_ written: Int) {
        count -= written
        var remaining = written
        while remaining > 0, var first = chunks.first {
            let available = first.end - first.start
            if remaining >= available {
                remaining -= available
                first.base.deallocate()
                chunks.removeFirst()
            } else {
                first.start += remaining
                chunks[0] = first
                remaining = 0
            }
        }
    }

    /// Drops everything queued (abort, fatal errors).
    mutating func removeAll() {
        for chunk in chunks { chunk.base.deallocate() }
        chunks.removeAll()
        count = 0
    }
}

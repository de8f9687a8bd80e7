import Glibc

/// The growable byte buffer behind a `StreamReader`: appends at the back, consumes from the front.
///
/// Theory of operation: the bytes live in one array; `head` is the index of the first unread
/// byte. Consuming from the front only moves `head` (O(1)); the dead prefix is compacted away once
/// it is at least half the array (and 4 KiB), so every byte is moved at most a constant number of
/// times and many small feeds and reads stay linear overall, never O(n²) (CPython's `bytearray`
/// gets the same effect from its own front-deletion trick). Taking every buffered byte hands the
/// array itself to the caller (no copy). The buffer keeps referencing a small one (at most 1 KiB),
/// to write the next bytes into it once the caller is done with it, and lets a larger one go,
/// which keeps an idle connection small (see `takeAll`).
struct StreamBuffer {
    private var storage: [UInt8] = []
    private var head = 0

    /// How many unread bytes are buffered.
    var count: Int { storage.count - head }

    var isEmpty: Bool { storage.count == head }

    // MARK: - Adding

    /// Appends bytes at the back.
    mutating func append(contentsOf bytes: some Collection<UInt8>) {
        if head != 0 && head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        }
        storage.append(contentsOf: bytes)
    }

    // MARK: - Consuming

    /// Removes and returns up to `n` bytes from the front.
    mutating func take(_ n: Int) -> [UInt8] {
        let n = min(n, count)
        guard n > 0 else { return [] }
        if n == count {
            return takeAll()
        }
        let result = Array(storage[head..<head + n])
        head += n
        compactIfWorthIt()
        return result
    }

    /// Removes and returns every buffered byte, handing over the storage itself when possible.
    ///
    /// A small storage (at most `reusableCapacity` bytes) stays referenced, all of it consumed:
    /// once the caller has dropped the result, the next `append` writes into it again instead of
    /// allocating (a request–response connection then allocates nothing per message); while the
    /// caller still holds it, that `append` allocates a fresh one, as it would anyway.
    mutating func takeAll() -> [UInt8] {
        guard !isEmpty else { return [] }  // and a kept storage stays as it is
        if head != 0 {
            storage.removeFirst(head)
            head = 0
        }
        let result = storage
        if storage.capacity <= Self.reusableCapacity {
            head = storage.count
        } else {
            storage = []
        }
        return result
    }

    /// The largest storage `takeAll` keeps for reuse: an idle connection holds at most this much.
    static let reusableCapacity = 1_024

    /// Drops `n` bytes (at most `count`) from the front.
    mutating func removeFirst(_ n: Int) {
        head += min(n, count)
        compactIfWorthIt()
    }

    /// Drops everything, keeping no storage.
    mutating func removeAll() {
        storage = []
        head = 0
    }

    private mutating func compactIfWorthIt() {
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }

    // MARK: - Searching

    /// The offset (from the first unread byte) where `separator` first occurs at or after `offset`.
    func firstIndex(of separator: [UInt8], from offset: Int) -> Int? {
        let start = head + max(offset, 0)
        let needleCount = separator.count
        guard needleCount > 0, storage.count - start >= needleCount else { return nil }
        return storage.withUnsafeBufferPointer { haystack -> Int? in
            separator.withUnsafeBufferPointer { needle -> Int? in
                // SAFETY: both buffers are valid for the closure; every pointer below stays within
                // [start, storage.count) of `haystack` and within `needle`.
                let base = haystack.baseAddress!
                let first = Int32(needle[0])
                let lastStart = haystack.count - needleCount
                var position = start
                while position <= lastStart {
                    let remaining = lastStart - position + 1
                    guard let found = memchr(base + position, first, remaining) else { return nil }
                    let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if needleCount == 1
                        || memcmp(base + index + 1, needle.baseAddress! + 1, needleCount - 1) == 0
                    {
                        return index - head
                    }
                    position = index + 1
                }
                return nil
            }
        }
    }

    /// True when the unread bytes at `offset` start with `prefix`.
    func hasPrefix(_ prefix: [UInt8], at offset: Int) -> Bool {
        let start = head + offset
        guard offset >= 0, storage.count - start >= prefix.count else { return false }
        return storage[start..<start + prefix.count].elementsEqual(prefix)
    }

    /// A copy of the unread bytes (for tests and descriptions).
    var bytes: [UInt8] { Array(storage[head...]) }
}

import CAsyncIOShims

/// A table keyed by an address: the loop's running LoopTasks by their Swift task
/// (`LoopCore.runningTasks`), looked up at every await on the loop.
///
/// Theory of operation: open addressing keyed by the Swift task's address, with linear probing
/// and a multiplicative hash (the address times 2^64/φ, top bits), kept at most half full, and
/// backward-shift deletion, so there are no tombstones and a miss stops at the first empty slot.
/// A lookup is a multiply and, nearly always, one probe in one array. `Dictionary` keyed by
/// `UnsafeCurrentTask` ran SipHash over the key at every await: a twentieth of the user time of a
/// streams echo message.
///
/// Keys are only compared, never used to reach a task: an entry lives while its task runs
/// `LoopTask.drive` (added at its first step, removed at its last), so an address is never in
/// the table for two tasks at once.
struct AddressTable<Value> {
    private struct Entry {
        /// The address; 0 marks an empty slot.
        var key: UInt = 0
        var value: Value?
    }

    private var entries = [Entry](repeating: Entry(), count: 16)
    /// 64 minus log2 of the capacity: the hash keeps the top bits of the product.
    private var shift: UInt64 = 60
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    private func home(_ key: UInt) -> Int {
        Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The value for `key`, if any.
    subscript(key: UInt) -> (Value)? {
        let mask = entries.count - 1
        var index = home(key)
        while true {
            let found = entries[index].key
            if found == key { return entries[index].value }
            if found == 0 { return nil }
            index = (index + 1) & mask
        }
    }

    /// Adds or replaces the value for `key` (not 0).
    mutating func insert(_ value: Value, for key: UInt) {
        if 2 * (count + 1) > entries.count { grow() }
        let mask = entries.count - 1
        var index = home(key)
        while entries[index].key != 0 && entries[index].key != key { index = (index + 1) & mask }
        if entries[index].key == 0 { count += 1 }
        entries[index] = Entry(key: key, value: value)
    }

    /// Removes the value for `key`; returns it (the caller drops it after the table's access ends,
    /// since a deinit may run code that touches the table).
    @discardableResult
    mutating func remove(_ key: UInt) -> (Value)? {
        let mask = entries.count - 1
        var index = home(key)
        while entries[index].key != key {
            if entries[index].key == 0 { return nil }
            index = (index + 1) & mask
        }
        let removed = entries[index].value
        count -= 1
        // Backward shift: move later entries of the probe run into the hole when their home slot
        // does not lie cyclically in (hole, their slot].
        var hole = index
        var next = (hole + 1) & mask
        while entries[next].key != 0 {
            let home = home(entries[next].key)
            let stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if !stays {
                entries[hole] = entries[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        entries[hole] = Entry()
        if entries.count > 64 && count * 8 < entries.count { rebuild(capacity: entries.count / 4) }
        return removed
    }

    /// Every value in the table, in no particular order.
    var values: [Value] {
        entries.compactMap(\.value)
    }

    /// Empties the table; returns what it held, to be dropped after the table's access ends.
    mutating func removeAll() -> [Value] {
        let all = values
        self = AddressTable()
        return all
    }

    private mutating func grow() {
        rebuild(capacity: entries.count * 2)
    }

    /// Moves every entry into a table of `capacity` slots (a power of two, at least 16).
    private mutating func rebuild(capacity: Int) {
        let old = entries
        entries = [Entry](repeating: Entry(), count: capacity)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        count = 0
        for entry in old where entry.key != 0 { insert(entry.value!, for: entry.key) }
    }
}

/// The address of the Swift task running the caller, as a key for an `AddressTable`; nil outside
/// a task. Asks the runtime directly (see `swift_task_getCurrent` in the shims): through
/// `withUnsafeCurrentTask` it cost a retain and a release per await.
@inline(__always)
func currentSwiftTaskAddress() -> UInt? {
    let address = UInt(bitPattern: swift_task_getCurrent())
    return address == 0 ? nil : address
}

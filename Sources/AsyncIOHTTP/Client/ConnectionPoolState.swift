import AsyncIO
import DequeModule

// Theory of operation
//
// The bookkeeping of a keep-alive pool, with no I/O: events in, actions out (h11's and
// hummingbird's state-machine habit). A connection is in one of three places, each counted per
// key (scheme, host, port) and in total against the limits:
//
//   connecting (a slot reserved for a waiter) --connected--> busy --release(reusable)--> idle
//        \--connectFailed--> gone            busy --release(not reusable)--> gone
//                                             idle --handOver--> busy;  idle --closed/expired/evicted--> gone
//
// Requests wait in one FIFO. After every event, `dispatch` serves the waiters in order: an idle
// connection of the waiter's key is handed over (the most recently used first: the likeliest to
// be alive); otherwise, if both the per-host and the total limit leave room, a slot is reserved
// and the waiter connects; if only the total limit is in the way and an idle connection of
// another key exists, the oldest such idle connection is closed to make room (idle connections
// count against the limit, so a session never holds more sockets than `limit`). A waiter that
// cannot be served yet stays in place, and later waiters of other keys may still go ahead.

/// The pure state of a connection pool: which connections are idle, how many are open per key,
/// which requests wait; every method returns what the caller must do.
struct ConnectionPoolState<Key: Hashable> {
    typealias ConnectionID = Int
    typealias WaiterID = Int

    /// What the pool's owner must do.
    enum Action: Equatable {
        /// Give the idle connection to the waiter (it is busy now).
        case handOver(waiter: WaiterID, connection: ConnectionID)
        /// The waiter may open a new connection: a slot is reserved for it.
        case connect(waiter: WaiterID)
        /// Close this idle connection (evicted for room, or idle for too long).
        case close(ConnectionID)
    }

    struct IdleEntry {
        var id: ConnectionID
        var since: LoopInstant
    }

    /// The most connections open at once (0: no limit). aiohttp's `limit`.
    let limit: Int
    /// The most connections open at once to one key (0: no limit). aiohttp's `limit_per_host`.
    let limitPerHost: Int
    private(set) var openCount = 0
    private var openPerKey: [Key: Int] = [:]
    private var idle: [Key: [IdleEntry]] = [:]
    private(set) var idleCount = 0
    private var waiters: Deque<(id: WaiterID, key: Key)> = []

    init(limit: Int, limitPerHost: Int) {
        self.limit = limit
        self.limitPerHost = limitPerHost
    }

    /// The number of requests waiting for a connection.
    var waitingCount: Int { waiters.count }

    /// The connections open to `key` (idle, busy and connecting).
    func openCount(for key: Key) -> Int { openPerKey[key] ?? 0 }

    /// The idle connections of `key`, most recently used last.
    func idleConnections(for key: Key) -> [ConnectionID] { idle[key]?.map(\.id) ?? [] }

    // MARK: - Events

    /// A request wants a connection to `key`; it is served now (the returned actions name it)
    /// or waits in line.
    mutating func acquire(_ key: Key, waiter: WaiterID) -> [Action] {
        // The common case first: nobody waits, so no fairness is at stake.
        if waiters.isEmpty, let action = serve(waiter, key) {
            var actions = [action]
            if case .connect = action, let eviction = evictionIfNeeded(for: key) { actions.insert(eviction, at: 0) }
            return actions
        }
        waiters.append((waiter, key))
        return dispatch()
    }

    /// A waiter gave up (cancelled or timed out) before it was served.
    mutating func removeWaiter(_ waiter: WaiterID) {
        waiters.removeAll { $0.id == waiter }
    }

    /// A connection attempt for `key` failed: its slot is free again.
    mutating func connectFailed(_ key: Key) -> [Action] {
        freeSlot(key)
        return dispatch()
    }

    /// A busy connection is done: back to idle if `reusable`, else gone.
    mutating func release(_ id: ConnectionID, key: Key, reusable: Bool, now: LoopInstant) -> [Action] {
        if reusable {
            idle[key, default: []].append(IdleEntry(id: id, since: now))
            idleCount += 1
        } else {
            freeSlot(key)
        }
        return dispatch()
    }

    /// An idle connection was closed by its server (or by us): forget it.
    mutating func idleClosed(_ id: ConnectionID, key: Key) -> [Action] {
        guard removeIdle(id, key: key) else { return [] }
        freeSlot(key)
        return dispatch()
    }

    /// Closes the idle connections that have been idle since `deadline` or earlier.
    mutating func expire(idleSince deadline: LoopInstant) -> [Action] {
        var actions: [Action] = []
        for (key, entries) in idle {
            let expired = entries.filter { $0.since <= deadline }
            guard !expired.isEmpty else { continue }
            idle[key] = entries.filter { $0.since > deadline }
            for entry in expired {
                idleCount -= 1
                freeSlot(key)
                actions.append(.close(entry.id))
            }
        }
        return actions + dispatch()
    }

    /// The session closes: every idle connection is to be closed, every waiter is dropped.
    mutating func closeAll() -> (idle: [ConnectionID], waiters: [WaiterID]) {
        var closed: [ConnectionID] = []
        for (key, entries) in idle {
            for entry in entries {
                closed.append(entry.id)
                freeSlot(key)
            }
        }
        idle.removeAll()
        idleCount = 0
        let dropped = waiters.map(\.id)
        waiters.removeAll()
        return (closed, dropped)
    }

    /// The earliest time an idle connection started idling, for the expiry timer.
    var oldestIdleSince: LoopInstant? {
        idle.values.compactMap { $0.first?.since }.min()
    }

    // MARK: - Serving waiters

    /// Serves the waiters in order, as far as the limits allow.
    private mutating func dispatch() -> [Action] {
        var actions: [Action] = []
        var index = 0
        while index < waiters.count {
            let (waiter, key) = waiters[index]
            guard let action = serve(waiter, key) else {
                index += 1
                continue
            }
            if case .connect = action, let eviction = evictionIfNeeded(for: key) { actions.append(eviction) }
            actions.append(action)
            waiters.remove(at: index)
        }
        return actions
    }

    /// Serves one waiter if the pool can: an idle connection, or a reserved slot (counted now;
    /// an eviction that makes room is decided by `evictionIfNeeded`).
    private mutating func serve(_ waiter: WaiterID, _ key: Key) -> Action? {
        if var entries = idle[key], let entry = entries.popLast() {
            idle[key] = entries.isEmpty ? nil : entries
            idleCount -= 1
            return .handOver(waiter: waiter, connection: entry.id)
        }
        let open = openPerKey[key] ?? 0
        guard limitPerHost == 0 || open < limitPerHost else { return nil }
        guard limit == 0 || openCount < limit || idleCount > 0 else { return nil }
        openPerKey[key] = open + 1
        openCount += 1
        return .connect(waiter: waiter)
    }

    /// After a slot was reserved for `key`: if the total went over the limit, closes the oldest
    /// idle connection (of another key: the waiter's own key had none idle).
    private mutating func evictionIfNeeded(for key: Key) -> Action? {
        guard limit > 0, openCount > limit else { return nil }
        var oldest: (key: Key, entry: IdleEntry)?
        for (idleKey, entries) in idle {
            if let first = entries.first, oldest == nil || first.since < oldest!.entry.since {
                oldest = (idleKey, first)
            }
        }
        guard let oldest else { return nil }
        _ = removeIdle(oldest.entry.id, key: oldest.key)
        freeSlot(oldest.key)
        return .close(oldest.entry.id)
    }

    private mutating func removeIdle(_ id: ConnectionID, key: Key) -> Bool {
        guard var entries = idle[key], let index = entries.firstIndex(where: { $0.id == id }) else { return false }
        entries.remove(at: index)
        idle[key] = entries.isEmpty ? nil : entries
        idleCount -= 1
        return true
    }

    private mutating func freeSlot(_ key: Key) {
        openCount -= 1
        let open = (openPerKey[key] ?? 1) - 1
        openPerKey[key] = open == 0 ? nil : open
    }
}

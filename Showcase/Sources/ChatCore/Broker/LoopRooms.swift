// Theory of operation
//
// `--loops N` runs N loops in one process, each with its own hub, servers and clients (a
// connection lives on the loop that accepted it: SO_REUSEPORT spreads them). What the loops share
// is the rooms: one `RoomDirectory` (history, presence, nicknames) and, per room, which loops have
// members in it, all under one lock held for a few dictionary operations, never while delivering.
//
// Fan-out: publishing an event takes the lock once, records it, and appends it to the inbox of
// every loop that has members in the room, in the same order for every inbox (the lock's), so all
// loops see a room's events in one order, the history's. A loop whose inbox was empty is woken:
//   - the publishing loop itself drains its inbox at once, after the lock is released (as the
//     single-loop broker delivers synchronously);
//   - another loop gets one `callSoonThreadSafe` that drains its whole inbox. Until that drain
//     runs, further events only append, so a busy loop takes many events per wakeup (the batch
//     grows with the load; the cost per event falls).
// A drain hands each event to the loop's hub (`BrokerSink`), which encodes it once and queues it
// to its members there: no client is touched off its loop.
import AsyncIO
import Synchronization

/// The rooms of one process shared by its loops (`--loops N`): one ``LoopBroker`` per loop.
///
/// ```swift
/// let group = try EventLoopGroup(loopCount: 4)
/// let rooms = LoopRooms(loops: group.loops, historyLength: 100)
/// // on loop i: ChatService(configuration: …, broker: rooms.broker(loop: i), logger: …)
/// ```
public final class LoopRooms: Sendable {
    struct State {
        var directory: RoomDirectory
        /// Per room, the loops with members in it, by index.
        var subscribers: [String: Set<Int>] = [:]
    }

    let state: Mutex<State>
    let inboxes: [LoopInbox]
    /// Numbers guests across loops, so that guest names are unique in the process.
    private let guests = Atomic<Int>(0)

    /// Rooms for `loops`, each room keeping `historyLength` messages.
    public init(loops: [EventLoop], historyLength: Int) {
        state = Mutex(State(directory: RoomDirectory(historyLength: historyLength)))
        inboxes = loops.map(LoopInbox.init)
    }

    /// The broker of the loop at `index` (of the loops given to `init`); make it on that loop.
    public func broker(loop index: Int) -> LoopBroker {
        LoopBroker(rooms: self, index: index)
    }

    /// The number of the next guest.
    func nextGuest() -> Int { guests.wrappingAdd(1, ordering: .relaxed).newValue }

    /// Records `event` and queues it for every loop with members in its room; returns the loops
    /// to wake (their inbox was empty).
    func post(_ event: ChatEvent) -> [Int] {
        state.withLock { state in
            state.directory.record(event)
            return (state.subscribers[event.room] ?? []).filter { inboxes[$0].append(event) }
        }
    }

    func subscribe(_ room: String, loop index: Int) {
        state.withLock { _ = $0.subscribers[room, default: []].insert(index) }
    }

    func unsubscribe(_ room: String, loop index: Int) {
        state.withLock { state in
            state.subscribers[room]?.remove(index)
            if state.subscribers[room]?.isEmpty == true { state.subscribers[room] = nil }
        }
    }
}

/// One loop's queue of events published by any loop, drained on that loop.
final class LoopInbox: @unchecked Sendable {
    // SAFETY (@unchecked): `events` is behind its own lock; `sink` is set by `start` and read by
    // `drain`, both on `loop`'s thread only (drain is scheduled onto it), so it is never touched
    // from two threads.
    let loop: EventLoop
    private let events = Mutex<[ChatEvent]>([])
    weak var sink: (any BrokerSink)?

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Queues `event`; true if the inbox was empty (the loop must be woken).
    func append(_ event: ChatEvent) -> Bool {
        events.withLock { events in
            events.append(event)
            return events.count == 1
        }
    }

    /// Schedules a drain on the loop, from another loop's thread.
    func wake() {
        // A closed loop (shutting down) delivers nothing more.
        _ = try? loop.callSoonThreadSafe { [self] in drain() }
    }

    /// Delivers everything queued, in order, to the hub. On the loop's thread.
    func drain() {
        let batch = events.withLock { events in
            defer { events.removeAll(keepingCapacity: true) }
            return events
        }
        guard let sink else { return }
        for event in batch { sink.brokerDelivered(event) }
    }
}

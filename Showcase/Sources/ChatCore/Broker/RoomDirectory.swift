/// Rooms in memory: each room's last messages, who is in it, and the nicknames taken.
///
/// The state of the in-process brokers: kept by one loop in ``InProcessBroker``, shared by the
/// loops of one process under a lock in ``LoopRooms``. A plain value with no I/O, so both use the
/// same rules.
struct RoomDirectory {
    let historyLength: Int
    /// Per room, its messages, oldest first; up to twice `historyLength` before the oldest half
    /// is dropped, so that appending stays O(1) amortised.
    private var histories: [String: [ChatEvent]] = [:]
    /// Per room, how many connections of each nickname are in it.
    private var members: [String: [String: Int]] = [:]
    /// The nicknames taken, lowercased.
    private var nicknames: Set<String> = []

    init(historyLength: Int) {
        self.historyLength = historyLength
    }

    /// Keeps `event` in its room's history if it is a message.
    mutating func record(_ event: ChatEvent) {
        guard event.type == .message else { return }
        histories[event.room, default: []].append(event)
        if let count = histories[event.room]?.count, count >= 2 * historyLength {
            histories[event.room]?.removeFirst(count - historyLength)
        }
    }

    /// The room's last `historyLength` messages, oldest first.
    func history(_ room: String) -> [ChatEvent] {
        Array((histories[room] ?? []).suffix(historyLength))
    }

    /// One more connection of `nick` is in `room`.
    mutating func enter(_ room: String, nick: String) {
        members[room, default: [:]][nick, default: 0] += 1
    }

    /// One connection of `nick` left `room`.
    mutating func exit(_ room: String, nick: String) {
        guard let count = members[room]?[nick] else { return }
        members[room]?[nick] = count > 1 ? count - 1 : nil
        if members[room]?.isEmpty == true { members[room] = nil }
    }

    /// Who is in `room`, sorted.
    func presence(_ room: String) -> [String] {
        (members[room] ?? [:]).keys.sorted()
    }

    /// The rooms with someone in them, by name.
    func rooms() -> [RoomInfo] {
        members.map { RoomInfo(name: $0.key, count: $0.value.count) }.sorted { $0.name < $1.name }
    }

    /// Takes `nick` (case-insensitively); false if it is taken.
    mutating func claim(_ nick: String) -> Bool {
        nicknames.insert(nick.lowercased()).inserted
    }

    /// Frees `nick`.
    mutating func release(_ nick: String) {
        nicknames.remove(nick.lowercased())
    }
}

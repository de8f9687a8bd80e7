import AsyncIO
import DequeModule
import RESPCodec

// Theory of operation
//
// Redis answers the commands of one connection in the order they were sent, so a connection keeps
// one FIFO of what it is owed: a reply for a single command, a run of replies for a pipeline, or
// the confirmations of a SUBSCRIBE. Each reply the parser completes goes to the head of the line.
//
// The line can only be trusted while every entry in it still has someone waiting. A command whose
// caller gives up (cancelled, timed out) after its bytes were queued still owns a place in the line,
// and the reply in that place would otherwise be handed to the next command: redis-py's
// CVE-2023-28858/28859. So the line is poisoned instead: the connection closes and every entry
// fails with the same ``RedisError``. Nothing is sent again on the caller's behalf.
//
// Each place is a `PendingCommand`: the outcome once it is known and a `WaitPoint` its caller waits
// on. A connection keeps the ones whose caller took the outcome and hands them out again, so a
// command in the steady state allocates no Future, no waiter list and no place of its own (a
// Future per command, with its generic state looked up at run time, was most of the client's CPU
// per command).

/// One command's place in a connection's line of pending replies, and where its caller waits.
final class PendingCommand {
    /// What the place collects.
    enum Kind {
        /// One command's reply.
        case reply
        /// `count` replies of a pipeline or transaction, collected in ``PendingCommand/replies``.
        case batch(count: Int)
        /// The confirmations of a SUBSCRIBE-family command of `kind` (one per channel), or its error.
        case confirmations(kind: [UInt8], remaining: Int)
    }

    /// How the place ended.
    enum Outcome {
        case pending
        case reply(RESPValue)
        case replies([RESPValue])
        case failed(RedisError)
    }

    // SAFETY (`@exclusivity(unchecked)`): touched on the loop's thread only, by the line that
    // holds the place or by its caller once the place is done, never both at once.
    @exclusivity(unchecked) var kind = Kind.reply
    @exclusivity(unchecked) var outcome = Outcome.pending
    /// A batch's replies so far.
    @exclusivity(unchecked) var replies: [RESPValue] = []
    /// Where the caller waits; woken once the outcome is set.
    let point: WaitPoint

    init(loop: EventLoop) {
        point = WaitPoint(loop: loop)
    }

    var isDone: Bool {
        if case .pending = outcome { return false }
        return true
    }

    /// Sets the outcome (once) and wakes the caller.
    func finish(_ outcome: Outcome) {
        guard !isDone else { return }
        self.outcome = outcome
        point.wake()
    }

    /// Makes the place ready for another command.
    func reset(_ kind: Kind) {
        self.kind = kind
        outcome = .pending
        if case .batch(let count) = kind { replies.reserveCapacity(count) }
    }
}

/// What a connection is owed, in order.
struct PendingReplies {
    private var entries: Deque<PendingCommand> = []

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    mutating func append(_ entry: PendingCommand) { entries.append(entry) }

    /// Hands an ordinary reply to the head of the line; false if nobody is owed one (a surplus
    /// reply: the connection must close).
    mutating func deliver(_ reply: RESPValue) -> Bool {
        guard let head = entries.first else { return false }
        switch head.kind {
        case .reply:
            entries.removeFirst()
            head.finish(.reply(reply))
        case .batch(let count):
            head.replies.append(reply)
            if head.replies.count == count {
                entries.removeFirst()
                let replies = head.replies
                head.replies = []
                head.finish(.replies(replies))
            }
        case .confirmations:
            // Not a confirmation: the command's error (ACL, wrong arguments) ends it.
            entries.removeFirst()
            head.finish(.reply(reply))
        }
        return true
    }

    /// Counts one SUBSCRIBE-family confirmation of `kind`; false if none of that kind is awaited
    /// (the server unsubscribed us on its own, as it does when a shard channel's slot moves).
    mutating func confirm(kind: [UInt8], frame: RESPValue) -> Bool {
        guard let head = entries.first, case .confirmations(let awaited, let remaining) = head.kind, awaited == kind
        else { return false }
        if remaining <= 1 {
            entries.removeFirst()
            head.finish(.reply(frame))
        } else {
            head.kind = .confirmations(kind: awaited, remaining: remaining - 1)
        }
        return true
    }

    /// Fails every entry with `error` and empties the line.
    mutating func failAll(_ error: RedisError) {
        let failed = entries
        entries.removeAll()
        for entry in failed { entry.finish(.failed(error)) }
    }
}

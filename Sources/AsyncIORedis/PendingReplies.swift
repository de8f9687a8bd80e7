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

/// What a connection is owed, in order.
struct PendingReplies {
    /// One place in the line.
    enum Entry {
        /// One command's reply.
        case reply(Future<RESPValue>)
        /// `count` replies for a pipeline or transaction, as one array.
        case batch(ReplyBatch)
        /// The confirmations of a SUBSCRIBE-family command (one per channel), or its error.
        case confirmations(Confirmations)

        func fail(_ error: RedisError) {
            switch self {
            case .reply(let future): if !future.isDone { try? future.setException(error) }
            case .batch(let batch): if !batch.future.isDone { try? batch.future.setException(error) }
            case .confirmations(let confirmations):
                if !confirmations.future.isDone { try? confirmations.future.setException(error) }
            }
        }
    }

    private var entries: Deque<Entry> = []

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    mutating func append(_ entry: Entry) { entries.append(entry) }

    /// Hands an ordinary reply to the head of the line; false if nobody is owed one (a surplus
    /// reply: the connection must close).
    mutating func deliver(_ reply: RESPValue) -> Bool {
        guard let head = entries.first else { return false }
        switch head {
        case .reply(let future):
            entries.removeFirst()
            if !future.isDone { try? future.setResult(reply) }
        case .batch(let batch):
            batch.replies.append(reply)
            if batch.replies.count == batch.count {
                entries.removeFirst()
                if !batch.future.isDone { try? batch.future.setResult(batch.replies) }
            }
        case .confirmations(let confirmations):
            // Not a confirmation: the command's error (ACL, wrong arguments) ends it.
            entries.removeFirst()
            if !confirmations.future.isDone { try? confirmations.future.setResult(reply) }
        }
        return true
    }

    /// Counts one SUBSCRIBE-family confirmation of `kind`; false if none of that kind is awaited
    /// (the server unsubscribed us on its own, as it does when a shard channel's slot moves).
    mutating func confirm(kind: [UInt8], frame: RESPValue) -> Bool {
        guard let head = entries.first, case .confirmations(let confirmations) = head, confirmations.kind == kind
        else { return false }
        confirmations.remaining -= 1
        if confirmations.remaining <= 0 {
            entries.removeFirst()
            if !confirmations.future.isDone { try? confirmations.future.setResult(frame) }
        }
        return true
    }

    /// Fails every entry with `error` and empties the line.
    mutating func failAll(_ error: RedisError) {
        let failed = entries
        entries.removeAll()
        for entry in failed { entry.fail(error) }
    }
}

/// The replies of a pipeline or transaction, collected until all have arrived.
final class ReplyBatch {
    let count: Int
    let future: Future<[RESPValue]>
    var replies: [RESPValue] = []

    init(count: Int, future: Future<[RESPValue]>) {
        self.count = count
        self.future = future
        replies.reserveCapacity(count)
    }
}

/// The confirmations a SUBSCRIBE-family command still waits for.
final class Confirmations {
    /// `subscribe`, `psubscribe`, `unsubscribe`… as the server spells it in the confirmation.
    let kind: [UInt8]
    var remaining: Int
    let future: Future<RESPValue>

    init(kind: [UInt8], count: Int, future: Future<RESPValue>) {
        self.kind = kind
        remaining = count
        self.future = future
    }
}

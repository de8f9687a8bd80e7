import RESPCodec

// Theory of operation
//
// A Pipeline collects commands client-side (their bytes in one buffer) and sends them in one write
// when executed; the connection's line of pending replies holds one entry for the whole batch,
// which collects exactly as many replies as commands were sent. Each command's reply is read from
// its handle afterwards, so each one fails (an error reply, a wrong shape) on its own.
//
// A Transaction is a pipeline wrapped in MULTI … EXEC, sent in the same single write: nothing else
// on the connection can come between them. Its replies are `+OK`, a `+QUEUED` (or an error) per
// command, and EXEC's array; a command refused while queueing surfaces as that command's error,
// and a null EXEC (a WATCHed key changed) as `RedisError.watchedKeyChanged`.

/// Many commands, one round trip: redis-py's `pipeline(transaction=False)`.
///
/// ```swift
/// let pipeline = Pipeline()
/// let counter = pipeline.add(.incr("visits"))
/// let name = pipeline.add(.get("name"))
/// try await connection.execute(pipeline)
/// print(try counter.get(), try name.get() ?? "-")
/// ```
public final class Pipeline {
    // SAFETY (`@exclusivity(unchecked)`): a Pipeline is not Sendable, and adding a command calls
    // nothing that could reach the pipeline again while its buffer is being written.
    /// The commands, encoded, in order.
    @exclusivity(unchecked) public private(set) var bytes: [UInt8] = []
    /// How many commands were added.
    @exclusivity(unchecked) public private(set) var count = 0
    /// The replies, once executed.
    public internal(set) var replies: [RESPValue]?
    /// Why the execution failed as a whole (the connection failed), if it did.
    var failure: (any Error)?

    public init() {}

    /// Adds a typed command; its result is read from the returned handle after execution.
    @discardableResult
    public func add<Value>(_ command: Command<Value>) -> PipelineReply<Value> {
        bytes.append(contentsOf: command.bytes)
        count += 1
        return PipelineReply(pipeline: self, index: count - 1, decode: command.value(of:))
    }

    /// Adds any command, encoded straight into the pipeline's buffer; its raw reply is
    /// `replies[index]`.
    @inlinable
    public func send<each Argument: RESPCommandArgument>(_ argument: repeat each Argument) {
        appendCommand { RESPEncoder.encodeCommand(repeat each argument, into: &$0) }
    }

    /// Adds a command of 1 argument (the name counts); the pack form, specialized to the end.
    @inlinable
    public func send<A: RESPCommandArgument>(_ first: A) {
        appendCommand { RESPEncoder.encodeCommand(first, into: &$0) }
    }

    /// Adds a command of 2 arguments (the name counts); the pack form, specialized to the end.
    @inlinable
    public func send<A: RESPCommandArgument, B: RESPCommandArgument>(_ first: A, _ second: B) {
        appendCommand { RESPEncoder.encodeCommand(first, second, into: &$0) }
    }

    /// Adds a command of 3 arguments (the name counts); the pack form, specialized to the end.
    @inlinable
    public func send<A: RESPCommandArgument, B: RESPCommandArgument, C: RESPCommandArgument>(
        _ first: A,
        _ second: B,
        _ third: C
    ) {
        appendCommand { RESPEncoder.encodeCommand(first, second, third, into: &$0) }
    }

    /// Adds a command of 4 arguments (the name counts); the pack form, specialized to the end.
    @inlinable
    public func send<A: RESPCommandArgument, B: RESPCommandArgument, C: RESPCommandArgument, D: RESPCommandArgument>(
        _ first: A,
        _ second: B,
        _ third: C,
        _ fourth: D
    ) {
        appendCommand { RESPEncoder.encodeCommand(first, second, third, fourth, into: &$0) }
    }

    /// Lets `encode` append one command to the buffer, and counts it.
    @usableFromInline
    func appendCommand(_ encode: (inout [UInt8]) -> Void) {
        encode(&bytes)
        count += 1
    }

    /// Empties the pipeline for reuse (the buffer keeps its capacity).
    public func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        count = 0
        replies = nil
        failure = nil
    }
}

/// The result of one command of an executed ``Pipeline`` or ``Transaction``.
public struct PipelineReply<Value> {
    let pipeline: Pipeline
    let index: Int
    let decode: (RESPValue) throws -> Value

    /// The command's value.
    /// - Throws: its ``RedisReplyError``; the pipeline's ``RedisError`` if it failed as a whole;
    ///   ``RedisError/invalidConfiguration(_:)`` if it has not been executed.
    public func get() throws -> Value {
        if let failure = pipeline.failure { throw failure }
        guard let replies = pipeline.replies, index < replies.count else {
            throw RedisError.invalidConfiguration("the pipeline has not been executed")
        }
        return try decode(replies[index])
    }
}

/// `MULTI` … `EXEC`: commands that run as one, with nothing in between.
///
/// ```swift
/// let result = try await connection.transaction(watching: ["balance"]) { redis, transaction in
///     let balance = Int(try await redis.get("balance") ?? "0")!
///     transaction.add(.set("balance", balance - 10))
///     return balance - 10
/// }
/// ```
public final class Transaction {
    let pipeline = Pipeline()

    public init() {}

    /// Adds a command to the transaction.
    @discardableResult
    public func add<Value>(_ command: Command<Value>) -> PipelineReply<Value> { pipeline.add(command) }

    /// Adds any command; its raw reply is `replies[index]` after execution.
    public func send<each Argument: RESPCommandArgument>(_ argument: repeat each Argument) {
        pipeline.send(repeat each argument)
    }

    /// How many commands were added.
    public var count: Int { pipeline.count }

    /// The replies (one per command, errors included), once executed.
    public var replies: [RESPValue]? { pipeline.replies }
}

extension Connection {
    /// Sends every command of `pipeline` in one write and waits for all replies.
    ///
    /// - Returns: the raw replies, in order (error replies included: each command fails on its own
    ///   through its ``PipelineReply``).
    /// - Throws: ``RedisError`` when the connection fails; then every handle throws it too.
    @discardableResult
    public func execute(_ pipeline: Pipeline) async throws -> [RESPValue] {
        guard pipeline.count > 0 else {
            pipeline.replies = []
            return []
        }
        do {
            let replies = try await roundTrip(pipeline.bytes, count: pipeline.count)
            pipeline.replies = replies
            return replies
        } catch {
            pipeline.failure = error
            throw error
        }
    }

    /// Runs `transaction` as `MULTI` … `EXEC`, all in one write.
    ///
    /// - Returns: one reply per command (a command refused while queueing gets its error).
    /// - Throws: ``RedisError/watchedKeyChanged`` when a `WATCH`ed key changed (nothing ran);
    ///   ``RedisError`` when the connection fails.
    @discardableResult
    public func execute(_ transaction: Transaction) async throws -> [RESPValue] {
        let inner = transaction.pipeline
        var writer = CommandWriter(count: 1)
        writer.add("MULTI")
        var bytes = writer.bytes
        bytes += inner.bytes
        RESPEncoder.encodeCommand("EXEC", into: &bytes)
        let raw: [RESPValue]
        do {
            raw = try await roundTrip(bytes, count: inner.count + 2)
        } catch {
            inner.failure = error
            throw error
        }
        let queued = raw[1..<(raw.count - 1)]
        let exec = raw[raw.count - 1]
        if exec.withoutAttributes.isNull {
            inner.failure = RedisError.watchedKeyChanged
            throw RedisError.watchedKeyChanged
        }
        let replies: [RESPValue]
        if let elements = exec.withoutAttributes.elements, elements.count == inner.count {
            replies = elements
        } else if exec.isError {
            // EXECABORT: the commands refused while queueing carry their own error, the others EXEC's.
            replies = queued.map { $0.isError ? $0 : exec }
        } else {
            let error = RedisError.unexpectedReply(exec)
            fail(.protocolError("EXEC answered \(exec)"))
            inner.failure = error
            throw error
        }
        inner.replies = replies
        return replies
    }

    /// `WATCH key …`: the next transaction on this connection runs only if none of them changed.
    ///
    /// WATCH is the connection's state, so use a connection of your own (``Pool/withConnection(_:)``)
    /// and not one that other tasks share.
    public func watch(_ keys: [String]) async throws { _ = try await run(Command<String>(.watch(keys))) }

    /// `UNWATCH`: forget the watched keys (what a transaction that is not executed amounts to, as
    /// redis-py's `reset()`; a Transaction is sent whole, so `DISCARD` is never needed).
    public func unwatch() async throws { _ = try await run(Command<String>("UNWATCH")) }

    /// WATCHes `keys`, runs `body` (which reads with the connection and queues commands into the
    /// transaction), and executes it; when a watched key changed meanwhile, starts again, up to
    /// `maxAttempts` times (redis-py's `transaction(func, *watches)`).
    public func transaction<Result>(
        watching keys: [String],
        maxAttempts: Int = 16,
        _ body: (Connection, Transaction) async throws -> Result
    ) async throws -> Result {
        var attempt = 0
        while true {
            attempt += 1
            if !keys.isEmpty { try await watch(keys) }
            let transaction = Transaction()
            let result: Result
            do {
                result = try await body(self, transaction)
            } catch {
                if !keys.isEmpty, !isClosed { try? await unwatch() }
                throw error
            }
            do {
                try await execute(transaction)
                return result
            } catch RedisError.watchedKeyChanged where attempt < maxAttempts {
                continue
            }
        }
    }
}

extension CommandWriter {
    /// `NAME key …`.
    static func watch(_ keys: [String]) -> CommandWriter {
        var writer = CommandWriter(count: 1 + keys.count)
        writer.add("WATCH")
        writer.add(contentsOf: keys)
        return writer
    }
}

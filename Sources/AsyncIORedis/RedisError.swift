import RESPCodec

/// Why a Redis operation failed, apart from an error reply (``RedisReplyError``).
///
/// Every case that concerns a connection means that connection is closed: no later command on it
/// can be trusted to get its own reply, so none is sent. The next command on a fresh connection (a
/// ``Pool`` makes one) is unaffected.
public enum RedisError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The connection is closed, or was closed while the command waited; `reason` says why.
    case connectionClosed(reason: String)
    /// The server's bytes broke RESP (a malformed frame, a limit, a reply nobody asked for).
    case protocolError(String)
    /// The command (or the connect) did not complete in time; its connection was closed.
    case timeout(String)
    /// A reply had another shape than the command promises (for example text where a number was due).
    case unexpectedReply(RESPValue)
    /// A `redis://` URL or an option could not be understood.
    case invalidConfiguration(String)
    /// The object is used from another thread than its event loop's.
    case wrongLoop
    /// A ``Pool`` had no free connection before the caller's timeout, or was closed.
    case poolExhausted(String)
    /// A ``Subscriber`` fell further behind than its buffer allows (``Subscriber/BufferPolicy/fail(limit:)``).
    case subscriberOverflow(limit: Int)
    /// A `WATCH`ed key changed before `EXEC`, so the transaction did nothing (redis-py's `WatchError`).
    case watchedKeyChanged

    public var description: String {
        switch self {
        case .connectionClosed(let reason): "Redis connection closed: \(reason)"
        case .protocolError(let detail): "Redis protocol error: \(detail)"
        case .timeout(let what): "Redis timeout: \(what)"
        case .unexpectedReply(let value): "unexpected Redis reply: \(value)"
        case .invalidConfiguration(let detail): "invalid Redis configuration: \(detail)"
        case .wrongLoop: "a Redis object was used off the event loop it belongs to"
        case .poolExhausted(let detail): "Redis pool: \(detail)"
        case .subscriberOverflow(let limit): "Redis subscriber fell more than \(limit) messages behind"
        case .watchedKeyChanged: "a watched key changed: the transaction was not executed"
        }
    }
}

/// An error reply from the server: `-WRONGTYPE Operation against a key holding the wrong kind of value`.
///
/// Only the command that got it fails; the connection stays usable. Mirrors redis-py's
/// `ResponseError` (asyncio_redis's `ErrorReply`).
public struct RedisReplyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The first word, by Redis' convention the error's kind: `ERR`, `WRONGTYPE`, `NOSCRIPT`, `MOVED`…
    public var code: String
    /// The whole message, code included.
    public var message: String

    /// Creates the error of a reply's text.
    public init(message: String) {
        self.message = message
        code = String(message.prefix { $0 != " " })
    }

    public var description: String { message }
}

extension RESPValue {
    /// The error this reply carries, if it is an error reply.
    @usableFromInline var replyError: RedisReplyError? {
        switch self {
        case .simpleError(let bytes), .blobError(let bytes):
            RedisReplyError(message: String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }
}

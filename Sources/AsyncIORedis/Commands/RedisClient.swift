import RESPCodec

/// Something that runs commands: a ``Connection`` or a ``Pool``.
///
/// Every typed command (`get`, `set`, `hset`, `xadd`…) is written once, as a ``Command`` factory,
/// and offered here as a method on both.
public protocol RedisClient: AnyObject {
    /// Runs `command` and returns its decoded value.
    func run<Value>(_ command: Command<Value>) async throws -> Value
}

extension Connection: RedisClient {}

/// How `SET` treats an existing key.
public enum SetCondition: Sendable, Hashable {
    /// `NX`: only if the key does not exist.
    case ifNotExists
    /// `XX`: only if it exists.
    case ifExists
}

extension Duration {
    /// Whole milliseconds (rounded down), for `PX`, `PEXPIRE` and blocking timeouts.
    @usableFromInline var redisMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Seconds as Redis' blocking commands take them (`BLPOP key 0.5`).
    var redisSeconds: Double { Double(redisMilliseconds) / 1000 }
}

/// Decoders shared by several families.
@usableFromInline enum Decode {
    /// `+OK` or a null (a `SET NX` that did nothing).
    @usableFromInline static func okOrNull(_ reply: RESPValue) throws -> Bool {
        if reply.withoutAttributes.isNull { return false }
        guard case .simpleString = reply.withoutAttributes else { throw RedisError.unexpectedReply(reply) }
        return true
    }

    /// A RESP3 map or a RESP2 flat array of pairs, as a dictionary of strings.
    static func stringMap(_ reply: RESPValue) throws -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in try pairs(reply) {
            result[try String(redisReply: key)] = try String(redisReply: value)
        }
        return result
    }

    /// The pairs of a RESP3 map or a RESP2 flat array.
    static func pairs(_ reply: RESPValue) throws -> [(RESPValue, RESPValue)] {
        switch reply.withoutAttributes {
        case .map(let pairs): return pairs.map { ($0.key, $0.value) }
        case .array(let flat):
            guard flat.count % 2 == 0 else { throw RedisError.unexpectedReply(reply) }
            return stride(from: 0, to: flat.count, by: 2).map { (flat[$0], flat[$0 + 1]) }
        default:
            throw RedisError.unexpectedReply(reply)
        }
    }

    /// `[key, value]` of a blocking pop, or nil on its timeout.
    static func keyAndValue(_ reply: RESPValue) throws -> (key: String, value: String)? {
        if reply.withoutAttributes.isNull { return nil }
        guard let elements = reply.withoutAttributes.elements, elements.count == 2 else {
            throw RedisError.unexpectedReply(reply)
        }
        return (try String(redisReply: elements[0]), try String(redisReply: elements[1]))
    }
}

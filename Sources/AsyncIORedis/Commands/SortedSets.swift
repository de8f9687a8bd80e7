import RESPCodec

// Sorted sets.

/// One member of a sorted set with its score.
public struct ScoredMember: Sendable, Hashable {
    public var member: String
    public var score: Double

    public init(_ member: String, score: Double) {
        self.member = member
        self.score = score
    }
}

enum ScoreDecode {
    /// `WITHSCORES` replies: RESP3 `[[member, score], …]` or RESP2 `[member, score, …]`.
    static func members(_ reply: RESPValue) throws -> [ScoredMember] {
        guard let elements = reply.withoutAttributes.elements else { throw RedisError.unexpectedReply(reply) }
        if let first = elements.first, first.elements != nil {
            return try elements.map { pair in
                guard let parts = pair.elements, parts.count == 2 else { throw RedisError.unexpectedReply(reply) }
                return ScoredMember(try String(redisReply: parts[0]), score: try Double(redisReply: parts[1]))
            }
        }
        guard elements.count % 2 == 0 else { throw RedisError.unexpectedReply(reply) }
        return try stride(from: 0, to: elements.count, by: 2).map {
            ScoredMember(try String(redisReply: elements[$0]), score: try Double(redisReply: elements[$0 + 1]))
        }
    }
}

extension Command where Value == Int {
    /// `ZADD key score member …`: how many were added.
    public static func zadd(_ key: some RESPCommandArgument, _ members: [ScoredMember]) -> Self {
        var writer = CommandWriter(count: 2 + members.count * 2)
        writer.add("ZADD")
        writer.add(key)
        for entry in members {
            writer.add(entry.score)
            writer.add(entry.member)
        }
        return Self(writer)
    }
    /// `ZREM key member …`.
    public static func zrem(_ key: some RESPCommandArgument, _ members: [String]) -> Self {
        Self(keyed("ZREM", key, members))
    }
    /// `ZCARD key`.
    @inlinable
    public static func zcard(_ key: some RESPCommandArgument) -> Self { Self("ZCARD", key) }
    /// `ZCOUNT key min max` (`-inf`, `+inf`, `(1` for exclusive).
    @inlinable
    public static func zcount(_ key: some RESPCommandArgument, min: String, max: String) -> Self {
        Self("ZCOUNT", key, min, max)
    }
    /// `ZREMRANGEBYSCORE key min max`.
    @inlinable
    public static func zremrangebyscore(_ key: some RESPCommandArgument, min: String, max: String) -> Self {
        Self("ZREMRANGEBYSCORE", key, min, max)
    }
}

extension Command where Value == Double? {
    /// `ZSCORE key member`.
    @inlinable
    public static func zscore(_ key: some RESPCommandArgument, _ member: some RESPCommandArgument) -> Self {
        Self("ZSCORE", key, member)
    }
}

extension Command where Value == Double {
    /// `ZINCRBY key increment member`: the new score.
    @inlinable
    public static func zincrby(
        _ key: some RESPCommandArgument,
        _ increment: Double,
        _ member: some RESPCommandArgument
    )
        -> Self
    { Self("ZINCRBY", key, increment, member) }
}

extension Command where Value == Int? {
    /// `ZRANK key member`: its 0-based rank by ascending score.
    @inlinable
    public static func zrank(_ key: some RESPCommandArgument, _ member: some RESPCommandArgument) -> Self {
        Self("ZRANK", key, member)
    }
    /// `ZREVRANK key member`.
    @inlinable
    public static func zrevrank(_ key: some RESPCommandArgument, _ member: some RESPCommandArgument) -> Self {
        Self("ZREVRANK", key, member)
    }
}

extension Command where Value == [String] {
    /// `ZRANGE key start stop [REV]`.
    public static func zrange(_ key: some RESPCommandArgument, _ start: Int, _ stop: Int, reverse: Bool = false) -> Self
    {
        reverse ? Self("ZRANGE", key, start, stop, "REV") : Self("ZRANGE", key, start, stop)
    }
    /// `ZRANGE key min max BYSCORE [LIMIT offset count]`.
    public static func zrangebyscore(
        _ key: some RESPCommandArgument,
        min: String,
        max: String,
        limit: (offset: Int, count: Int)? = nil
    ) -> Self {
        guard let limit else { return Self("ZRANGE", key, min, max, "BYSCORE") }
        return Self("ZRANGE", key, min, max, "BYSCORE", "LIMIT", limit.offset, limit.count)
    }
}

extension Command where Value == [ScoredMember] {
    /// `ZRANGE key start stop [REV] WITHSCORES`.
    public static func zrangeWithScores(
        _ key: some RESPCommandArgument,
        _ start: Int,
        _ stop: Int,
        reverse: Bool = false
    )
        -> Self
    {
        reverse
            ? Self("ZRANGE", key, start, stop, "REV", "WITHSCORES", decode: ScoreDecode.members)
            : Self("ZRANGE", key, start, stop, "WITHSCORES", decode: ScoreDecode.members)
    }
    /// `ZPOPMIN key count`.
    public static func zpopmin(_ key: some RESPCommandArgument, count: Int = 1) -> Self {
        Self("ZPOPMIN", key, count, decode: ScoreDecode.members)
    }
    /// `ZPOPMAX key count`.
    public static func zpopmax(_ key: some RESPCommandArgument, count: Int = 1) -> Self {
        Self("ZPOPMAX", key, count, decode: ScoreDecode.members)
    }
}

extension RedisClient {
    /// `ZADD key score member …`.
    @discardableResult
    @inlinable
    public func zadd(_ key: some RESPCommandArgument, _ members: [ScoredMember]) async throws -> Int {
        try await run(.zadd(key, members))
    }
    /// `ZADD key score member`.
    @discardableResult
    @inlinable
    public func zadd(_ key: some RESPCommandArgument, _ member: String, score: Double) async throws -> Int {
        try await run(.zadd(key, [ScoredMember(member, score: score)]))
    }
    /// `ZREM key member …`.
    @discardableResult
    @inlinable
    public func zrem(_ key: some RESPCommandArgument, _ members: [String]) async throws -> Int {
        try await run(.zrem(key, members))
    }
    /// `ZCARD key`.
    @inlinable
    public func zcard(_ key: some RESPCommandArgument) async throws -> Int { try await run(.zcard(key)) }
    /// `ZCOUNT key min max`.
    @inlinable
    public func zcount(_ key: some RESPCommandArgument, min: String, max: String) async throws -> Int {
        try await run(.zcount(key, min: min, max: max))
    }
    /// `ZSCORE key member`.
    @inlinable
    public func zscore(_ key: some RESPCommandArgument, _ member: some RESPCommandArgument) async throws -> Double? {
        try await run(.zscore(key, member))
    }
    /// `ZINCRBY key increment member`.
    @discardableResult
    @inlinable
    public func zincrby(
        _ key: some RESPCommandArgument,
        _ increment: Double,
        _ member: some RESPCommandArgument
    )
        async throws -> Double
    { try await run(.zincrby(key, increment, member)) }
    /// `ZRANK key member`.
    @inlinable
    public func zrank(_ key: some RESPCommandArgument, _ member: some RESPCommandArgument) async throws -> Int? {
        try await run(.zrank(key, member))
    }
    /// `ZREVRANK key member`.
    @inlinable
    public func zrevrank(_ key: some RESPCommandArgument, _ member: some RESPCommandArgument) async throws -> Int? {
        try await run(.zrevrank(key, member))
    }
    /// `ZRANGE key start stop [REV]`.
    @inlinable
    public func zrange(
        _ key: some RESPCommandArgument,
        _ start: Int,
        _ stop: Int,
        reverse: Bool = false
    ) async throws
        -> [String]
    { try await run(.zrange(key, start, stop, reverse: reverse)) }
    /// `ZRANGE key start stop [REV] WITHSCORES`.
    @inlinable
    public func zrangeWithScores(
        _ key: some RESPCommandArgument,
        _ start: Int,
        _ stop: Int,
        reverse: Bool = false
    )
        async throws -> [ScoredMember]
    { try await run(.zrangeWithScores(key, start, stop, reverse: reverse)) }
    /// `ZRANGE key min max BYSCORE [LIMIT offset count]`.
    @inlinable
    public func zrangebyscore(
        _ key: some RESPCommandArgument,
        min: String,
        max: String,
        limit: (offset: Int, count: Int)? = nil
    ) async throws -> [String] { try await run(.zrangebyscore(key, min: min, max: max, limit: limit)) }
    /// `ZPOPMIN key count`.
    @inlinable
    public func zpopmin(_ key: some RESPCommandArgument, count: Int = 1) async throws -> [ScoredMember] {
        try await run(.zpopmin(key, count: count))
    }
    /// `ZPOPMAX key count`.
    @inlinable
    public func zpopmax(_ key: some RESPCommandArgument, count: Int = 1) async throws -> [ScoredMember] {
        try await run(.zpopmax(key, count: count))
    }
    /// `ZREMRANGEBYSCORE key min max`.
    @discardableResult
    @inlinable
    public func zremrangebyscore(_ key: some RESPCommandArgument, min: String, max: String) async throws -> Int {
        try await run(.zremrangebyscore(key, min: min, max: max))
    }
}

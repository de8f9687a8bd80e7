import RESPCodec

// Hashes and sets.

extension Command where Value == Int {
    /// `HSET key field value …`: how many fields were added.
    public static func hset(_ key: some RESPCommandArgument, _ fields: [(String, String)]) -> Self {
        var writer = CommandWriter(count: 2 + fields.count * 2)
        writer.add("HSET")
        writer.add(key)
        for (field, value) in fields {
            writer.add(field)
            writer.add(value)
        }
        return Self(writer)
    }
    /// `HDEL key field …`.
    public static func hdel(_ key: some RESPCommandArgument, _ fields: [String]) -> Self {
        Self(keyed("HDEL", key, fields))
    }
    /// `HLEN key`.
    @inlinable
    public static func hlen(_ key: some RESPCommandArgument) -> Self { Self("HLEN", key) }
    /// `HINCRBY key field increment`.
    @inlinable
    public static func hincrby(
        _ key: some RESPCommandArgument,
        _ field: some RESPCommandArgument,
        _ increment: Int
    )
        -> Self
    { Self("HINCRBY", key, field, increment) }
    /// `SADD key member …`: how many were added.
    public static func sadd(_ key: some RESPCommandArgument, _ members: [String]) -> Self {
        Self(keyed("SADD", key, members))
    }
    /// `SREM key member …`.
    public static func srem(_ key: some RESPCommandArgument, _ members: [String]) -> Self {
        Self(keyed("SREM", key, members))
    }
    /// `SCARD key`.
    @inlinable
    public static func scard(_ key: some RESPCommandArgument) -> Self { Self("SCARD", key) }
}

extension Command where Value == Bool {
    /// `HEXISTS key field`.
    @inlinable
    public static func hexists(_ key: some RESPCommandArgument, _ field: some RESPCommandArgument) -> Self {
        Self("HEXISTS", key, field)
    }
    /// `HSETNX key field value`.
    @inlinable
    public static func hsetnx(
        _ key: some RESPCommandArgument,
        _ field: some RESPCommandArgument,
        _ value: some RESPCommandArgument
    ) -> Self { Self("HSETNX", key, field, value) }
    /// `SISMEMBER key member`.
    @inlinable
    public static func sismember(_ key: some RESPCommandArgument, _ member: some RESPCommandArgument) -> Self {
        Self("SISMEMBER", key, member)
    }
    /// `SMOVE source destination member`.
    @inlinable
    public static func smove(
        _ source: some RESPCommandArgument,
        _ destination: some RESPCommandArgument,
        _ member: some RESPCommandArgument
    ) -> Self { Self("SMOVE", source, destination, member) }
}

extension Command where Value == String? {
    /// `HGET key field`.
    @inlinable
    public static func hget(_ key: some RESPCommandArgument, _ field: some RESPCommandArgument) -> Self {
        Self("HGET", key, field)
    }
    /// `SPOP key`.
    @inlinable
    public static func spop(_ key: some RESPCommandArgument) -> Self { Self("SPOP", key) }
    /// `SRANDMEMBER key`.
    @inlinable
    public static func srandmember(_ key: some RESPCommandArgument) -> Self { Self("SRANDMEMBER", key) }
}

extension Command where Value == [String?] {
    /// `HMGET key field …`.
    public static func hmget(_ key: some RESPCommandArgument, _ fields: [String]) -> Self {
        Self(Command<Int>.keyed("HMGET", key, fields))
    }
}

extension Command where Value == [String: String] {
    /// `HGETALL key`.
    public static func hgetall(_ key: some RESPCommandArgument) -> Self {
        Self("HGETALL", key, decode: Decode.stringMap)
    }
}

extension Command where Value == [String] {
    /// `HKEYS key`.
    @inlinable
    public static func hkeys(_ key: some RESPCommandArgument) -> Self { Self("HKEYS", key) }
    /// `HVALS key`.
    @inlinable
    public static func hvals(_ key: some RESPCommandArgument) -> Self { Self("HVALS", key) }
    /// `SMEMBERS key` (a RESP3 set or a RESP2 array).
    @inlinable
    public static func smembers(_ key: some RESPCommandArgument) -> Self { Self("SMEMBERS", key) }
    /// `SINTER key …`.
    public static func sinter(_ keys: [String]) -> Self { Self(Command<Int>.keysWriter("SINTER", keys)) }
    /// `SUNION key …`.
    public static func sunion(_ keys: [String]) -> Self { Self(Command<Int>.keysWriter("SUNION", keys)) }
    /// `SDIFF key …`.
    public static func sdiff(_ keys: [String]) -> Self { Self(Command<Int>.keysWriter("SDIFF", keys)) }
}

extension Command where Value == Double {
    /// `HINCRBYFLOAT key field increment`.
    @inlinable
    public static func hincrbyfloat(
        _ key: some RESPCommandArgument,
        _ field: some RESPCommandArgument,
        _ increment: Double
    ) -> Self { Self("HINCRBYFLOAT", key, field, increment) }
}

extension Command where Value == Int {
    static func keysWriter(_ name: String, _ keys: [String]) -> CommandWriter {
        var writer = CommandWriter(count: 1 + keys.count)
        writer.add(name)
        writer.add(contentsOf: keys)
        return writer
    }
}

extension RedisClient {
    /// `HSET key field value`.
    @discardableResult
    @inlinable
    public func hset(_ key: some RESPCommandArgument, _ field: String, _ value: String) async throws -> Int {
        try await run(.hset(key, [(field, value)]))
    }
    /// `HSET key field value …`.
    @discardableResult
    @inlinable
    public func hset(_ key: some RESPCommandArgument, _ fields: [(String, String)]) async throws -> Int {
        try await run(.hset(key, fields))
    }
    /// `HGET key field`.
    @inlinable
    public func hget(_ key: some RESPCommandArgument, _ field: some RESPCommandArgument) async throws -> String? {
        try await run(.hget(key, field))
    }
    /// `HMGET key field …`.
    @inlinable
    public func hmget(_ key: some RESPCommandArgument, _ fields: [String]) async throws -> [String?] {
        try await run(.hmget(key, fields))
    }
    /// `HGETALL key`.
    @inlinable
    public func hgetall(_ key: some RESPCommandArgument) async throws -> [String: String] {
        try await run(.hgetall(key))
    }
    /// `HDEL key field …`.
    @discardableResult
    @inlinable
    public func hdel(_ key: some RESPCommandArgument, _ fields: [String]) async throws -> Int {
        try await run(.hdel(key, fields))
    }
    /// `HEXISTS key field`.
    @inlinable
    public func hexists(_ key: some RESPCommandArgument, _ field: some RESPCommandArgument) async throws -> Bool {
        try await run(.hexists(key, field))
    }
    /// `HSETNX key field value`.
    @discardableResult
    @inlinable
    public func hsetnx(
        _ key: some RESPCommandArgument,
        _ field: some RESPCommandArgument,
        _ value: some RESPCommandArgument
    ) async throws -> Bool { try await run(.hsetnx(key, field, value)) }
    /// `HINCRBY key field n`.
    @discardableResult
    @inlinable
    public func hincrby(
        _ key: some RESPCommandArgument,
        _ field: some RESPCommandArgument,
        _ increment: Int
    )
        async throws -> Int
    { try await run(.hincrby(key, field, increment)) }
    /// `HINCRBYFLOAT key field n`.
    @discardableResult
    @inlinable
    public func hincrbyfloat(
        _ key: some RESPCommandArgument,
        _ field: some RESPCommandArgument,
        _ increment: Double
    )
        async throws -> Double
    { try await run(.hincrbyfloat(key, field, increment)) }
    /// `HKEYS key`.
    @inlinable
    public func hkeys(_ key: some RESPCommandArgument) async throws -> [String] { try await run(.hkeys(key)) }
    /// `HVALS key`.
    @inlinable
    public func hvals(_ key: some RESPCommandArgument) async throws -> [String] { try await run(.hvals(key)) }
    /// `HLEN key`.
    @inlinable
    public func hlen(_ key: some RESPCommandArgument) async throws -> Int { try await run(.hlen(key)) }
    /// `SADD key member …`.
    @discardableResult
    @inlinable
    public func sadd(_ key: some RESPCommandArgument, _ members: [String]) async throws -> Int {
        try await run(.sadd(key, members))
    }
    /// `SREM key member …`.
    @discardableResult
    @inlinable
    public func srem(_ key: some RESPCommandArgument, _ members: [String]) async throws -> Int {
        try await run(.srem(key, members))
    }
    /// `SMEMBERS key`.
    public func smembers(_ key: some RESPCommandArgument) async throws -> Set<String> {
        Set(try await run(.smembers(key)))
    }
    /// `SISMEMBER key member`.
    @inlinable
    public func sismember(_ key: some RESPCommandArgument, _ member: some RESPCommandArgument) async throws -> Bool {
        try await run(.sismember(key, member))
    }
    /// `SCARD key`.
    @inlinable
    public func scard(_ key: some RESPCommandArgument) async throws -> Int { try await run(.scard(key)) }
    /// `SPOP key`.
    @inlinable
    public func spop(_ key: some RESPCommandArgument) async throws -> String? { try await run(.spop(key)) }
    /// `SRANDMEMBER key`.
    @inlinable
    public func srandmember(_ key: some RESPCommandArgument) async throws -> String? {
        try await run(.srandmember(key))
    }
    /// `SMOVE source destination member`.
    @discardableResult
    @inlinable
    public func smove(
        _ source: some RESPCommandArgument,
        _ destination: some RESPCommandArgument,
        _ member: some RESPCommandArgument
    ) async throws -> Bool { try await run(.smove(source, destination, member)) }
    /// `SINTER key …`.
    public func sinter(_ keys: [String]) async throws -> Set<String> { Set(try await run(.sinter(keys))) }
    /// `SUNION key …`.
    public func sunion(_ keys: [String]) async throws -> Set<String> { Set(try await run(.sunion(keys))) }
    /// `SDIFF key …`.
    public func sdiff(_ keys: [String]) async throws -> Set<String> { Set(try await run(.sdiff(keys))) }
}

import RESPCodec

// Lists, including the blocking pops. A blocking pop waits on the server; cancelling it (or its
// timeout) closes the connection, since the pop may still happen and its reply could reach the
// next command (see Connection). Use a Pool, which replaces the connection.

/// Which end of a list.
public enum ListEnd: String, Sendable {
    case left = "LEFT"
    case right = "RIGHT"
}

extension Command where Value == Int {
    /// `LPUSH key value …`: the new length.
    public static func lpush<V: RESPCommandArgument>(_ key: some RESPCommandArgument, _ values: [V]) -> Self {
        Self(keyed("LPUSH", key, values))
    }
    /// `RPUSH key value …`: the new length.
    public static func rpush<V: RESPCommandArgument>(_ key: some RESPCommandArgument, _ values: [V]) -> Self {
        Self(keyed("RPUSH", key, values))
    }
    /// `LLEN key`.
    @inlinable
    public static func llen(_ key: some RESPCommandArgument) -> Self { Self("LLEN", key) }
    /// `LREM key count value`: how many were removed.
    @inlinable
    public static func lrem(_ key: some RESPCommandArgument, count: Int, _ value: some RESPCommandArgument) -> Self {
        Self("LREM", key, count, value)
    }

    /// `NAME key a b c…`.
    static func keyed<V: RESPCommandArgument>(
        _ name: String,
        _ key: some RESPCommandArgument,
        _ values: [V]
    )
        -> CommandWriter
    {
        var writer = CommandWriter(count: 2 + values.count)
        writer.add(name)
        writer.add(key)
        writer.add(contentsOf: values)
        return writer
    }
}

extension Command where Value == String? {
    /// `LPOP key`.
    @inlinable
    public static func lpop(_ key: some RESPCommandArgument) -> Self { Self("LPOP", key) }
    /// `RPOP key`.
    @inlinable
    public static func rpop(_ key: some RESPCommandArgument) -> Self { Self("RPOP", key) }
    /// `LINDEX key index`.
    @inlinable
    public static func lindex(_ key: some RESPCommandArgument, _ index: Int) -> Self { Self("LINDEX", key, index) }
    /// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`.
    @inlinable
    public static func lmove(
        _ source: some RESPCommandArgument,
        _ destination: some RESPCommandArgument,
        from: ListEnd,
        to: ListEnd
    ) -> Self { Self("LMOVE", source, destination, from.rawValue, to.rawValue) }
    /// `BLMOVE source destination from to timeout`: nil on timeout (`.zero` waits forever).
    public static func blmove(
        _ source: some RESPCommandArgument,
        _ destination: some RESPCommandArgument,
        from: ListEnd,
        to: ListEnd,
        timeout: Duration
    ) -> Self { Self("BLMOVE", source, destination, from.rawValue, to.rawValue, timeout.redisSeconds) }
}

extension Command where Value == [String] {
    /// `LRANGE key start stop`.
    @inlinable
    public static func lrange(_ key: some RESPCommandArgument, _ start: Int, _ stop: Int) -> Self {
        Self("LRANGE", key, start, stop)
    }
}

extension Command where Value == String {
    /// `LSET key index value`.
    @inlinable
    public static func lset(_ key: some RESPCommandArgument, _ index: Int, _ value: some RESPCommandArgument) -> Self {
        Self("LSET", key, index, value)
    }
    /// `LTRIM key start stop`.
    @inlinable
    public static func ltrim(_ key: some RESPCommandArgument, _ start: Int, _ stop: Int) -> Self {
        Self("LTRIM", key, start, stop)
    }
}

extension Command where Value == (key: String, value: String)? {
    /// `BLPOP key … timeout`: the key and element, nil on timeout (`.zero` waits forever).
    public static func blpop(_ keys: [String], timeout: Duration) -> Self { blocking("BLPOP", keys, timeout) }
    /// `BRPOP key … timeout`.
    public static func brpop(_ keys: [String], timeout: Duration) -> Self { blocking("BRPOP", keys, timeout) }

    static func blocking(_ name: String, _ keys: [String], _ timeout: Duration) -> Self {
        var writer = CommandWriter(count: 2 + keys.count)
        writer.add(name)
        writer.add(contentsOf: keys)
        writer.add(timeout.redisSeconds)
        return Self(writer, decode: Decode.keyAndValue)
    }
}

extension RedisClient {
    /// `LPUSH key value …`.
    @discardableResult
    @inlinable
    public func lpush<V: RESPCommandArgument>(_ key: some RESPCommandArgument, _ values: [V]) async throws -> Int {
        try await run(.lpush(key, values))
    }
    /// `RPUSH key value …`.
    @discardableResult
    @inlinable
    public func rpush<V: RESPCommandArgument>(_ key: some RESPCommandArgument, _ values: [V]) async throws -> Int {
        try await run(.rpush(key, values))
    }
    /// `LPOP key`.
    @inlinable
    public func lpop(_ key: some RESPCommandArgument) async throws -> String? { try await run(.lpop(key)) }
    /// `RPOP key`.
    @inlinable
    public func rpop(_ key: some RESPCommandArgument) async throws -> String? { try await run(.rpop(key)) }
    /// `LLEN key`.
    @inlinable
    public func llen(_ key: some RESPCommandArgument) async throws -> Int { try await run(.llen(key)) }
    /// `LRANGE key start stop`.
    @inlinable
    public func lrange(_ key: some RESPCommandArgument, _ start: Int, _ stop: Int) async throws -> [String] {
        try await run(.lrange(key, start, stop))
    }
    /// `LINDEX key index`.
    @inlinable
    public func lindex(_ key: some RESPCommandArgument, _ index: Int) async throws -> String? {
        try await run(.lindex(key, index))
    }
    /// `LSET key index value`.
    @inlinable
    public func lset(_ key: some RESPCommandArgument, _ index: Int, _ value: some RESPCommandArgument) async throws {
        _ = try await run(.lset(key, index, value))
    }
    /// `LTRIM key start stop`.
    @inlinable
    public func ltrim(_ key: some RESPCommandArgument, _ start: Int, _ stop: Int) async throws {
        _ = try await run(.ltrim(key, start, stop))
    }
    /// `LREM key count value`.
    @discardableResult
    @inlinable
    public func lrem(_ key: some RESPCommandArgument, count: Int, _ value: some RESPCommandArgument) async throws -> Int
    { try await run(.lrem(key, count: count, value)) }
    /// `LMOVE source destination from to`.
    @inlinable
    public func lmove(
        _ source: some RESPCommandArgument,
        _ destination: some RESPCommandArgument,
        from: ListEnd,
        to: ListEnd
    ) async throws -> String? { try await run(.lmove(source, destination, from: from, to: to)) }
    /// `BLMOVE source destination from to timeout`; cancelling it closes the connection.
    @inlinable
    public func blmove(
        _ source: some RESPCommandArgument,
        _ destination: some RESPCommandArgument,
        from: ListEnd,
        to: ListEnd,
        timeout: Duration
    ) async throws -> String? { try await run(.blmove(source, destination, from: from, to: to, timeout: timeout)) }
    /// `BLPOP key … timeout`; cancelling it closes the connection.
    @inlinable
    public func blpop(_ keys: [String], timeout: Duration) async throws -> (key: String, value: String)? {
        try await run(.blpop(keys, timeout: timeout))
    }
    /// `BRPOP key … timeout`; cancelling it closes the connection.
    @inlinable
    public func brpop(_ keys: [String], timeout: Duration) async throws -> (key: String, value: String)? {
        try await run(.brpop(keys, timeout: timeout))
    }
}

import RESPCodec

// Strings, counters, keys and expiry.

extension Command where Value == String? {
    /// `GET key`.
    @inlinable
    public static func get(_ key: some RESPCommandArgument) -> Self { Self("GET", key) }
    /// `GETDEL key`.
    @inlinable
    public static func getdel(_ key: some RESPCommandArgument) -> Self { Self("GETDEL", key) }
    /// `GETSET`'s modern form, `SET key value GET`: sets and returns the old value.
    @inlinable
    public static func getset(_ key: some RESPCommandArgument, _ value: some RESPCommandArgument) -> Self {
        Self("SET", key, value, "GET")
    }
    /// `TYPE key` (`none` for a missing key).
    @inlinable
    public static func type(_ key: some RESPCommandArgument) -> Self { Self("TYPE", key) }
}

extension Command where Value == Bool {
    /// `SET key value [PX ms] [NX|XX]`; false when the condition kept it from setting.
    @inlinable
    public static func set(
        _ key: some RESPCommandArgument,
        _ value: some RESPCommandArgument,
        expiry: Duration? = nil,
        condition: SetCondition? = nil
    ) -> Self {
        var writer = CommandWriter(count: 3 + (expiry == nil ? 0 : 2) + (condition == nil ? 0 : 1))
        writer.add("SET")
        writer.add(key)
        writer.add(value)
        if let expiry {
            writer.add("PX")
            writer.add(expiry.redisMilliseconds)
        }
        switch condition {
        case .ifNotExists: writer.add("NX")
        case .ifExists: writer.add("XX")
        case nil: break
        }
        return Self(writer, decode: Decode.okOrNull)
    }

    /// `EXPIRE key seconds` / `PEXPIRE key ms`: whether the key exists (and got the timeout).
    public static func expire(_ key: some RESPCommandArgument, after delay: Duration) -> Self {
        Self("PEXPIRE", key, delay.redisMilliseconds)
    }
    /// `EXPIREAT key unix-seconds`.
    @inlinable
    public static func expireAt(_ key: some RESPCommandArgument, unixSeconds: Int64) -> Self {
        Self("EXPIREAT", key, unixSeconds)
    }
    /// `PERSIST key`: whether a timeout was removed.
    @inlinable
    public static func persist(_ key: some RESPCommandArgument) -> Self { Self("PERSIST", key) }
    /// `MSETNX k v …`: whether all were set.
    public static func msetnx(_ pairs: [(String, String)]) -> Self {
        Self(Self.pairsWriter("MSETNX", pairs))
    }
    /// `RENAMENX key newkey`.
    @inlinable
    public static func renamenx(_ key: some RESPCommandArgument, _ newKey: some RESPCommandArgument) -> Self {
        Self("RENAMENX", key, newKey)
    }

    static func pairsWriter(_ name: String, _ pairs: [(String, String)]) -> CommandWriter {
        var writer = CommandWriter(count: 1 + pairs.count * 2)
        writer.add(name)
        for (key, value) in pairs {
            writer.add(key)
            writer.add(value)
        }
        return writer
    }
}

extension Command where Value == [UInt8]? {
    /// `GET key`, as bytes.
    @inlinable
    public static func getBytes(_ key: some RESPCommandArgument) -> Self { Self("GET", key) }
}

extension Command where Value == [String?] {
    /// `MGET key …`.
    public static func mget(_ keys: [String]) -> Self {
        var writer = CommandWriter(count: 1 + keys.count)
        writer.add("MGET")
        writer.add(contentsOf: keys)
        return Self(writer)
    }
}

extension Command where Value == String {
    /// `MSET k v …`.
    public static func mset(_ pairs: [(String, String)]) -> Self {
        Self(Command<Bool>.pairsWriter("MSET", pairs))
    }
    /// `RENAME key newkey`.
    @inlinable
    public static func rename(_ key: some RESPCommandArgument, _ newKey: some RESPCommandArgument) -> Self {
        Self("RENAME", key, newKey)
    }
    /// `GETRANGE key start end`.
    @inlinable
    public static func getrange(_ key: some RESPCommandArgument, _ start: Int, _ end: Int) -> Self {
        Self("GETRANGE", key, start, end)
    }
    /// `PING [message]`: `PONG` or the message (also on a RESP2 subscriber, which answers
    /// `["pong", message]`).
    public static func ping(_ message: String? = nil) -> Self {
        if let message { return Self("PING", message, decode: pong) }
        return Self("PING", decode: pong)
    }

    private static func pong(_ reply: RESPValue) throws -> String {
        if let elements = reply.withoutAttributes.elements, elements.count == 2, elements[0].string == "pong" {
            let message = try String(redisReply: elements[1])
            return message.isEmpty ? "PONG" : message
        }
        return try String(redisReply: reply)
    }
    /// `ECHO message`.
    @inlinable
    public static func echo(_ message: some RESPCommandArgument) -> Self { Self("ECHO", message) }
    /// `INFO [section]`: the server's report, as text.
    public static func info(_ section: String? = nil) -> Self {
        if let section { return Self("INFO", section) }
        return Self("INFO")
    }
    /// `FLUSHDB`.
    @inlinable
    public static func flushdb() -> Self { Self("FLUSHDB") }
    /// `FLUSHALL`.
    @inlinable
    public static func flushall() -> Self { Self("FLUSHALL") }
}

extension Command where Value == Int {
    /// `INCR key`.
    @inlinable
    public static func incr(_ key: some RESPCommandArgument) -> Self { Self("INCR", key) }
    /// `INCRBY key increment`.
    @inlinable
    public static func incrby(_ key: some RESPCommandArgument, _ increment: Int) -> Self {
        Self("INCRBY", key, increment)
    }
    /// `DECR key`.
    @inlinable
    public static func decr(_ key: some RESPCommandArgument) -> Self { Self("DECR", key) }
    /// `DECRBY key decrement`.
    @inlinable
    public static func decrby(_ key: some RESPCommandArgument, _ decrement: Int) -> Self {
        Self("DECRBY", key, decrement)
    }
    /// `APPEND key value`: the new length.
    @inlinable
    public static func append(_ key: some RESPCommandArgument, _ value: some RESPCommandArgument) -> Self {
        Self("APPEND", key, value)
    }
    /// `STRLEN key`.
    @inlinable
    public static func strlen(_ key: some RESPCommandArgument) -> Self { Self("STRLEN", key) }
    /// `SETRANGE key offset value`: the new length.
    @inlinable
    public static func setrange(
        _ key: some RESPCommandArgument,
        _ offset: Int,
        _ value: some RESPCommandArgument
    )
        -> Self
    { Self("SETRANGE", key, offset, value) }
    /// `DEL key …`: how many were removed.
    public static func del(_ keys: [String]) -> Self { keysCommand("DEL", keys) }
    /// `UNLINK key …`.
    public static func unlink(_ keys: [String]) -> Self { keysCommand("UNLINK", keys) }
    /// `EXISTS key …`: how many exist.
    public static func exists(_ keys: [String]) -> Self { keysCommand("EXISTS", keys) }
    /// `TTL key`: seconds left, -1 without expiry, -2 for a missing key.
    @inlinable
    public static func ttl(_ key: some RESPCommandArgument) -> Self { Self("TTL", key) }
    /// `PTTL key`: milliseconds left, -1 without expiry, -2 for a missing key.
    @inlinable
    public static func pttl(_ key: some RESPCommandArgument) -> Self { Self("PTTL", key) }
    /// `DBSIZE`.
    @inlinable
    public static func dbsize() -> Self { Self("DBSIZE") }
    /// `PUBLISH channel message`: how many subscribers received it.
    @inlinable
    public static func publish(_ channel: some RESPCommandArgument, _ message: some RESPCommandArgument) -> Self {
        Self("PUBLISH", channel, message)
    }

    static func keysCommand(_ name: String, _ keys: [String]) -> Self {
        var writer = CommandWriter(count: 1 + keys.count)
        writer.add(name)
        writer.add(contentsOf: keys)
        return Self(writer)
    }
}

extension Command where Value == Double {
    /// `INCRBYFLOAT key increment`.
    @inlinable
    public static func incrbyfloat(_ key: some RESPCommandArgument, _ increment: Double) -> Self {
        Self("INCRBYFLOAT", key, increment)
    }
}

extension Command where Value == [String] {
    /// `KEYS pattern` (prefer ``RedisClient/scan(match:count:type:)`` on a large keyspace).
    @inlinable
    public static func keys(_ pattern: some RESPCommandArgument) -> Self { Self("KEYS", pattern) }
}

extension RedisClient {
    /// `GET key`: the value as text, nil if missing.
    @inlinable
    public func get(_ key: some RESPCommandArgument) async throws -> String? { try await run(.get(key)) }
    /// `GET key`: the value as bytes, nil if missing.
    @inlinable
    public func getBytes(_ key: some RESPCommandArgument) async throws -> [UInt8]? { try await run(.getBytes(key)) }
    /// `GETDEL key`.
    @inlinable
    public func getdel(_ key: some RESPCommandArgument) async throws -> String? { try await run(.getdel(key)) }
    /// `SET key value GET`.
    @inlinable
    public func getset(_ key: some RESPCommandArgument, _ value: some RESPCommandArgument) async throws -> String? {
        try await run(.getset(key, value))
    }
    /// `SET key value [PX ms] [NX|XX]`; false when `condition` kept it from setting.
    @discardableResult
    @inlinable
    public func set(
        _ key: some RESPCommandArgument,
        _ value: some RESPCommandArgument,
        expiry: Duration? = nil,
        condition: SetCondition? = nil
    ) async throws -> Bool {
        try await run(.set(key, value, expiry: expiry, condition: condition))
    }
    /// `MGET key …`.
    @inlinable
    public func mget(_ keys: [String]) async throws -> [String?] { try await run(.mget(keys)) }
    /// `MSET k v …`.
    @inlinable
    public func mset(_ pairs: [(String, String)]) async throws { _ = try await run(.mset(pairs)) }
    /// `MSETNX k v …`.
    @inlinable
    public func msetnx(_ pairs: [(String, String)]) async throws -> Bool { try await run(.msetnx(pairs)) }
    /// `INCR key`.
    @discardableResult
    @inlinable
    public func incr(_ key: some RESPCommandArgument) async throws -> Int { try await run(.incr(key)) }
    /// `INCRBY key n`.
    @discardableResult
    @inlinable
    public func incrby(_ key: some RESPCommandArgument, _ increment: Int) async throws -> Int {
        try await run(.incrby(key, increment))
    }
    /// `INCRBYFLOAT key n`.
    @discardableResult
    @inlinable
    public func incrbyfloat(_ key: some RESPCommandArgument, _ increment: Double) async throws -> Double {
        try await run(.incrbyfloat(key, increment))
    }
    /// `DECR key`.
    @discardableResult
    @inlinable
    public func decr(_ key: some RESPCommandArgument) async throws -> Int { try await run(.decr(key)) }
    /// `DECRBY key n`.
    @discardableResult
    @inlinable
    public func decrby(_ key: some RESPCommandArgument, _ decrement: Int) async throws -> Int {
        try await run(.decrby(key, decrement))
    }
    /// `APPEND key value`.
    @discardableResult
    @inlinable
    public func append(_ key: some RESPCommandArgument, _ value: some RESPCommandArgument) async throws -> Int {
        try await run(.append(key, value))
    }
    /// `STRLEN key`.
    @inlinable
    public func strlen(_ key: some RESPCommandArgument) async throws -> Int { try await run(.strlen(key)) }
    /// `GETRANGE key start end`.
    @inlinable
    public func getrange(_ key: some RESPCommandArgument, _ start: Int, _ end: Int) async throws -> String {
        try await run(.getrange(key, start, end))
    }
    /// `SETRANGE key offset value`.
    @discardableResult
    @inlinable
    public func setrange(
        _ key: some RESPCommandArgument,
        _ offset: Int,
        _ value: some RESPCommandArgument
    )
        async throws -> Int
    { try await run(.setrange(key, offset, value)) }
    /// `DEL key …`.
    @discardableResult
    @inlinable
    public func del(_ keys: String...) async throws -> Int { try await run(.del(keys)) }
    /// `UNLINK key …`.
    @discardableResult
    @inlinable
    public func unlink(_ keys: String...) async throws -> Int { try await run(.unlink(keys)) }
    /// `EXISTS key …`.
    @inlinable
    public func exists(_ keys: String...) async throws -> Int { try await run(.exists(keys)) }
    /// `PEXPIRE key ms`.
    @discardableResult
    @inlinable
    public func expire(_ key: some RESPCommandArgument, after delay: Duration) async throws -> Bool {
        try await run(.expire(key, after: delay))
    }
    /// `EXPIREAT key unix-seconds`.
    @discardableResult
    @inlinable
    public func expireAt(_ key: some RESPCommandArgument, unixSeconds: Int64) async throws -> Bool {
        try await run(.expireAt(key, unixSeconds: unixSeconds))
    }
    /// `PERSIST key`.
    @discardableResult
    @inlinable
    public func persist(_ key: some RESPCommandArgument) async throws -> Bool { try await run(.persist(key)) }
    /// `TTL key`.
    @inlinable
    public func ttl(_ key: some RESPCommandArgument) async throws -> Int { try await run(.ttl(key)) }
    /// `PTTL key`.
    @inlinable
    public func pttl(_ key: some RESPCommandArgument) async throws -> Int { try await run(.pttl(key)) }
    /// `TYPE key`.
    @inlinable
    public func type(_ key: some RESPCommandArgument) async throws -> String { try await run(.type(key)) ?? "none" }
    /// `RENAME key newkey`.
    @inlinable
    public func rename(_ key: some RESPCommandArgument, _ newKey: some RESPCommandArgument) async throws {
        _ = try await run(.rename(key, newKey))
    }
    /// `RENAMENX key newkey`.
    @inlinable
    public func renamenx(_ key: some RESPCommandArgument, _ newKey: some RESPCommandArgument) async throws -> Bool {
        try await run(.renamenx(key, newKey))
    }
    /// `KEYS pattern`.
    @inlinable
    public func keys(_ pattern: some RESPCommandArgument) async throws -> [String] { try await run(.keys(pattern)) }
    /// `DBSIZE`.
    @inlinable
    public func dbsize() async throws -> Int { try await run(.dbsize()) }
    /// `FLUSHDB`.
    @inlinable
    public func flushdb() async throws { _ = try await run(.flushdb()) }
    /// `FLUSHALL`.
    @inlinable
    public func flushall() async throws { _ = try await run(.flushall()) }
    /// `PING [message]`.
    @discardableResult
    @inlinable
    public func ping(_ message: String? = nil) async throws -> String { try await run(.ping(message)) }
    /// `ECHO message`.
    @inlinable
    public func echo(_ message: some RESPCommandArgument) async throws -> String { try await run(.echo(message)) }
    /// `INFO [section]`.
    @inlinable
    public func info(_ section: String? = nil) async throws -> String { try await run(.info(section)) }
    /// `PUBLISH channel message`: how many subscribers got it.
    @discardableResult
    @inlinable
    public func publish(_ channel: some RESPCommandArgument, _ message: some RESPCommandArgument) async throws -> Int {
        try await run(.publish(channel, message))
    }
}

import RESPCodec

// Streams: XADD (with capping), XRANGE, XREAD, consumer groups.

/// One stream entry: its ID and its field-value pairs, in order.
public struct StreamEntry: Sendable, Hashable {
    public var id: String
    public var fields: [String]
    public var values: [String]

    /// The value of `field` (the first, if repeated).
    public subscript(field: String) -> String? {
        fields.firstIndex(of: field).map { values[$0] }
    }

    init(_ reply: RESPValue) throws {
        guard let parts = reply.withoutAttributes.elements, parts.count == 2 else {
            throw RedisError.unexpectedReply(reply)
        }
        id = try String(redisReply: parts[0])
        fields = []
        values = []
        if parts[1].isNull { return }  // an entry deleted since it was delivered (XREADGROUP history)
        for (field, value) in try Decode.pairs(parts[1]) {
            fields.append(try String(redisReply: field))
            values.append(try String(redisReply: value))
        }
    }
}

/// The entries read from one stream by `XREAD` / `XREADGROUP`.
public struct StreamRead: Sendable, Hashable {
    public var stream: String
    public var entries: [StreamEntry]
}

/// How `XADD`/`XTRIM` cap a stream.
public enum StreamTrim: Sendable, Hashable {
    /// `MAXLEN [~] n`: keep about (`approximate`) or exactly the newest `n` entries.
    case maxLength(Int, approximate: Bool = true)
    /// `MINID [~] id`: drop entries older than `id`.
    case minID(String, approximate: Bool = true)

    var argumentCount: Int { 3 }

    func write(to writer: inout CommandWriter) {
        switch self {
        case .maxLength(let count, let approximate):
            writer.add("MAXLEN")
            writer.add(approximate ? "~" : "=")
            writer.add(count)
        case .minID(let id, let approximate):
            writer.add("MINID")
            writer.add(approximate ? "~" : "=")
            writer.add(id)
        }
    }
}

enum StreamDecode {
    static func entries(_ reply: RESPValue) throws -> [StreamEntry] {
        guard let elements = reply.withoutAttributes.elements else { throw RedisError.unexpectedReply(reply) }
        return try elements.map(StreamEntry.init)
    }

    /// `XREAD`'s reply: a RESP3 map or RESP2 array of `[stream, entries]`; null when it timed out.
    static func reads(_ reply: RESPValue) throws -> [StreamRead] {
        let value = reply.withoutAttributes
        if value.isNull { return [] }
        if case .map = value {
            return try Decode.pairs(value).map {
                StreamRead(stream: try String(redisReply: $0.0), entries: try entries($0.1))
            }
        }
        guard let elements = value.elements else { throw RedisError.unexpectedReply(reply) }
        return try elements.map { element in
            guard let pair = element.elements, pair.count == 2 else { throw RedisError.unexpectedReply(reply) }
            return StreamRead(stream: try String(redisReply: pair[0]), entries: try entries(pair[1]))
        }
    }
}

extension Command where Value == String? {
    /// `XADD key [NOMKSTREAM] [MAXLEN|MINID [~] n] id field value …`: the new entry's ID (nil
    /// only with `noMakeStream` on a missing stream).
    public static func xadd(
        _ key: some RESPCommandArgument,
        id: String = "*",
        _ fields: [(String, String)],
        trim: StreamTrim? = nil,
        noMakeStream: Bool = false
    ) -> Self {
        var writer = CommandWriter(
            count: 3 + fields.count * 2 + (trim == nil ? 0 : 3) + (noMakeStream ? 1 : 0)
        )
        writer.add("XADD")
        writer.add(key)
        if noMakeStream { writer.add("NOMKSTREAM") }
        trim?.write(to: &writer)
        writer.add(id)
        for (field, value) in fields {
            writer.add(field)
            writer.add(value)
        }
        return Self(writer)
    }
}

extension Command where Value == [StreamEntry] {
    /// `XRANGE key start end [COUNT n]` (`-` and `+` are the ends).
    public static func xrange(
        _ key: some RESPCommandArgument,
        _ start: String = "-",
        _ end: String = "+",
        count: Int? = nil
    )
        -> Self
    {
        range("XRANGE", key, start, end, count)
    }
    /// `XREVRANGE key end start [COUNT n]`: newest first.
    public static func xrevrange(
        _ key: some RESPCommandArgument,
        _ end: String = "+",
        _ start: String = "-",
        count: Int? = nil
    )
        -> Self
    {
        range("XREVRANGE", key, end, start, count)
    }

    private static func range(
        _ name: String,
        _ key: some RESPCommandArgument,
        _ from: String,
        _ to: String,
        _ count: Int?
    )
        -> Self
    {
        if let count { return Self(name, key, from, to, "COUNT", count, decode: StreamDecode.entries) }
        return Self(name, key, from, to, decode: StreamDecode.entries)
    }
}

extension Command where Value == [StreamRead] {
    /// `XREAD [COUNT n] [BLOCK ms] STREAMS key … id …`; empty when a `block` timed out.
    /// A `block` of `.zero` waits forever; cancelling it closes the connection.
    public static func xread(_ streams: [(key: String, id: String)], count: Int? = nil, block: Duration? = nil) -> Self
    {
        Self(
            readWriter(prefix: ["XREAD"], streams, count: count, block: block, noAck: false),
            decode: StreamDecode.reads
        )
    }

    /// `XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key … id …` (`>`:
    /// entries never delivered to the group).
    public static func xreadgroup(
        group: String,
        consumer: String,
        _ streams: [(key: String, id: String)],
        count: Int? = nil,
        block: Duration? = nil,
        noAck: Bool = false
    ) -> Self {
        Self(
            readWriter(
                prefix: ["XREADGROUP", "GROUP", group, consumer],
                streams,
                count: count,
                block: block,
                noAck: noAck
            ),
            decode: StreamDecode.reads
        )
    }

    static func readWriter(
        prefix: [String],
        _ streams: [(key: String, id: String)],
        count: Int?,
        block: Duration?,
        noAck: Bool
    ) -> CommandWriter {
        var writer = CommandWriter(
            count: prefix.count + (count == nil ? 0 : 2) + (block == nil ? 0 : 2) + (noAck ? 1 : 0) + 1
                + streams.count * 2
        )
        writer.add(contentsOf: prefix)
        if let count {
            writer.add("COUNT")
            writer.add(count)
        }
        if let block {
            writer.add("BLOCK")
            writer.add(block.redisMilliseconds)
        }
        if noAck { writer.add("NOACK") }
        writer.add("STREAMS")
        writer.add(contentsOf: streams.map(\.key))
        writer.add(contentsOf: streams.map(\.id))
        return writer
    }
}

extension Command where Value == Int {
    /// `XLEN key`.
    @inlinable
    public static func xlen(_ key: some RESPCommandArgument) -> Self { Self("XLEN", key) }
    /// `XACK key group id …`: how many were acknowledged.
    public static func xack(_ key: some RESPCommandArgument, group: String, _ ids: [String]) -> Self {
        var writer = CommandWriter(count: 3 + ids.count)
        writer.add("XACK")
        writer.add(key)
        writer.add(group)
        writer.add(contentsOf: ids)
        return Self(writer)
    }
    /// `XDEL key id …`.
    public static func xdel(_ key: some RESPCommandArgument, _ ids: [String]) -> Self { Self(keyed("XDEL", key, ids)) }
    /// `XTRIM key MAXLEN|MINID [~] n`: how many entries were removed.
    public static func xtrim(_ key: some RESPCommandArgument, _ trim: StreamTrim) -> Self {
        var writer = CommandWriter(count: 5)
        writer.add("XTRIM")
        writer.add(key)
        trim.write(to: &writer)
        return Self(writer)
    }
    /// `XGROUP DESTROY key group`: 1 if it existed.
    @inlinable
    public static func xgroupDestroy(_ key: some RESPCommandArgument, group: String) -> Self {
        Self("XGROUP", "DESTROY", key, group)
    }
}

extension Command where Value == String {
    /// `XGROUP CREATE key group id [MKSTREAM]` (`$`: only entries added from now on).
    public static func xgroupCreate(
        _ key: some RESPCommandArgument,
        group: String,
        id: String = "$",
        makeStream: Bool = false
    )
        -> Self
    {
        if makeStream { return Self("XGROUP", "CREATE", key, group, id, "MKSTREAM") }
        return Self("XGROUP", "CREATE", key, group, id)
    }
}

extension RedisClient {
    /// `XADD key [MAXLEN ~ n] * field value …`: the new entry's ID.
    @discardableResult
    public func xadd(
        _ key: some RESPCommandArgument,
        id: String = "*",
        _ fields: [(String, String)],
        trim: StreamTrim? = nil
    ) async throws -> String {
        guard let id = try await run(.xadd(key, id: id, fields, trim: trim)) else {
            throw RedisError.unexpectedReply(.null)
        }
        return id
    }
    /// `XRANGE key start end [COUNT n]`.
    @inlinable
    public func xrange(
        _ key: some RESPCommandArgument,
        _ start: String = "-",
        _ end: String = "+",
        count: Int? = nil
    )
        async throws -> [StreamEntry]
    { try await run(.xrange(key, start, end, count: count)) }
    /// `XREVRANGE key end start [COUNT n]`.
    @inlinable
    public func xrevrange(
        _ key: some RESPCommandArgument,
        _ end: String = "+",
        _ start: String = "-",
        count: Int? = nil
    )
        async throws -> [StreamEntry]
    { try await run(.xrevrange(key, end, start, count: count)) }
    /// `XLEN key`.
    @inlinable
    public func xlen(_ key: some RESPCommandArgument) async throws -> Int { try await run(.xlen(key)) }
    /// `XREAD`; cancelling a blocking read closes the connection.
    @inlinable
    public func xread(
        _ streams: [(key: String, id: String)],
        count: Int? = nil,
        block: Duration? = nil
    ) async throws
        -> [StreamRead]
    { try await run(.xread(streams, count: count, block: block)) }
    /// `XREADGROUP`; cancelling a blocking read closes the connection.
    @inlinable
    public func xreadgroup(
        group: String,
        consumer: String,
        _ streams: [(key: String, id: String)],
        count: Int? = nil,
        block: Duration? = nil,
        noAck: Bool = false
    ) async throws -> [StreamRead] {
        try await run(.xreadgroup(group: group, consumer: consumer, streams, count: count, block: block, noAck: noAck))
    }
    /// `XACK key group id …`.
    @discardableResult
    @inlinable
    public func xack(_ key: some RESPCommandArgument, group: String, _ ids: [String]) async throws -> Int {
        try await run(.xack(key, group: group, ids))
    }
    /// `XDEL key id …`.
    @discardableResult
    @inlinable
    public func xdel(_ key: some RESPCommandArgument, _ ids: [String]) async throws -> Int {
        try await run(.xdel(key, ids))
    }
    /// `XTRIM key MAXLEN|MINID [~] n`.
    @discardableResult
    @inlinable
    public func xtrim(_ key: some RESPCommandArgument, _ trim: StreamTrim) async throws -> Int {
        try await run(.xtrim(key, trim))
    }
    /// `XGROUP CREATE key group id [MKSTREAM]`.
    @inlinable
    public func xgroupCreate(
        _ key: some RESPCommandArgument,
        group: String,
        id: String = "$",
        makeStream: Bool = false
    )
        async throws
    { _ = try await run(.xgroupCreate(key, group: group, id: id, makeStream: makeStream)) }
    /// `XGROUP DESTROY key group`.
    @discardableResult
    @inlinable
    public func xgroupDestroy(_ key: some RESPCommandArgument, group: String) async throws -> Int {
        try await run(.xgroupDestroy(key, group: group))
    }
}

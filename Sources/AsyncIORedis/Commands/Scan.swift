import RESPCodec

// The SCAN family as AsyncSequences: each page is one command, fetched when the previous page is
// used up, until the server's cursor comes back to 0. Like SCAN itself, an element may appear more
// than once if the keyspace changes meanwhile.

/// The elements of a `SCAN`, `SSCAN`, `HSCAN` or `ZSCAN`, page by page.
public struct ScanSequence<Element>: AsyncSequence {
    let client: any RedisClient
    let page: (String) -> Command<(cursor: String, elements: [Element])>

    public struct AsyncIterator: AsyncIteratorProtocol {
        let client: any RedisClient
        let page: (String) -> Command<(cursor: String, elements: [Element])>
        var cursor: String? = "0"
        var buffered: [Element] = []
        var position = 0

        public mutating func next() async throws -> Element? {
            while position == buffered.count {
                guard let current = cursor else { return nil }
                let (nextCursor, elements) = try await client.run(page(current))
                cursor = nextCursor == "0" ? nil : nextCursor
                buffered = elements
                position = 0
            }
            defer { position += 1 }
            return buffered[position]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(client: client, page: page) }
}

enum ScanDecode {
    /// `[cursor, [elements…]]`.
    static func page(_ reply: RESPValue) throws -> (cursor: String, elements: [RESPValue]) {
        guard let parts = reply.withoutAttributes.elements, parts.count == 2, let elements = parts[1].elements else {
            throw RedisError.unexpectedReply(reply)
        }
        return (try String(redisReply: parts[0]), elements)
    }

    static func writer(
        _ name: String,
        key: String?,
        cursor: String,
        match: String?,
        count: Int?,
        type: String?
    )
        -> CommandWriter
    {
        var writer = CommandWriter(
            count: 2 + (key == nil ? 0 : 1) + (match == nil ? 0 : 2) + (count == nil ? 0 : 2) + (type == nil ? 0 : 2)
        )
        writer.add(name)
        if let key { writer.add(key) }
        writer.add(cursor)
        if let match {
            writer.add("MATCH")
            writer.add(match)
        }
        if let count {
            writer.add("COUNT")
            writer.add(count)
        }
        if let type {
            writer.add("TYPE")
            writer.add(type)
        }
        return writer
    }
}

extension RedisClient {
    /// `SCAN 0 [MATCH pattern] [COUNT n] [TYPE type]`, every page: the keys.
    public func scan(match: String? = nil, count: Int? = nil, type: String? = nil) -> ScanSequence<String> {
        ScanSequence(client: self) { cursor in
            Command(ScanDecode.writer("SCAN", key: nil, cursor: cursor, match: match, count: count, type: type)) {
                let (next, elements) = try ScanDecode.page($0)
                return (next, try elements.map { try String(redisReply: $0) })
            }
        }
    }

    /// `SSCAN key …`: the set's members.
    public func sscan(_ key: String, match: String? = nil, count: Int? = nil) -> ScanSequence<String> {
        ScanSequence(client: self) { cursor in
            Command(ScanDecode.writer("SSCAN", key: key, cursor: cursor, match: match, count: count, type: nil)) {
                let (next, elements) = try ScanDecode.page($0)
                return (next, try elements.map { try String(redisReply: $0) })
            }
        }
    }

    /// `HSCAN key …`: the hash's fields and values.
    public func hscan(
        _ key: String,
        match: String? = nil,
        count: Int? = nil
    ) -> ScanSequence<(field: String, value: String)> {
        ScanSequence(client: self) { cursor in
            Command(ScanDecode.writer("HSCAN", key: key, cursor: cursor, match: match, count: count, type: nil)) {
                let (next, elements) = try ScanDecode.page($0)
                return (
                    next,
                    try Decode.pairs(.array(elements)).map {
                        (try String(redisReply: $0.0), try String(redisReply: $0.1))
                    }
                )
            }
        }
    }

    /// `ZSCAN key …`: the sorted set's members and scores.
    public func zscan(_ key: String, match: String? = nil, count: Int? = nil) -> ScanSequence<ScoredMember> {
        ScanSequence(client: self) { cursor in
            Command(ScanDecode.writer("ZSCAN", key: key, cursor: cursor, match: match, count: count, type: nil)) {
                let (next, elements) = try ScanDecode.page($0)
                return (next, try ScoreDecode.members(.array(elements)))
            }
        }
    }
}

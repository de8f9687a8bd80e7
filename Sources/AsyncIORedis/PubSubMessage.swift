import RESPCodec

/// One message published on a channel the ``Subscriber`` listens to: asyncio_redis's `PubSubReply`.
public struct PubSubMessage: Sendable, Hashable {
    /// Which kind of subscription delivered it.
    public enum Kind: Sendable, Hashable {
        /// `SUBSCRIBE channel`.
        case channel
        /// `PSUBSCRIBE pattern`: ``PubSubMessage/pattern`` is the pattern that matched.
        case pattern
        /// `SSUBSCRIBE shardchannel` (Redis 7).
        case shard
    }

    public var kind: Kind
    /// The channel it was published on.
    public var channel: String
    /// The pattern that matched, for ``Kind/pattern`` messages.
    public var pattern: String?
    /// The published bytes, as sent.
    public var payload: [UInt8]

    /// The payload as text (UTF-8, invalid bytes repaired): what the talk prints as `reply.value`.
    public var value: String { String(decoding: payload, as: UTF8.self) }

    public init(kind: Kind, channel: String, pattern: String? = nil, payload: [UInt8]) {
        self.kind = kind
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }

    /// The message of a `message`/`pmessage`/`smessage` frame, nil for a malformed one.
    init?(kind: [UInt8], _ elements: [RESPValue]) {
        switch (kind.first, elements.count) {
        case (UInt8(ascii: "p"), 4):
            guard let pattern = elements[1].string, let channel = elements[2].string, let payload = elements[3].bytes
            else { return nil }
            self.init(kind: .pattern, channel: channel, pattern: pattern, payload: payload)
        case (UInt8(ascii: "m"), 3), (UInt8(ascii: "s"), 3):
            guard let channel = elements[1].string, let payload = elements[2].bytes else { return nil }
            self.init(kind: kind.first == UInt8(ascii: "m") ? .channel : .shard, channel: channel, payload: payload)
        default:
            return nil
        }
    }
}

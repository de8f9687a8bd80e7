import RESPCodec

/// One Redis command, encoded, with what its reply means: the unit a ``Connection``, a ``Pool``, a
/// ``Pipeline`` and a ``Transaction`` all run.
///
/// Every typed command is a static factory here (`.get("k")`, `.set("k", "v", expiry: .seconds(5))`),
/// so one definition serves all four:
/// ```swift
/// let value = try await connection.run(.get("k"))      // or connection.get("k")
/// let reply = pipeline.add(.incr("counter"))           // read after the pipeline ran
/// ```
/// Arguments are written straight into ``bytes`` (the one copy of each value), and an error reply
/// throws ``RedisReplyError`` before ``decode`` sees it.
public struct Command<Value> {
    /// The command as RESP: an array of bulk strings.
    public var bytes: [UInt8]
    /// Turns the reply (never an error reply) into the command's value.
    public let decode: (RESPValue) throws -> Value

    /// A command of `arguments` whose reply is decoded by `decode`.
    @inlinable
    public init<each Argument: RESPCommandArgument>(
        _ argument: repeat each Argument,
        decode: @escaping (RESPValue) throws -> Value
    ) {
        bytes = []
        RESPEncoder.encodeCommand(repeat each argument, into: &bytes)
        self.decode = decode
    }

    // Commands of one to four arguments: Swift prefers these to the parameter pack when the count
    // matches, and, unlike the pack, they are specialized all the way to each argument's bytes
    // (see `RESPEncoder.encodeCommand`).

    /// A command of 1 argument (the name counts) whose reply is decoded by `decode`.
    @inlinable
    public init<A: RESPCommandArgument>(_ first: A, decode: @escaping (RESPValue) throws -> Value) {
        bytes = []
        // One allocation: each header takes fewer than 16 bytes.
        bytes.reserveCapacity(32 + first.respPayloadCount)
        RESPEncoder.encodeCommand(first, into: &bytes)
        self.decode = decode
    }

    /// A command of 2 arguments (the name counts) whose reply is decoded by `decode`.
    @inlinable
    public init<A: RESPCommandArgument, B: RESPCommandArgument>(
        _ first: A,
        _ second: B,
        decode: @escaping (RESPValue) throws -> Value
    ) {
        bytes = []
        // One allocation: each header takes fewer than 16 bytes.
        bytes.reserveCapacity(48 + first.respPayloadCount + second.respPayloadCount)
        RESPEncoder.encodeCommand(first, second, into: &bytes)
        self.decode = decode
    }

    /// A command of 3 arguments (the name counts) whose reply is decoded by `decode`.
    @inlinable
    public init<A: RESPCommandArgument, B: RESPCommandArgument, C: RESPCommandArgument>(
        _ first: A,
        _ second: B,
        _ third: C,
        decode: @escaping (RESPValue) throws -> Value
    ) {
        bytes = []
        // One allocation: each header takes fewer than 16 bytes.
        bytes.reserveCapacity(64 + first.respPayloadCount + second.respPayloadCount + third.respPayloadCount)
        RESPEncoder.encodeCommand(first, second, third, into: &bytes)
        self.decode = decode
    }

    /// A command of 4 arguments (the name counts) whose reply is decoded by `decode`.
    @inlinable
    public init<A: RESPCommandArgument, B: RESPCommandArgument, C: RESPCommandArgument, D: RESPCommandArgument>(
        _ first: A,
        _ second: B,
        _ third: C,
        _ fourth: D,
        decode: @escaping (RESPValue) throws -> Value
    ) {
        bytes = []
        bytes.reserveCapacity(
            80 + first.respPayloadCount + second.respPayloadCount + third.respPayloadCount + fourth.respPayloadCount
        )  // one allocation: headers take < 16 bytes each
        RESPEncoder.encodeCommand(first, second, third, fourth, into: &bytes)
        self.decode = decode
    }

    /// A command already encoded by a ``CommandWriter``.
    @inlinable
    public init(_ writer: CommandWriter, decode: @escaping (RESPValue) throws -> Value) {
        bytes = writer.bytes
        self.decode = decode
    }

    /// The value of `reply`: ``RedisReplyError`` for an error reply, else ``decode``.
    @inlinable
    public func value(of reply: RESPValue) throws -> Value {
        if let error = reply.replyError { throw error }
        return try decode(reply)
    }
}

extension Command where Value: RedisDecodable {
    /// A command whose reply is decoded as `Value` (see ``RedisDecodable``).
    @inlinable
    public init<each Argument: RESPCommandArgument>(_ argument: repeat each Argument) {
        self.init(repeat each argument) { try Value(redisReply: $0) }
    }

    /// A command of 1 argument whose reply is decoded as `Value`.
    @inlinable
    public init<A: RESPCommandArgument>(_ first: A) {
        self.init(first) { try Value(redisReply: $0) }
    }

    /// A command of 2 arguments whose reply is decoded as `Value`.
    @inlinable
    public init<A: RESPCommandArgument, B: RESPCommandArgument>(_ first: A, _ second: B) {
        self.init(first, second) { try Value(redisReply: $0) }
    }

    /// A command of 3 arguments whose reply is decoded as `Value`.
    @inlinable
    public init<A: RESPCommandArgument, B: RESPCommandArgument, C: RESPCommandArgument>(
        _ first: A,
        _ second: B,
        _ third: C
    ) {
        self.init(first, second, third) { try Value(redisReply: $0) }
    }

    /// A command of 4 arguments whose reply is decoded as `Value`.
    @inlinable
    public init<A: RESPCommandArgument, B: RESPCommandArgument, C: RESPCommandArgument, D: RESPCommandArgument>(
        _ first: A,
        _ second: B,
        _ third: C,
        _ fourth: D
    ) {
        self.init(first, second, third, fourth) { try Value(redisReply: $0) }
    }

    /// A command encoded by a ``CommandWriter`` whose reply is decoded as `Value`.
    @inlinable
    public init(_ writer: CommandWriter) {
        self.init(writer) { try Value(redisReply: $0) }
    }
}

/// Builds a command whose number of arguments is known only at run time (`MSET`, `HSET`, `ZADD`…).
///
/// Declare the count first, then add exactly that many arguments; each is written once, as a bulk
/// string, straight into the buffer.
public struct CommandWriter {
    /// The encoded command so far.
    public var bytes: [UInt8] { buffer }
    @usableFromInline var buffer: [UInt8] = []
    @usableFromInline var remaining: Int

    /// Starts a command of `count` arguments (the command name counts).
    @inlinable
    public init(count: Int) {
        remaining = count
        buffer.reserveCapacity(16 + count * 16)
        RESPEncoder.appendCommandHeader(count: count, to: &buffer)
    }

    /// Appends one argument.
    @inlinable
    public mutating func add(_ argument: some RESPCommandArgument) {
        precondition(remaining > 0, "CommandWriter: more arguments than declared")
        remaining -= 1
        RESPEncoder.appendArgument(argument, to: &buffer)
    }

    /// Appends several arguments of one type.
    @inlinable
    public mutating func add<Arguments: Sequence>(contentsOf arguments: Arguments)
    where Arguments.Element: RESPCommandArgument {
        for argument in arguments { add(argument) }
    }
}

// MARK: - Reply decoding

/// A type a reply can be decoded as: `String`, `[UInt8]`, integers, `Double`, `Bool`, `RESPValue`,
/// and optionals and arrays of those.
///
/// A null reply decodes only as an `Optional`; anything else of the wrong shape throws
/// ``RedisError/unexpectedReply(_:)``.
public protocol RedisDecodable {
    /// Decodes `reply`, which is never an error reply.
    init(redisReply reply: RESPValue) throws
}

extension RESPValue: RedisDecodable {
    public init(redisReply reply: RESPValue) { self = reply }
}

extension String: RedisDecodable {
    public init(redisReply reply: RESPValue) throws {
        switch reply.withoutAttributes {
        case .simpleString(let bytes), .bulkString(let bytes), .verbatimString(_, let bytes):
            self = String(decoding: bytes, as: UTF8.self)
        case .integer(let value): self = String(value)
        case .double(let value): self = RESPEncoderText.double(value)
        case .bigNumber(let digits): self = digits
        default: throw RedisError.unexpectedReply(reply)
        }
    }
}

extension Array: RedisDecodable where Element: RedisDecodable {
    @inlinable
    public init(redisReply reply: RESPValue) throws {
        if Element.self == UInt8.self, let bytes = reply.withoutAttributes.bytes, !reply.isError {
            self = bytes as! [Element]  // the one byte-array case: [UInt8] is the value's payload
            return
        }
        guard let elements = reply.withoutAttributes.elements else { throw RedisError.unexpectedReply(reply) }
        self = try elements.map { try Element(redisReply: $0) }
    }
}

extension UInt8: RedisDecodable {
    public init(redisReply reply: RESPValue) throws {
        guard case .integer(let value) = reply.withoutAttributes, let byte = UInt8(exactly: value) else {
            throw RedisError.unexpectedReply(reply)
        }
        self = byte
    }
}

extension Int64: RedisDecodable {
    public init(redisReply reply: RESPValue) throws {
        switch reply.withoutAttributes {
        case .integer(let value): self = value
        case .bulkString(let bytes), .simpleString(let bytes):
            guard let value = Int64(String(decoding: bytes, as: UTF8.self)) else {
                throw RedisError.unexpectedReply(reply)
            }
            self = value
        default: throw RedisError.unexpectedReply(reply)
        }
    }
}

extension Int: RedisDecodable {
    public init(redisReply reply: RESPValue) throws { self = Int(try Int64(redisReply: reply)) }
}

extension Double: RedisDecodable {
    public init(redisReply reply: RESPValue) throws {
        switch reply.withoutAttributes {
        case .double(let value): self = value
        case .integer(let value): self = Double(value)
        case .bulkString(let bytes), .simpleString(let bytes):
            // RESP2 sends doubles as text; Redis writes `inf`/`-inf`.
            let text = String(decoding: bytes, as: UTF8.self)
            switch text {
            case "inf", "+inf": self = .infinity
            case "-inf": self = -.infinity
            default:
                guard let value = Double(text) else { throw RedisError.unexpectedReply(reply) }
                self = value
            }
        default: throw RedisError.unexpectedReply(reply)
        }
    }
}

extension Bool: RedisDecodable {
    /// `:1`/`:0`, `#t`/`#f`, or `+OK` (true).
    public init(redisReply reply: RESPValue) throws {
        switch reply.withoutAttributes {
        case .integer(let value): self = value != 0
        case .boolean(let value): self = value
        case .simpleString: self = true
        default: throw RedisError.unexpectedReply(reply)
        }
    }
}

extension Optional: RedisDecodable where Wrapped: RedisDecodable {
    @inlinable
    public init(redisReply reply: RESPValue) throws {
        self = reply.withoutAttributes.isNull ? nil : try Wrapped(redisReply: reply)
    }
}

/// Double formatting as Redis prints scores (`1`, `1.5`, `inf`).
enum RESPEncoderText {
    static func double(_ value: Double) -> String {
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == value.rounded(), abs(value) < 1e17 { return String(Int64(value)) }
        return value.description
    }
}

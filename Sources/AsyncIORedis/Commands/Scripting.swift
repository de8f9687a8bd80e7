import RESPCodec

// Lua scripts: EVAL, EVALSHA, and a Script object that runs by SHA1 and falls back to EVAL when the
// server does not know the script (NOSCRIPT: a restarted server, SCRIPT FLUSH), as redis-py's
// `register_script` does.

/// A Lua script, known by its SHA1 (computed here, no round trip).
///
/// ```swift
/// let script = Script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
/// let value = try await connection.evaluate(script, keys: ["counter"], arguments: ["5"])
/// ```
public struct Script: Sendable, Hashable {
    public let source: String
    /// The lowercase hex SHA1 of the source, as `SCRIPT LOAD` answers.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        sha1 = SHA1.hex(Array(source.utf8))
    }
}

extension Command where Value == RESPValue {
    /// `EVAL script numkeys key … arg …`.
    public static func eval(_ source: String, keys: [String] = [], arguments: [String] = []) -> Self {
        Self(scriptWriter("EVAL", source, keys, arguments))
    }
    /// `EVALSHA sha1 numkeys key … arg …`.
    public static func evalsha(_ sha1: String, keys: [String] = [], arguments: [String] = []) -> Self {
        Self(scriptWriter("EVALSHA", sha1, keys, arguments))
    }

    static func scriptWriter(_ name: String, _ script: String, _ keys: [String], _ arguments: [String]) -> CommandWriter
    {
        var writer = CommandWriter(count: 3 + keys.count + arguments.count)
        writer.add(name)
        writer.add(script)
        writer.add(keys.count)
        writer.add(contentsOf: keys)
        writer.add(contentsOf: arguments)
        return writer
    }
}

extension RedisClient {
    /// Runs `script` by SHA1, and by source when the server answers NOSCRIPT.
    public func evaluate(_ script: Script, keys: [String] = [], arguments: [String] = []) async throws -> RESPValue {
        do {
            return try await run(.evalsha(script.sha1, keys: keys, arguments: arguments))
        } catch let error as RedisReplyError where error.code == "NOSCRIPT" {
            return try await run(.eval(script.source, keys: keys, arguments: arguments))
        }
    }
    /// `EVAL`.
    @inlinable
    public func eval(_ source: String, keys: [String] = [], arguments: [String] = []) async throws -> RESPValue {
        try await run(.eval(source, keys: keys, arguments: arguments))
    }
    /// `EVALSHA`.
    @inlinable
    public func evalsha(_ sha1: String, keys: [String] = [], arguments: [String] = []) async throws -> RESPValue {
        try await run(.evalsha(sha1, keys: keys, arguments: arguments))
    }
    /// `SCRIPT LOAD source`: the SHA1.
    @inlinable
    public func scriptLoad(_ source: String) async throws -> String { try await run(Command("SCRIPT", "LOAD", source)) }
}

/// SHA-1 (FIPS 180-4), for script IDs only: Redis names scripts by it. Not for security.
enum SHA1 {
    static func hex(_ message: [UInt8]) -> String {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (
            0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0
        )
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        let bits = UInt64(message.count) * 8
        for shift in stride(from: 56, through: 0, by: -8) {
            padded.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
        }
        var w = [UInt32](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: padded.count, by: 64) {
            for i in 0..<16 {
                w[i] = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(padded[chunk + i * 4 + $1]) }
            }
            for i in 16..<80 {
                let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
                w[i] = x << 1 | x >> 31
            }
            var (a, b, c, d, e) = h
            for i in 0..<80 {
                let (f, k): (UInt32, UInt32) =
                    switch i {
                    case 0..<20: ((b & c) | (~b & d), 0x5A82_7999)
                    case 20..<40: (b ^ c ^ d, 0x6ED9_EBA1)
                    case 40..<60: ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                    default: (b ^ c ^ d, 0xCA62_C1D6)
                    }
                let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[i]
                (e, d, c, b, a) = (d, c, b << 30 | b >> 2, a, temp)
            }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
        }
        return [h.0, h.1, h.2, h.3, h.4].map { word in
            let text = String(word, radix: 16)
            return String(repeating: "0", count: 8 - text.count) + text
        }.joined()
    }
}

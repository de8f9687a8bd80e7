import Testing
import WebSocketCodec

/// One parser vector: the bytes a peer sends and what the parser must make of them.
struct WebSocketVector: CustomTestStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var events: [WebSocketEvent]
    var error: WebSocketError?
    var role: WebSocketRole = .server
    var limits = WebSocketLimits(maxMessageSize: 1 << 20)

    var testDescription: String { name }
}

let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
let euro = Array("€".utf8)  // E2 82 AC

/// Vectors grouped by the Autobahn testsuite's case categories.
let webSocketVectors: [WebSocketVector] =
    framing + pingPong + reservedBits + opcodes + fragmentation
    + utf8Handling + closeHandling + limits + masking

// MARK: - 1 Framing

let framing: [WebSocketVector] =
    [0, 1, 125, 126, 127, 128, 65535, 65536].flatMap { length in
        [
            WebSocketVector(
                name: "1.1 text of \(length) bytes",
                bytes: rawFrame(1, Array(repeating: 0x2A, count: length)),
                events: [.text(String(repeating: "*", count: length))]
            ),
            WebSocketVector(
                name: "1.2 binary of \(length) bytes",
                bytes: rawFrame(2, Array(repeating: 0xFE, count: length)),
                events: [.binary(Array(repeating: 0xFE, count: length))]
            ),
        ]
    } + [
        WebSocketVector(
            name: "1.x 16-bit length field used for a short payload is accepted",
            bytes: [0x82, 0xFE, 0x00, 0x03] + mask + zip([1, 2, 3], mask).map { $0 ^ $1 },
            events: [.binary([1, 2, 3])]
        ),
        WebSocketVector(
            name: "1.x server frame to a client: unmasked",
            bytes: rawFrame(1, text("Hello"), mask: nil),
            events: [.text("Hello")],
            role: .client
        ),
        WebSocketVector(
            name: "1.x RFC 6455 §5.7 masked Hello",
            bytes: [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58],
            events: [.text("Hello")]
        ),
    ]

// MARK: - 2 Pings and pongs

let pingPong: [WebSocketVector] = [
    WebSocketVector(name: "2.1 empty ping", bytes: rawFrame(9, []), events: [.ping([])]),
    WebSocketVector(
        name: "2.2 ping with text",
        bytes: rawFrame(9, text("Hello, world!")),
        events: [.ping(text("Hello, world!"))]
    ),
    WebSocketVector(
        name: "2.3 ping with binary",
        bytes: rawFrame(9, [0, 0xFF, 0xFE, 0xFD, 0xFC]),
        events: [.ping([0, 0xFF, 0xFE, 0xFD, 0xFC])]
    ),
    WebSocketVector(
        name: "2.4 ping of 125 bytes",
        bytes: rawFrame(9, Array(repeating: 0xFE, count: 125)),
        events: [.ping(Array(repeating: 0xFE, count: 125))]
    ),
    WebSocketVector(
        name: "2.5 ping of 126 bytes",
        bytes: rawFrame(9, Array(repeating: 0xFE, count: 126)),
        events: [],
        error: .controlFrameTooLong(length: 126)
    ),
    WebSocketVector(
        name: "2.6 unsolicited pong",
        bytes: rawFrame(10, text("unsolicited")),
        events: [.pong(text("unsolicited"))]
    ),
    WebSocketVector(
        name: "2.7 ten pings",
        bytes: (0..<10).flatMap { rawFrame(9, [UInt8($0)]) },
        events: (0..<10).map { .ping([UInt8($0)]) }
    ),
]

// MARK: - 3 Reserved bits

let reservedBits: [WebSocketVector] =
    (1...7).map { rsv in
        WebSocketVector(
            name: "3.\(rsv) RSV=\(rsv) on a text frame",
            bytes: rawFrame(1, text("Hello"), rsv: UInt8(rsv)),
            events: [],
            error: .reservedBits
        )
    } + [
        WebSocketVector(
            name: "3.x RSV1 on a ping after a message",
            bytes: rawFrame(1, text("ok")) + rawFrame(9, [], rsv: 4),
            events: [.text("ok")],
            error: .reservedBits
        )
    ]

// MARK: - 4 Opcodes

let opcodes: [WebSocketVector] =
    ([3, 4, 5, 6, 7, 11, 12, 13, 14, 15] as [UInt8]).map { opcode in
        WebSocketVector(
            name: "4.x reserved opcode \(opcode)",
            bytes: rawFrame(opcode, [1, 2]),
            events: [],
            error: .reservedOpcode(opcode)
        )
    } + [
        WebSocketVector(
            name: "4.1.3 reserved opcode after a message",
            bytes: rawFrame(1, text("x")) + rawFrame(5, []),
            events: [.text("x")],
            error: .reservedOpcode(5)
        )
    ]

// MARK: - 5 Fragmentation

let fragmentation: [WebSocketVector] = [
    WebSocketVector(
        name: "5.1 fragmented ping",
        bytes: rawFrame(9, text("fr"), fin: false) + rawFrame(0, text("ag")),
        events: [],
        error: .fragmentedControlFrame
    ),
    WebSocketVector(
        name: "5.3 text in two fragments",
        bytes: rawFrame(1, text("frag"), fin: false) + rawFrame(0, text("ment")),
        events: [.text("fragment")]
    ),
    WebSocketVector(
        name: "5.6 ping between fragments",
        bytes: rawFrame(1, text("fra"), fin: false) + rawFrame(9, text("p")) + rawFrame(0, text("gm"), fin: false)
            + rawFrame(10, []) + rawFrame(0, text("ent")),
        events: [.ping(text("p")), .pong([]), .text("fragment")]
    ),
    WebSocketVector(
        name: "5.x binary in three fragments, one empty",
        bytes: rawFrame(2, [1], fin: false) + rawFrame(0, [], fin: false) + rawFrame(0, [2, 3]),
        events: [.binary([1, 2, 3])]
    ),
    WebSocketVector(
        name: "5.9 continuation with nothing to continue",
        bytes: rawFrame(0, text("x")),
        events: [],
        error: .unexpectedContinuation
    ),
    WebSocketVector(
        name: "5.18 text frame inside a fragmented message",
        bytes: rawFrame(1, text("a"), fin: false) + rawFrame(1, text("b")),
        events: [],
        error: .expectedContinuation
    ),
    WebSocketVector(
        name: "5.x close between fragments ends the parse",
        bytes: rawFrame(1, text("a"), fin: false) + rawFrame(8, [0x03, 0xE8]) + rawFrame(0, text("b")),
        events: [.close(.normalClosure, reason: "")]
    ),
]

// MARK: - 6 UTF-8 handling

let invalidUTF8: [(String, [UInt8])] = [
    ("lone continuation", [0x80]), ("overlong slash", [0xC0, 0xAF]), ("overlong NUL", [0xE0, 0x80, 0x80]),
    ("surrogate", [0xED, 0xA0, 0x80]), ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]), ("FF", [0xFF]),
    ("F5", [0xF5, 0x80, 0x80, 0x80]), ("truncated then ASCII", [0xE2, 0x82, 0x41]),
    ("κόσμε then invalid", Array("κόσμε".utf8) + [0xED, 0xA0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64]),
]

let utf8Handling: [WebSocketVector] =
    [
        WebSocketVector(name: "6.1 empty text", bytes: rawFrame(1, []), events: [.text("")]),
        WebSocketVector(
            name: "6.2 κόσμε",
            bytes: rawFrame(1, Array("Hello-µ@ßöäüàá-UTF-8!!".utf8)),
            events: [.text("Hello-µ@ßöäüàá-UTF-8!!")]
        ),
        WebSocketVector(
            name: "6.2.3 € split across fragments",
            bytes: rawFrame(1, [euro[0]], fin: false) + rawFrame(0, [euro[1]], fin: false) + rawFrame(0, [euro[2]]),
            events: [.text("€")]
        ),
        WebSocketVector(
            name: "6.x U+10FFFF and U+FFFF",
            bytes: rawFrame(1, [0xF4, 0x8F, 0xBF, 0xBF, 0xEF, 0xBF, 0xBF]),
            events: [.text("\u{10FFFF}\u{FFFF}")]
        ),
        WebSocketVector(
            name: "6.x message ends inside a code point",
            bytes: rawFrame(1, [0x41, 0xE2, 0x82]),
            events: [],
            error: .invalidUTF8
        ),
        WebSocketVector(
            name: "6.x fragmented message ends inside a code point",
            bytes: rawFrame(1, [0xF0, 0x9F], fin: false) + rawFrame(0, [0x98]),
            events: [],
            error: .invalidUTF8
        ),
    ]
    + invalidUTF8.map { name, bytes in
        WebSocketVector(name: "6.x invalid UTF-8: \(name)", bytes: rawFrame(1, bytes), events: [], error: .invalidUTF8)
    }

// MARK: - 7 Close handling

let validCloseCodes: [UInt16] = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
let invalidCloseCodes: [UInt16] = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]

let closeHandling: [WebSocketVector] =
    [
        WebSocketVector(name: "7.3.1 empty close", bytes: rawFrame(8, []), events: [.close(nil, reason: "")]),
        WebSocketVector(
            name: "7.3.2 close with one byte",
            bytes: rawFrame(8, [0x03]),
            events: [],
            error: .invalidClosePayload
        ),
        WebSocketVector(
            name: "7.3.4 close with a reason",
            bytes: rawFrame(8, [0x03, 0xE8] + text("Hello World!")),
            events: [.close(.normalClosure, reason: "Hello World!")]
        ),
        WebSocketVector(
            name: "7.3.5 close with a 123-byte reason",
            bytes: rawFrame(8, [0x03, 0xE8] + Array(repeating: 0x2A, count: 123)),
            events: [.close(.normalClosure, reason: String(repeating: "*", count: 123))]
        ),
        WebSocketVector(
            name: "7.3.6 close with a 124-byte reason",
            bytes: rawFrame(8, [0x03, 0xE8] + Array(repeating: 0x2A, count: 124)),
            events: [],
            error: .controlFrameTooLong(length: 126)
        ),
        WebSocketVector(
            name: "7.5.1 close reason that is not UTF-8",
            bytes: rawFrame(8, [0x03, 0xE8, 0xCE, 0xBA, 0xE1, 0xBD]),
            events: [],
            error: .invalidUTF8
        ),
        WebSocketVector(
            name: "7.1.x data after close is ignored",
            bytes: rawFrame(8, [0x03, 0xE8]) + rawFrame(1, text("late")) + [0xFF, 0xFF],
            events: [.close(.normalClosure, reason: "")]
        ),
    ]
    + validCloseCodes.map { code in
        WebSocketVector(
            name: "7.7 valid close code \(code)",
            bytes: rawFrame(8, [UInt8(code >> 8), UInt8(code & 0xFF)]),
            events: [.close(WebSocketCloseCode(rawValue: code), reason: "")]
        )
    }
    + invalidCloseCodes.map { code in
        WebSocketVector(
            name: "7.9 invalid close code \(code)",
            bytes: rawFrame(8, [UInt8(code >> 8), UInt8(code & 0xFF)]),
            events: [],
            error: .invalidCloseCode(code)
        )
    }

// MARK: - 9 Limits

let limits: [WebSocketVector] = [
    WebSocketVector(
        name: "9.x a frame declaring 1 GiB fails on its header",
        bytes: rawFrame(2, [], declaredLength: 1 << 30),
        events: [],
        error: .frameTooLarge(length: 1 << 30, limit: 1 << 20)
    ),
    WebSocketVector(
        name: "9.x 64-bit length with its top bit set",
        bytes: rawFrame(2, [], declaredLength: 1 << 63),
        events: [],
        error: .invalidLength
    ),
    WebSocketVector(
        name: "9.x a message over the limit across fragments",
        bytes: rawFrame(2, Array(repeating: 0, count: 700_000), fin: false)
            + rawFrame(0, Array(repeating: 0, count: 700_000)),
        events: [],
        error: .messageTooLarge(limit: 1 << 20)
    ),
    WebSocketVector(
        name: "9.x a message of exactly the limit",
        bytes: rawFrame(2, Array(repeating: 7, count: 1 << 20)),
        events: [.binary(Array(repeating: 7, count: 1 << 20))]
    ),
    WebSocketVector(
        name: "9.x frame limit below the message limit",
        bytes: rawFrame(1, Array(repeating: 0x61, count: 101), fin: false),
        events: [],
        error: .frameTooLarge(length: 101, limit: 100),
        limits: WebSocketLimits(maxFrameSize: 100, maxMessageSize: 1000)
    ),
]

// MARK: - Masking rules per role

let masking: [WebSocketVector] = [
    WebSocketVector(
        name: "unmasked frame from a client",
        bytes: rawFrame(1, text("x"), mask: nil),
        events: [],
        error: .unmaskedFrame
    ),
    WebSocketVector(
        name: "masked frame from a server",
        bytes: rawFrame(1, text("x")),
        events: [],
        error: .maskedFrame,
        role: .client
    ),
    WebSocketVector(
        name: "unmasked ping from a client",
        bytes: rawFrame(9, [], mask: nil),
        events: [],
        error: .unmaskedFrame
    ),
    WebSocketVector(
        name: "all-zero mask is still a mask",
        bytes: rawFrame(1, text("zero"), mask: [0, 0, 0, 0]),
        events: [.text("zero")]
    ),
]

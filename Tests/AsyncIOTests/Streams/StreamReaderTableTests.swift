import AsyncIO
import AsyncIOTesting
import Testing

/// A read operation in a table case.
enum ReadOp: Sendable, CustomStringConvertible {
    case read(Int)
    case readLine
    case readExactly(Int)
    case readUntil(String)
    case readUntilAny([String])

    func run(on reader: StreamReader) async throws -> [UInt8] {
        switch self {
        case .read(let n): try await reader.read(n)
        case .readLine: try await reader.readLine()
        case .readExactly(let n): try await reader.readExactly(n)
        case .readUntil(let separator): try await reader.readUntil(Array(separator.utf8))
        case .readUntilAny(let separators): try await reader.readUntil(anyOf: separators.map { Array($0.utf8) })
        }
    }

    var description: String {
        switch self {
        case .read(let n): "read(\(n))"
        case .readLine: "readLine()"
        case .readExactly(let n): "readExactly(\(n))"
        case .readUntil(let separator): "readUntil(\(separator.debugDescription))"
        case .readUntilAny(let separators): "readUntil(anyOf: \(separators))"
        }
    }
}

/// How the case's bytes reach the reader.
enum Delivery: String, Sendable, CaseIterable {
    /// Everything (and EOF) is fed before the first read.
    case upfront
    /// Each chunk is fed by another task, one loop iteration apart, while the reads wait.
    case trickle
    /// Like `trickle`, but every byte is a chunk of its own (separators split across feeds).
    case byteByByte
}

/// Renders a read's outcome as text, so a case's expectation is a literal list.
func outcome(_ body: () async throws -> [UInt8]) async -> String {
    do {
        return "ok " + String(decoding: try await body(), as: UTF8.self).debugDescription
    } catch let error as AsyncIOError {
        switch error {
        case .incompleteRead(let partial, let expected):
            return
                "incompleteRead(\(String(decoding: partial, as: UTF8.self).debugDescription), \(expected.map(String.init) ?? "nil"))"
        case .limitOverrun(let consumed): return "limitOverrun(\(consumed))"
        case .invalidArgument: return "invalidArgument"
        case .invalidState: return "invalidState"
        default: return "\(error)"
        }
    } catch {
        return "error \(error)"
    }
}

struct ReadCase: Sendable, CustomTestStringConvertible {
    let name: String
    let chunks: [String]
    let eof: Bool
    let ops: [ReadOp]
    let expected: [String]

    var testDescription: String { name }
}

/// Cases whose outcome does not depend on how the bytes are split into feeds.
let readCases: [ReadCase] = [
    ReadCase(
        name: "readLine returns lines with their newline, then the unterminated rest, then empty",
        chunks: ["a\nbb", "\nccc"],
        eof: true,
        ops: [.readLine, .readLine, .readLine, .readLine],
        expected: [#"ok "a\n""#, #"ok "bb\n""#, #"ok "ccc""#, #"ok """#]
    ),
    ReadCase(
        name: "readUntil finds a multi-byte separator split across feeds",
        chunks: ["helloE", "N", "D!"],
        eof: true,
        ops: [.readUntil("END"), .read(-1)],
        expected: [#"ok "helloEND""#, #"ok "!""#]
    ),
    ReadCase(
        name: "readUntil at EOF without the separator gives everything, partial separator included",
        chunks: ["abcE", "N"],
        eof: true,
        ops: [.readUntil("END"), .read(-1)],
        expected: [#"incompleteRead("abcEN", nil)"#, #"ok """#]
    ),
    ReadCase(
        name: "readUntil with several separators returns the shortest match",
        chunks: ["a\r\nb\nc\r\n\r\nd"],
        eof: true,
        ops: [
            .readUntilAny(["\r\n\r\n", "\n", "\r\n"]), .readUntilAny(["\r\n", "\n"]),
            .readUntilAny(["\r\n\r\n", "\r\n"]), .readUntilAny(["\n"]),
        ],
        expected: [#"ok "a\r\n""#, #"ok "b\n""#, #"ok "c\r\n""#, #"ok "\r\n""#]
    ),
    ReadCase(
        name: "readUntil with several separators prefers the one that ends first, not the first listed",
        chunks: ["xxENDyy;"],
        eof: true,
        ops: [.readUntilAny([";", "END"]), .readUntilAny([";", "END"])],
        expected: [#"ok "xxEND""#, #"ok "yy;""#]
    ),
    ReadCase(
        name: "readExactly reads exact counts and reports the partial bytes at EOF",
        chunks: ["abc", "def", "g"],
        eof: true,
        ops: [.readExactly(2), .readExactly(4), .readExactly(5), .read(-1)],
        expected: [#"ok "ab""#, #"ok "cdef""#, #"incompleteRead("g", 5)"#, #"ok """#]
    ),
    ReadCase(
        name: "read(-1) reads everything until EOF, then empty",
        chunks: ["abc", "def", "ghi"],
        eof: true,
        ops: [.read(-1), .read(-1), .read(10)],
        expected: [#"ok "abcdefghi""#, #"ok """#, #"ok """#]
    ),
    ReadCase(
        name: "zero-length reads return at once",
        chunks: ["abc"],
        eof: true,
        ops: [.read(0), .readExactly(0), .readExactly(3)],
        expected: [#"ok """#, #"ok """#, #"ok "abc""#]
    ),
    ReadCase(
        name: "bad arguments are typed errors and consume nothing",
        chunks: ["a\n"],
        eof: true,
        ops: [.readExactly(-1), .readUntil(""), .readUntilAny([]), .readUntilAny(["", "\n"]), .readLine],
        expected: ["invalidArgument", "invalidArgument", "invalidArgument", "invalidArgument", #"ok "a\n""#]
    ),
    ReadCase(
        name: "a line of 100 000 bytes is read whole when the limit allows it",
        chunks: [String(repeating: "x", count: 99_999) + "\n", "tail"],
        eof: true,
        ops: [.read(0), .readLine, .readLine],
        expected: [#"ok """#, "ok " + (String(repeating: "x", count: 99_999) + "\n").debugDescription, #"ok "tail""#]
    ),
]

@Suite struct StreamReaderTableTests {
    @Test(arguments: readCases, Delivery.allCases)
    func readOutcomesDoNotDependOnHowBytesArrive(_ testCase: ReadCase, _ delivery: Delivery) async throws {
        let outcomes = try await EventLoopThread.run(clock: VirtualClock()) { loop in
            let reader = try StreamReader(limit: 1 << 20)
            var chunks = testCase.chunks.map { Array($0.utf8) }
            if delivery == .byteByByte { chunks = chunks.joined().map { [$0] } }
            let feed = { () async throws -> Void in
                _ = loop.time  // isolated to the loop (see StreamsSocketTests, #2)
                for chunk in chunks {
                    try reader.feedData(chunk)
                    if delivery != .upfront { try await sleep(.zero) }
                }
                if testCase.eof { reader.feedEOF() }
            }
            var feeder: LoopTask<Void>?
            if delivery == .upfront {
                try await feed()
            } else {
                feeder = loop.createTask(feed)
            }
            var outcomes: [String] = []
            for op in testCase.ops {
                outcomes.append(await outcome { try await op.run(on: reader) })
            }
            try await feeder?.value
            return outcomes
        }
        #expect(outcomes == testCase.expected)
    }
}

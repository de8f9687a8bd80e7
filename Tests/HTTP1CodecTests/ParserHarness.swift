import HTTP1Codec

/// A parser event in a form that tests can compare with a literal list.
///
/// Body events are merged when adjacent, because how a body is cut into pieces depends on how
/// the input was split; everything else must be identical for every split.
enum TestEvent: Equatable, CustomStringConvertible {
    case head(Head)
    case body(String)
    case end(trailers: [String]?)

    /// The parts of a head the tests check: start line, framing decisions and fields as "name: value".
    struct Head: Equatable {
        var start: String
        var framing: BodyFraming
        var keepAlive: Bool
        var expectsContinue = false
        var isUpgrade = false
        var fields: [String]
    }

    var description: String {
        switch self {
        case .head(let h):
            "head(\(h.start) \(h.framing) keepAlive=\(h.keepAlive) 100=\(h.expectsContinue) upgrade=\(h.isUpgrade) \(h.fields))"
        case .body(let b): "body(\(b.debugDescription))"
        case .end(let t): "end(\(t.map { "\($0)" } ?? "nil"))"
        }
    }
}

func text(_ bytes: some Sequence<UInt8>) -> String {
    String(decoding: Array(bytes), as: UTF8.self)
}

func fieldStrings(_ lines: HTTPFieldLines) -> [String] {
    lines.map { "\(text($0.name)): \(text($0.value))" }
}

/// How a test cuts the input into feeds.
enum Split: CaseIterable, CustomStringConvertible {
    case whole
    case byteByByte
    case halves

    var description: String {
        switch self {
        case .whole: "whole"
        case .byteByByte: "byte by byte"
        case .halves: "two halves"
        }
    }

    func pieces(_ bytes: [UInt8]) -> [[UInt8]] {
        switch self {
        case .whole: [bytes]
        case .byteByByte: bytes.map { [$0] }
        case .halves: [Array(bytes[..<(bytes.count / 2)]), Array(bytes[(bytes.count / 2)...])]
        }
    }
}

/// What a parser run produced: its events and the error that stopped it, if any.
struct Outcome: Equatable {
    var events: [TestEvent]
    var error: HTTPParseError?
}

private func append(_ event: TestEvent, to events: inout [TestEvent]) {
    if case .body(let more) = event, case .body(let previous)? = events.last {
        events[events.count - 1] = .body(previous + more)
    } else {
        events.append(event)
    }
}

/// Feeds `pieces` to a RequestParser, draining events after each, then finishes the stream.
func runRequestParser(_ pieces: [[UInt8]], limits: HTTPParserLimits = .default) -> Outcome {
    var parser = RequestParser(limits: limits)
    var events: [TestEvent] = []
    func drain() throws(HTTPParseError) {
        while let event = try parser.next() {
            switch event {
            case .head(let head):
                let start = "\(text(head.methodBytes)) \(text(head.targetBytes)) \(head.version)"
                let h = TestEvent.Head(
                    start: start,
                    framing: head.framing,
                    keepAlive: head.keepAlive,
                    expectsContinue: head.expectsContinue,
                    isUpgrade: head.isUpgrade,
                    fields: fieldStrings(head.fields)
                )
                append(.head(h), to: &events)
            case .body(let bytes): append(.body(text(bytes)), to: &events)
            case .end(let trailers): append(.end(trailers: trailers.map(fieldStrings)), to: &events)
            }
        }
    }
    do throws(HTTPParseError) {
        for piece in pieces {
            parser.feed(piece.span)
            try drain()
        }
        parser.finish()
        try drain()
        return Outcome(events: events, error: nil)
    } catch {
        return Outcome(events: events, error: error)
    }
}

/// Feeds `pieces` to a ResponseParser answering requests of kind `method`, then finishes.
func runResponseParser(
    _ pieces: [[UInt8]],
    method: ResponseParser.RequestMethod,
    limits: HTTPParserLimits = .default
) -> Outcome {
    var parser = ResponseParser(limits: limits)
    var events: [TestEvent] = []
    func drain() throws(HTTPParseError) {
        while let event = try parser.next(requestMethod: method) {
            switch event {
            case .head(let head):
                let h = TestEvent.Head(
                    start: "\(head.version) \(head.statusCode) \(text(head.reasonBytes))",
                    framing: head.framing,
                    keepAlive: head.keepAlive,
                    fields: fieldStrings(head.fields)
                )
                append(.head(h), to: &events)
            case .body(let bytes): append(.body(text(bytes)), to: &events)
            case .end(let trailers): append(.end(trailers: trailers.map(fieldStrings)), to: &events)
            }
        }
    }
    do throws(HTTPParseError) {
        for piece in pieces {
            parser.feed(piece.span)
            try drain()
        }
        parser.finish()
        try drain()
        return Outcome(events: events, error: nil)
    } catch {
        return Outcome(events: events, error: error)
    }
}

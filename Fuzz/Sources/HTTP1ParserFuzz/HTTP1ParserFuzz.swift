// libFuzzer entry point for HTTP1Codec's parsers (libFuzzer provides `main`).
//
// Property (STYLE.md §4): for any bytes, the request and response parsers return events, "need
// more data", or a typed error; never a crash, a hang or unbounded memory. On top of that, a
// differential check: feeding the input whole and feeding it in pieces (sizes taken from the
// first byte) must produce the same transcript of events and the same error, which is the
// parsers' "any split gives the same result" promise.
import HTTP1Codec

/// Appends a compact, split-independent description of an event to `transcript`.
private struct Transcript: Equatable {
    var bytes: [UInt8] = []
    var pendingBody: [UInt8] = []
    var error: HTTPParseError?

    mutating func flushBody() {
        guard !pendingBody.isEmpty else { return }
        bytes.append(0xB0)
        bytes.append(contentsOf: pendingBody)
        pendingBody = []
    }

    mutating func head(_ raw: ArraySlice<UInt8>, _ framing: BodyFraming, _ keepAlive: Bool, _ fieldCount: Int) {
        flushBody()
        bytes.append(0xA0)
        bytes.append(contentsOf: raw)
        bytes.append(contentsOf: "\(framing) \(keepAlive) \(fieldCount)".utf8)
    }

    mutating func end(_ trailers: HTTPFieldLines?) {
        flushBody()
        bytes.append(0xE0)
        guard let trailers else { return }
        bytes.append(0xE1)
        for line in trailers {
            bytes.append(contentsOf: line.name)
            bytes.append(contentsOf: line.value)
        }
    }
}

/// Feeds `input[range]` as a transport would lend it (a span, copied by the parser), or, when it
/// is the whole input, as an array the parser keeps: the two ways in take the same path after.
private func feed(_ parser: inout RequestParser, _ input: [UInt8], _ range: Range<Int>) {
    if range.count == input.count { parser.feed(input) } else { parser.feed(input[range].span) }
}

private func feed(_ parser: inout ResponseParser, _ input: [UInt8], _ range: Range<Int>) {
    if range.count == input.count { parser.feed(input) } else { parser.feed(input[range].span) }
}

private func runRequests(_ input: [UInt8], pieceSize: Int) -> Transcript {
    var parser = RequestParser(limits: HTTPParserLimits(maxFieldCount: 20, maxHeadLength: 4096, maxBodyLength: 8192))
    var t = Transcript()
    do throws(HTTPParseError) {
        var offset = 0
        repeat {
            let end = min(offset + pieceSize, input.count)
            feed(&parser, input, offset..<end)
            offset = end
            while let event = try parser.next() {
                switch event {
                case .head(let head):
                    t.head(head.bytes, head.framing, head.keepAlive, head.fields.count)
                    _ = head.makeHTTPRequest()
                case .body(let body): t.pendingBody.append(contentsOf: body)
                case .end(let trailers): t.end(trailers)
                }
            }
        } while offset < input.count
        parser.finish()
        while let event = try parser.next() {
            switch event {
            case .head(let head): t.head(head.bytes, head.framing, head.keepAlive, head.fields.count)
            case .body(let body): t.pendingBody.append(contentsOf: body)
            case .end(let trailers): t.end(trailers)
            }
        }
    } catch {
        t.error = error
    }
    t.flushBody()
    return t
}

private func runResponses(_ input: [UInt8], pieceSize: Int, method: ResponseParser.RequestMethod) -> Transcript {
    var parser = ResponseParser(limits: HTTPParserLimits(maxFieldCount: 20, maxHeadLength: 4096, maxBodyLength: 8192))
    var t = Transcript()
    do throws(HTTPParseError) {
        var offset = 0
        var finished = false
        while true {
            if offset < input.count {
                let end = min(offset + pieceSize, input.count)
                feed(&parser, input, offset..<end)
                offset = end
            } else if !finished {
                parser.finish()
                finished = true
            } else {
                break
            }
            while let event = try parser.next(requestMethod: method) {
                switch event {
                case .head(let head):
                    t.head(head.bytes, head.framing, head.keepAlive, head.fields.count)
                    _ = head.makeHTTPResponse()
                case .body(let body): t.pendingBody.append(contentsOf: body)
                case .end(let trailers): t.end(trailers)
                }
            }
        }
    } catch {
        t.error = error
    }
    t.flushBody()
    return t
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    // SAFETY: libFuzzer passes `size` readable bytes at `data` for the duration of this call,
    // and the buffer is copied into an array before anything else uses it.
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let pieceSize = Int(input[0] % 7) + 1
    let method: ResponseParser.RequestMethod =
        input[0] & 0x30 == 0 ? .head : input[0] & 0x30 == 0x10 ? .connect : .other

    let whole = runRequests(input, pieceSize: input.count)
    let pieces = runRequests(input, pieceSize: pieceSize)
    precondition(whole == pieces, "request parser: split changed the result")

    let wholeResponse = runResponses(input, pieceSize: input.count, method: method)
    let piecesResponse = runResponses(input, pieceSize: pieceSize, method: method)
    precondition(wholeResponse == piecesResponse, "response parser: split changed the result")
    return 0
}

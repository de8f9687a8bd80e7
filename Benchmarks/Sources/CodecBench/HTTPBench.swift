// The HTTP half of codec-bench: parses the input file as one keep-alive connection with
// RequestParser, as the http_parser baseline does, and counts requests, header fields (trailers
// included) and de-chunked body bytes. The whole file is fed as one array, which the parser keeps
// (no copy); `-s N` feeds N-byte slices as borrowed spans, as a transport lends each read to
// `dataReceived`, so the parser's one copy per read is in the figure.
//
// With `-r` (last on the command line) it also builds swift-http-types' `HTTPRequest` from every
// head and reports under `impl=swift-asyncio-httprequest`, so the cost of the currency type is
// its own row.
import HTTP1Codec
import HTTPTypes

/// Counts from one pass over the input.
private struct HTTPCounts: Equatable {
    var messages = 0
    var headers = 0
    var bodyBytes = 0
    var check = 0
}

/// Parses `input` once as a connection; returns nil on a parse error.
private func parseConnection(_ input: [UInt8], slice: Int, buildRequests: Bool) -> HTTPCounts? {
    var parser = RequestParser(limits: HTTPParserLimits(maxBodyLength: Int.max))
    var counts = HTTPCounts()
    let step = slice > 0 ? slice : input.count
    var offset = 0
    do {
        while offset < input.count {
            let end = min(offset + step, input.count)
            if slice > 0 {
                parser.feed(input[offset..<end].span)
            } else {
                parser.feed(input)
            }
            offset = end
            while let event = try parser.next() {
                switch event {
                case .head(let head):
                    counts.headers += head.fields.count
                    counts.check &+= head.targetBytes.count &+ head.methodBytes.count
                    if buildRequests {
                        let request = head.makeHTTPRequest()
                        counts.check &+= request.headerFields.count &+ (request.path?.utf8.count ?? 0)
                    }
                case .body(let bytes):
                    counts.bodyBytes += bytes.count
                case .end(let trailers):
                    counts.messages += 1
                    counts.headers += trailers?.count ?? 0
                }
            }
        }
        parser.finish()
        guard try parser.next() == nil else { return nil }
    } catch {
        print("codec-bench: parse error \(error) (status \(error.status))")
        return nil
    }
    return counts
}

/// Runs the HTTP benchmark on one input file; returns the process exit status.
func runHTTPBench(name: String, input: [UInt8], options: BenchOptions) -> Int32 {
    let buildRequests = CommandLine.arguments.contains("-r")
    guard let first = parseConnection(input, slice: options.slice, buildRequests: buildRequests) else { return 1 }
    let measured = measure(options: options, expected: first.messages) {
        parseConnection(input, slice: options.slice, buildRequests: buildRequests)?.messages ?? -1
    }
    guard let (median, iterations) = measured else { return 1 }
    report(
        impl: buildRequests ? "swift-asyncio-httprequest" : "swift-asyncio",
        name: name,
        bytes: input.count,
        msgs: first.messages,
        median: median,
        iterations: iterations,
        extra: "headers=\(first.headers) body_bytes=\(first.bodyBytes) slice=\(options.slice)"
    )
    return 0
}

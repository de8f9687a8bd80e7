// The RESP half of codec-bench: mirrors hiredis_bench.c. One parser for the whole run is fed the
// file in 16 KiB slices (`-s`, 0 meaning 16 KiB here); after each feed every complete reply is pulled
// as an owned RESPValue and dropped. Nodes are counted only in the untimed verification pass.
import RESPCodec

/// Counts RESP values as the benchmark README does: an aggregate counts itself plus its children,
/// a map each key and value, a scalar (null included) 1. Attributes count as one map of their pairs.
private func countNodes(_ value: RESPValue) -> Int {
    switch value {
    case .array(let elements), .set(let elements), .push(let elements):
        return elements.reduce(1) { $0 + countNodes($1) }
    case .map(let pairs):
        return pairs.reduce(1) { $0 + countNodes($1.key) + countNodes($1.value) }
    case .attributed(let attributes, let inner):
        return countNodes(.map(attributes)) + countNodes(inner)
    default:
        return 1
    }
}

/// Runs the RESP benchmark on `input` and prints the `impl=` line; returns the exit status.
func runRESPBench(name: String, input: [UInt8], options: BenchOptions) -> Int32 {
    let slice = options.slice > 0 ? options.slice : 16384
    var parser = RESPParser()
    var nodes = 0
    var failed: RESPError?

    // One pass over the file; returns the number of top-level replies.
    func pass(countingNodes: Bool) -> Int {
        var messages = 0
        input.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + slice, bytes.count)
                // SAFETY: `offset..<end` lies within `bytes`, which outlives this call.
                parser.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                offset = end
                do throws(RESPError) {
                    while let value = try parser.next() {
                        messages += 1
                        if countingNodes {
                            nodes += countNodes(value)
                        }
                    }
                } catch {
                    failed = error
                    return
                }
            }
        }
        return messages
    }

    let messages = pass(countingNodes: true)
    if let failed {
        print("codec-bench: parse error \(failed)")
        return 1
    }
    guard let (median, iterations) = measure(options: options, expected: messages, pass: { pass(countingNodes: false) })
    else {
        print("codec-bench: a timed pass disagreed with the verification pass")
        return 1
    }
    report(
        impl: "swift-asyncio",
        name: name,
        bytes: input.count,
        msgs: messages,
        median: median,
        iterations: iterations,
        extra: "nodes=\(nodes) slice=\(slice)"
    )
    return 0
}

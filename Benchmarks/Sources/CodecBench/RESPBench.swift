// The RESP half of codec-bench: mirrors hiredis_bench.c. One parser for the whole run is fed the
// file in 16 KiB slices (`-s`, 0 meaning 16 KiB here), each lent as a span as a transport lends a
// read; after each feed every complete reply is pulled as an owned RESPValue and dropped. Nodes
// are counted only in the untimed verification pass.
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

/// One pass over `input` in `slice`-byte feeds; returns the number of top-level replies.
///
/// A free function taking the parser `inout`, not a closure capturing it, so that no dynamic
/// exclusivity check runs per access.
private func respPass(
    _ parser: inout RESPParser,
    _ input: [UInt8],
    slice: Int,
    nodes: inout Int,
    countingNodes: Bool
) throws(RESPError) -> Int {
    var messages = 0
    var offset = 0
    while offset < input.count {
        let end = min(offset + slice, input.count)
        parser.feed(input[offset..<end].span)
        offset = end
        while let value = try parser.next() {
            messages += 1
            if countingNodes {
                nodes += countNodes(value)
            }
        }
    }
    return messages
}

/// Runs the RESP benchmark on `input` and prints the `impl=` line; returns the exit status.
func runRESPBench(name: String, input: [UInt8], options: BenchOptions) -> Int32 {
    let slice = options.slice > 0 ? options.slice : 16384
    var parser = RESPParser()
    var nodes = 0

    let messages: Int
    do {
        messages = try respPass(&parser, input, slice: slice, nodes: &nodes, countingNodes: true)
    } catch {
        print("codec-bench: parse error \(error)")
        return 1
    }
    var unused = 0
    let result = measure(options: options, expected: messages) {
        (try? respPass(&parser, input, slice: slice, nodes: &unused, countingNodes: false)) ?? -1
    }
    guard let (median, iterations) = result else {
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

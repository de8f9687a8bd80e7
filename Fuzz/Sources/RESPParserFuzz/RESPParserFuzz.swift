// libFuzzer entry point for RESPParser (built with `--sanitize=fuzzer --sanitize=address`; libFuzzer
// provides `main`, so this file is not named main.swift and has no top-level code).
//
// Property: for any bytes, the parser returns values, nil ("need more data") or a typed RESPError —
// never a crash, a hang or unbounded memory — and:
// 1. any split of the input gives the same outcome (whole, split at a data-chosen point, 7-byte pieces);
// 2. every value it returns survives a round trip: parse(encode(v)) == v.
// A violation traps, which libFuzzer records as a crash.
import RESPCodec

/// The values and error one way of feeding produced, compared by canonical encoding (NaN-safe).
private struct Outcome: Equatable {
    var encodedValues: [[UInt8]] = []
    var values: [RESPValue] = []
    var error: RESPError?

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.encodedValues == rhs.encodedValues && lhs.error == rhs.error
    }
}

private func run(_ chunks: [ArraySlice<UInt8>], limits: RESPLimits) -> Outcome {
    var parser = RESPParser(limits: limits)
    var outcome = Outcome()
    for chunk in chunks {
        parser.feed(chunk.span)
        do {
            while let value = try parser.next() {
                outcome.values.append(value)
                outcome.encodedValues.append(RESPEncoder.encode(value))
            }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    return outcome
}

/// Tight limits so that the fuzzer reaches every limit with short inputs.
private let smallLimits = RESPLimits(maxBulkLength: 4096, maxAggregateCount: 512, maxDepth: 8, maxLineLength: 256)

private func check(_ bytes: [UInt8], limits: RESPLimits) {
    let whole = run([bytes[...]], limits: limits)
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    let halves = run([bytes[..<split], bytes[split...]], limits: limits)
    let pieces = run(
        stride(from: 0, to: bytes.count, by: 7).map { bytes[$0..<min($0 + 7, bytes.count)] },
        limits: limits
    )
    precondition(whole == halves, "splitting at \(split) changed the outcome")
    precondition(whole == pieces, "feeding 7-byte pieces changed the outcome")
    for (value, encoded) in zip(whole.values, whole.encodedValues) {
        let again = run([encoded[...]], limits: limits)
        precondition(again.error == nil && again.encodedValues == [encoded], "round trip failed for \(value)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // SAFETY: libFuzzer passes a buffer of `size` readable bytes that lives for this call; it is
    // copied into an array before any parsing.
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    check(bytes, limits: RESPLimits())
    check(bytes, limits: smallLimits)
    return 0
}

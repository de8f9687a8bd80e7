import RESPCodec

/// What a parser made of some input: the values it returned and the error that stopped it, if any.
struct ParseOutcome: Equatable, CustomStringConvertible {
    var values: [RESPValue] = []
    var error: RESPError?
    /// Bytes fed but not consumed by a returned value when the input ran out.
    var leftover = 0

    /// Compares values by their canonical encoding, so that `.double(.nan)` equals itself.
    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.error == rhs.error && lhs.leftover == rhs.leftover
            && lhs.values.map { RESPEncoder.encode($0) } == rhs.values.map { RESPEncoder.encode($0) }
    }

    var description: String {
        "values: \(values), error: \(String(describing: error)), leftover: \(leftover)"
    }
}

/// Feeds `chunks` one after another, pulling every complete value after each feed.
func parse(chunks: some Sequence<ArraySlice<UInt8>>, limits: RESPLimits = RESPLimits()) -> ParseOutcome {
    var parser = RESPParser(limits: limits)
    var outcome = ParseOutcome()
    for chunk in chunks {
        parser.feed(chunk.span)
        do {
            while let value = try parser.next() {
                outcome.values.append(value)
            }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    outcome.leftover = parser.bufferedByteCount
    return outcome
}

/// Parses `bytes` in one feed.
func parseWhole(_ bytes: [UInt8], limits: RESPLimits = RESPLimits()) -> ParseOutcome {
    parse(chunks: [bytes[...]], limits: limits)
}

/// Parses `bytes` fed one byte at a time.
func parseByteByByte(_ bytes: [UInt8], limits: RESPLimits = RESPLimits()) -> ParseOutcome {
    parse(chunks: bytes.indices.lazy.map { bytes[$0...$0] }, limits: limits)
}

/// Parses `bytes` fed in pieces of `size` bytes.
func parse(_ bytes: [UInt8], inPiecesOf size: Int, limits: RESPLimits = RESPLimits()) -> ParseOutcome {
    let pieces = stride(from: 0, to: bytes.count, by: size).map { bytes[$0..<min($0 + size, bytes.count)] }
    return parse(chunks: pieces, limits: limits)
}

/// The outcome a vector promises.
func expectedOutcome(_ vector: RESPVector) -> ParseOutcome {
    ParseOutcome(values: vector.values, error: vector.error, leftover: 0)
}

// libFuzzer entry point for WebSocketParser (built by scripts/fuzz.sh; libFuzzer provides `main`).
//
// The first input byte picks the configuration (role, permessage-deflate, tight limits); the rest
// is the byte stream. Property: for any bytes, the parser returns events, nil or a typed
// WebSocketError — never a crash, a hang or unbounded memory — and:
// 1. any split of the input gives the same outcome (whole, split at a data-chosen point, 7-byte pieces);
// 2. every message it returns survives a round trip through the peer's encoder and a fresh parser.
// A violation traps, which libFuzzer records as a crash.
import WebSocketCodec

private struct Outcome: Equatable {
    var events: [WebSocketEvent] = []
    var error: WebSocketError?
}

private func run(
    _ chunks: [ArraySlice<UInt8>],
    role: WebSocketRole,
    limits: WebSocketLimits,
    deflate: PerMessageDeflateParameters?
) -> Outcome {
    var parser = WebSocketParser(role: role, limits: limits, deflate: deflate)
    var outcome = Outcome()
    for chunk in chunks {
        parser.feed(chunk)
        do {
            while let event = try parser.next() { outcome.events.append(event) }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // SAFETY: libFuzzer passes a buffer of `size` readable bytes that lives for this call; it is
    // copied into an array before any parsing.
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let config = input.first else { return 0 }
    let bytes = Array(input.dropFirst())
    let role: WebSocketRole = config & 1 == 0 ? .server : .client
    var deflate: PerMessageDeflateParameters?
    if config & 2 != 0 {
        var parameters = PerMessageDeflateParameters()
        parameters.clientNoContextTakeover = config & 8 != 0
        parameters.serverNoContextTakeover = config & 8 != 0
        deflate = parameters
    }
    let limits =
        config & 4 != 0
        ? WebSocketLimits(maxFrameSize: 64, maxMessageSize: 256) : WebSocketLimits(maxMessageSize: 1 << 20)

    let whole = run([bytes[...]], role: role, limits: limits, deflate: deflate)
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    let halves = run([bytes[..<split], bytes[split...]], role: role, limits: limits, deflate: deflate)
    let pieces = run(
        stride(from: 0, to: bytes.count, by: 7).map { bytes[$0..<min($0 + 7, bytes.count)] },
        role: role,
        limits: limits,
        deflate: deflate
    )
    precondition(whole == halves, "splitting at \(split) changed the outcome")
    precondition(whole == pieces, "feeding 7-byte pieces changed the outcome")

    // The peer of `role` encodes what we parsed; a fresh parser must read the same events back.
    var encoder = WebSocketEncoder(role: role == .server ? .client : .server, deflate: deflate)
    var again: [UInt8] = []
    for event in whole.events {
        switch event {
        case .text(let text): again += encoder.text(text)
        case .binary(let bytes): again += encoder.binary(bytes)
        case .ping(let payload): again += try! encoder.ping(payload)
        case .pong(let payload): again += try! encoder.pong(payload)
        case .close(let code, let reason): again += try! encoder.close(code: code, reason: reason)
        }
    }
    let roundTrip = run([again[...]], role: role, limits: WebSocketLimits(maxMessageSize: 1 << 21), deflate: deflate)
    precondition(roundTrip == Outcome(events: whole.events), "round trip changed the events")
    return 0
}

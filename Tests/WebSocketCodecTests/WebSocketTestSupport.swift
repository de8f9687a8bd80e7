import WebSocketCodec

/// A frame built by hand, independently of `WebSocketEncoder`, so the vectors test the parser
/// against the RFC's layout rather than against our own encoder.
func rawFrame(
    _ opcode: UInt8,
    _ payload: [UInt8],
    fin: Bool = true,
    rsv: UInt8 = 0,
    mask: [UInt8]? = [0x37, 0xFA, 0x21, 0x3D],
    declaredLength: UInt64? = nil
) -> [UInt8] {
    var out: [UInt8] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode]
    let length = declaredLength ?? UInt64(payload.count)
    let maskBit: UInt8 = mask == nil ? 0 : 0x80
    if length < 126 {
        out.append(maskBit | UInt8(length))
    } else if length <= 0xFFFF {
        out += [maskBit | 126, UInt8(length >> 8), UInt8(length & 0xFF)]
    } else {
        out.append(maskBit | 127)
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
        }
    }
    guard let mask else { return out + payload }
    out += mask
    for (index, byte) in payload.enumerated() { out.append(byte ^ mask[index % 4]) }
    return out
}

func text(_ string: String) -> [UInt8] { Array(string.utf8) }

/// What feeding some bytes produced: the events, then the error if one ended it.
struct ParseOutcome: Equatable, CustomStringConvertible {
    var events: [WebSocketEvent] = []
    var error: WebSocketError?

    var description: String { "events \(events.map(Self.short)) error \(String(describing: error))" }

    private static func short(_ event: WebSocketEvent) -> String {
        switch event {
        case .text(let text): "text(\(text.count) chars)"
        case .binary(let bytes): "binary(\(bytes.count))"
        default: "\(event)"
        }
    }
}

/// Feeds `chunks` one after the other, draining events after each.
func parse(
    _ chunks: [[UInt8]],
    role: WebSocketRole = .server,
    limits: WebSocketLimits = WebSocketLimits(),
    deflate: PerMessageDeflateParameters? = nil
) -> ParseOutcome {
    var parser = WebSocketParser(role: role, limits: limits, deflate: deflate)
    var outcome = ParseOutcome()
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

func byteByByte(_ bytes: [UInt8]) -> [[UInt8]] { bytes.map { [$0] } }

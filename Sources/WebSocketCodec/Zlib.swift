internal import CZlib

/// A raw-deflate compressor for permessage-deflate (RFC 7692 §7.2.1).
///
/// Each message is compressed with `Z_SYNC_FLUSH` and the trailing `00 00 ff ff` removed. Without
/// context takeover the stream is reset after every message, so no message refers back to another.
/// Memory: zlib's deflate state is about `2^(windowBits+2) + 2^(memLevel+9)` bytes, 256 KiB at the
/// defaults (15, 8).
final class ZlibDeflater: @unchecked Sendable {
    // SAFETY: @unchecked Sendable because the z_stream is mutated in place; one encoder owns this
    // object and the encoder is used by one task at a time (a connection's writer).
    private var stream = z_stream()
    private let resetsEachMessage: Bool

    init(parameters: PerMessageDeflateParameters, role: WebSocketRole, level: Int32) {
        let bits = role == .server ? parameters.serverMaxWindowBits : parameters.clientMaxWindowBits
        resetsEachMessage =
            role == .server ? parameters.serverNoContextTakeover : parameters.clientNoContextTakeover
        // zlib ≥ 1.2.9 refuses a raw deflate window of 8 and uses 9; negotiation never agrees to 8.
        let status = czlib_deflate_init(&stream, level, -Int32(max(bits, 9)), 8)
        precondition(status == Z_OK, "deflateInit2 failed (\(status)): out of memory")
    }

    deinit { deflateEnd(&stream) }

    func deflate(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 2 + 64)
        var chunk = [UInt8](repeating: 0, count: max(1024, min(input.count + 64, 64 << 10)))
        // SAFETY: zlib reads `input` only during these calls, and never writes through next_in.
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(input.count)
        repeat {
            let produced = chunk.withUnsafeMutableBufferPointer { buffer -> Int in
                stream.next_out = buffer.baseAddress
                stream.avail_out = UInt32(buffer.count)
                _ = CZlib.deflate(&stream, Z_SYNC_FLUSH)
                return buffer.count - Int(stream.avail_out)
            }
            output.append(contentsOf: chunk[..<produced])
        } while stream.avail_out == 0
        stream.next_in = nil
        if output.count >= 4 && output.suffix(4).elementsEqual([0, 0, 0xFF, 0xFF]) {
            output.removeLast(4)
        }
        // zlib writes nothing for an empty message right after a flush (a repeated flush is a
        // no-op); RFC 7692 §7.2.3.6 sends an empty message as a single 0x00 (an empty stored block).
        if output.isEmpty { output = [0x00] }
        if resetsEachMessage { deflateReset(&stream) }
        return output
    }
}

/// A raw-inflate decompressor for permessage-deflate with a hard cap on each message's output.
///
/// Memory: about `2^windowBits` bytes of window plus 7 KiB, 39 KiB at window bits 15.
final class ZlibInflater: @unchecked Sendable {
    // SAFETY: @unchecked Sendable because the z_stream is mutated in place; one parser owns this
    // object and the parser is used by one task at a time (a connection's reader).
    private var stream = z_stream()
    private let resetsEachMessage: Bool

    init(parameters: PerMessageDeflateParameters, role: WebSocketRole) {
        // This side inflates what the other side deflated, with the other side's window.
        let bits = role == .server ? parameters.clientMaxWindowBits : parameters.serverMaxWindowBits
        resetsEachMessage =
            role == .server ? parameters.clientNoContextTakeover : parameters.serverNoContextTakeover
        let status = czlib_inflate_init(&stream, -Int32(max(bits, 9)))
        precondition(status == Z_OK, "inflateInit2 failed (\(status)): out of memory")
    }

    deinit { inflateEnd(&stream) }

    /// Inflates one message; throws ``WebSocketError/messageTooLarge(limit:)`` as soon as the
    /// output would pass `limit`, so a small bomb never expands in memory.
    func inflate(_ compressed: [UInt8], limit: Int) throws(WebSocketError) -> [UInt8] {
        // An empty payload is not valid deflate data (the appended 00 00 ff ff would open a stored
        // block and leave the stream inside it); read it as the empty message it means.
        if compressed.isEmpty { return [] }
        var input = compressed
        input.append(contentsOf: [0, 0, 0xFF, 0xFF])
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        var failure: WebSocketError?
        var ended = false
        input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = UInt32(inputBuffer.count)
            // Inflate into a fixed chunk until the input is used up and zlib has output room to
            // spare; the limit is checked after every chunk, before the bytes are kept.
            while failure == nil {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { buffer -> (Int32, Int) in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    let status = CZlib.inflate(&stream, Z_SYNC_FLUSH)
                    return (status, buffer.count - Int(stream.avail_out))
                }
                if status != Z_OK && status != Z_BUF_ERROR && status != Z_STREAM_END {
                    failure = .invalidCompressedData
                } else if output.count + produced > limit {
                    failure = .messageTooLarge(limit: limit)
                } else {
                    output.append(contentsOf: chunk[..<produced])
                    let drained = stream.avail_in == 0 && stream.avail_out != 0
                    ended = status == Z_STREAM_END
                    if drained || status == Z_STREAM_END || (produced == 0 && status == Z_BUF_ERROR) { break }
                }
            }
            stream.next_in = nil
            stream.avail_in = 0
        }
        if let failure {
            inflateReset(&stream)
            throw failure
        }
        // A final deflate block (BFINAL) ends the stream; the next message starts a new one.
        if resetsEachMessage || ended { inflateReset(&stream) }
        return output
    }
}

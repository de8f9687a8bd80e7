// How a response reaches the wire: the head is serialized once its framing is known, body bytes
// are framed (Content-Length, chunked, or delimited by the close), and everything goes into the
// connection's reused output buffer, which `flush` hands to the transport in one write.
//
// Framing, decided when the head is committed (RFC 9112 §6.1-6.3):
// - 1xx, 204 and 304 responses never have a body (and get no Content-Length or Transfer-Encoding);
//   a response to HEAD has the fields a GET would get and no body.
// - A declared length (`contentLength`, or a Content-Length field) is Content-Length; writing more
//   throws, writing less cuts the response short (the connection then closes).
// - A response ended in the same call that commits it (`writeEOF(data)` before any write) knows its
//   length: Content-Length too.
// - Otherwise HTTP/1.1 gets chunked, and HTTP/1.0 (which has no chunked) a body delimited by the
//   close, with `Connection: close`.
// `Date` (cached per second) and `Server` are added unless the handler set them; `Connection:
// close` whenever the connection will close, `Connection: keep-alive` for a kept HTTP/1.0 one.
import AsyncIO
import HTTP1Codec
import HTTPTypes

/// Where the response of the current exchange stands.
struct ResponseState {
    enum Framing: Equatable {
        case none
        case contentLength(Int)
        case chunked
        case untilClose
    }

    /// The exchange this is for; 0 when none is being handled.
    var number = 0
    var version = HTTPVersion.http1_1
    var isHead = false
    var committed = false
    var ended = false
    /// False once the response was cut short (the connection must close after it).
    var complete = true
    var framing = Framing.none
    /// Body bytes given, counted even where none are sent (HEAD).
    var written = 0
    /// No body bytes go out (HEAD, 1xx, 204, 304).
    var suppressBody = false
    /// The connection stays open after this response (as the head announced).
    var keepAlive = false
    /// The status code of the committed head (for the access log).
    var status = 0
}

/// What a response head is made of, taken from a ``StreamResponse`` (or an error answer).
struct ResponseHeadInfo {
    var code: Int
    var reason: String
    var headers: HTTPFields
    var contentType: String?
    var contentLength: Int?
    var chunked: Bool
    var close: Bool
}

/// Body writes at least this big go to the transport directly instead of through `out`.
private let directWriteThreshold = 16 * 1024

extension ServerHTTPProtocol {
    // MARK: - Head

    /// Serializes the response head into `out` and decides the framing.
    ///
    /// - Parameter finalBodyCount: the whole body's length when the response ends in this call.
    func commitHead(_ info: ResponseHeadInfo, finalBodyCount: Int?) {
        precondition(!response.committed, "a response head was committed twice")
        var declared = info.contentLength
        var wantsChunked = info.chunked
        var close = info.close
        var hasDate = false
        var hasServer = false
        var hasContentType = false
        for field in info.headers {
            switch field.name {
            case .contentLength: declared = Int(field.value) ?? declared
            case .transferEncoding: wantsChunked = wantsChunked || field.value.lowercased().contains("chunked")
            case .connection: close = close || field.value.lowercased().contains("close")
            case .date: hasDate = true
            case .server: hasServer = true
            case .contentType: hasContentType = true
            default: break
            }
        }
        let code = info.code
        let noBody = code < 200 || code == 204 || code == 304
        let framing: ResponseState.Framing
        if noBody {
            framing = .none
        } else if let declared, !wantsChunked {
            framing = .contentLength(declared)
        } else if let finalBodyCount, !wantsChunked {
            framing = .contentLength(finalBodyCount)
        } else if response.version == .http1_1 {
            framing = .chunked
        } else {
            framing = .untilClose
            close = true
        }
        var keepAlive = false
        if response.number != 0 {
            keepAlive = machine.responseStarted(close: close)
        }
        response.committed = true
        response.status = code
        response.framing = framing
        response.suppressBody = noBody || response.isHead
        response.keepAlive = keepAlive

        // Status line: always HTTP/1.1, the highest version we speak (RFC 9110 §2.5).
        if (100...599).contains(code), info.reason.isEmpty || info.reason == reasonPhrase(for: code) {
            out.append(contentsOf: standardStatusLines[code - 100])
        } else {
            out.append(contentsOf: httpVersionPrefix)
            appendDecimal(code)
            out.append(0x20)
            out.append(contentsOf: info.reason.utf8)
            out.append(contentsOf: crlf)
        }
        for field in info.headers {
            switch field.name {
            case .contentLength, .transferEncoding: continue
            case .connection where code != 101: continue
            default: appendField(field.name.rawName, field)
            }
        }
        if let contentType = info.contentType, !hasContentType {
            out.append(contentsOf: contentTypePrefix)
            out.append(contentsOf: contentType.utf8)
            out.append(contentsOf: crlf)
        }
        switch framing {
        case .contentLength(let length):
            out.append(contentsOf: contentLengthPrefix)
            appendDecimal(length)
            out.append(contentsOf: crlf)
        case .chunked:
            out.append(contentsOf: chunkedField)
        case .none, .untilClose:
            break
        }
        if !keepAlive {
            if code != 101 { out.append(contentsOf: connectionCloseField) }
        } else if response.version == .http1_0 {
            out.append(contentsOf: connectionKeepAliveField)
        }
        if !hasDate {
            out.append(contentsOf: datePrefix)
            out.append(contentsOf: date.current())
            out.append(contentsOf: crlf)
        }
        if !hasServer, let serverField = context.serverField {
            out.append(contentsOf: serverField)
        }
        out.append(contentsOf: crlf)
    }

    private func appendField(_ name: String, _ field: HTTPField) {
        // swift-http-types validated the name and legalized the value: both are safe on the wire.
        out.append(contentsOf: name.utf8)
        out.append(0x3A)
        out.append(0x20)
        field.withUnsafeBytesOfValue { out.append(contentsOf: $0) }
        out.append(contentsOf: crlf)
    }

    func appendDecimal(_ value: Int) {
        guard value > 0 else {
            out.append(0x30)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[23 - count] = UInt8(rest % 10) + 0x30
                rest /= 10
                count += 1
            }
            out.append(contentsOf: buffer[(24 - count)...])
        }
    }

    // MARK: - Body

    /// Frames `bytes` as body of the current response into `out` (or straight to the transport
    /// when big).
    ///
    /// - Throws: `HTTPSerializeError.bodyLengthMismatch` past a declared Content-Length.
    func writeBody(_ bytes: UnsafeRawBufferPointer) throws(HTTPSerializeError) {
        let count = bytes.count
        guard count > 0 else { return }
        if case .contentLength(let length) = response.framing, response.written + count > length {
            throw .bodyLengthMismatch
        }
        response.written += count
        if response.suppressBody { return }
        switch response.framing {
        case .none:
            return
        case .contentLength, .untilClose:
            appendOrSend(bytes)
        case .chunked:
            appendHex(count)
            out.append(contentsOf: crlf)
            appendOrSend(bytes)
            out.append(contentsOf: crlf)
        }
    }

    private func appendOrSend(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count >= directWriteThreshold, let socketTransport {
            flush()
            try? socketTransport.write(bytes)
        } else {
            out.append(contentsOf: bytes)
        }
    }

    private func appendHex(_ value: Int) {
        let digits: StaticString = "0123456789abcdef"
        var shift = (Int.bitWidth - value.leadingZeroBitCount + 3) / 4 * 4 - 4
        while shift >= 0 {
            out.append(digits.utf8Start[(value >> shift) & 0xF])
            shift -= 4
        }
    }

    /// Ends the body of the current response: the last chunk (and trailers), or the length check.
    func endResponse(trailers: HTTPFields = [:]) {
        guard response.committed, !response.ended else { return }
        response.ended = true
        switch response.framing {
        case .chunked where !response.suppressBody:
            out.append(0x30)
            out.append(contentsOf: crlf)
            for field in trailers { appendField(field.name.rawName, field) }
            out.append(contentsOf: crlf)
        case .contentLength(let length) where response.written != length:
            response.complete = false
        case .untilClose:
            // The close delimits the body: the connection must not be kept.
            response.complete = response.keepAlive ? false : response.complete
        default:
            break
        }
    }

    // MARK: - Output

    /// Hands what `out` holds to the transport, in one write.
    func flush() {
        guard !out.isEmpty else { return }
        if let socketTransport {
            try? socketTransport.write(out)
        }
        out.removeAll(keepingCapacity: true)
    }

    /// Writes a whole error answer: `status` with the text `<code>: <reason>`.
    func writeErrorResponse(status: Int) {
        writeErrorResponse(HTTPError(.init(code: status)))
    }

    /// Writes a whole error answer for `error`, if no response was committed in this exchange.
    func writeErrorResponse(_ error: HTTPError) {
        if response.number == 0 {
            // No request is being handled (a broken head, a timeout): the answer closes.
            response = ResponseState(number: 0, version: .http1_1, isHead: false)
        }
        guard !response.committed else { return }
        let body = Array(error.body.utf8)
        commitHead(
            ResponseHeadInfo(
                code: error.status.code,
                reason: error.reason,
                headers: error.headers,
                contentType: "text/plain; charset=utf-8",
                contentLength: nil,
                chunked: false,
                close: false
            ),
            finalBodyCount: body.count
        )
        body.withUnsafeBytes { try? writeBody($0) }
        endResponse()
    }
}

private let crlf: [UInt8] = [0x0D, 0x0A]
private let httpVersionPrefix = Array("HTTP/1.1 ".utf8)
private let contentTypePrefix = Array("Content-Type: ".utf8)
private let contentLengthPrefix = Array("Content-Length: ".utf8)
private let chunkedField = Array("Transfer-Encoding: chunked\r\n".utf8)
private let connectionCloseField = Array("Connection: close\r\n".utf8)
private let connectionKeepAliveField = Array("Connection: keep-alive\r\n".utf8)
private let datePrefix = Array("Date: ".utf8)

/// `HTTP/1.1 <code> <reason>\r\n` for every code from 100 to 599, with its standard reason.
private let standardStatusLines: [[UInt8]] = (100...599).map { code in
    Array("HTTP/1.1 \(code) \(reasonPhrase(for: code))\r\n".utf8)
}

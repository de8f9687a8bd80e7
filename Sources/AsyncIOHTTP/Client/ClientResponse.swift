import AsyncIO
import Foundation
import HTTP1Codec
import HTTPTypes

/// A response: status and headers at once, the body when read.
///
/// The body arrives in the background and is buffered up to 64 KiB; past that, reading from the
/// server pauses until the body is read. Read it whole with ``bytes()``, ``text(encoding:)`` or
/// ``json(as:decoder:contentType:)``, or piece by piece with ``content``. The connection goes back
/// to the session's pool as soon as the whole response has arrived; a response dropped (or
/// ``release()``d) before that closes its connection instead, since the rest of its body would
/// still be on the wire.
///
/// Mirrors `aiohttp.ClientResponse`. Deviations: `read()` is ``bytes()``; `content` yields
/// `ArraySlice<UInt8>` chunks (no copy) and is an `AsyncSequence` rather than a `StreamReader`;
/// no `async with` (a response is released when it is read to the end, released or dropped).
public final class ClientResponse {
    /// The method of the request this response answers.
    public let method: HTTPRequest.Method
    /// The URL of the request this response answers (after redirects: the last one).
    public let url: ClientURL
    /// The status code and reason phrase.
    public let status: HTTPResponse.Status
    /// The HTTP version of the response.
    public let version: HTTPVersion
    /// The responses to the requests that redirected to this one, first to last.
    public internal(set) var history: [ClientResponse] = []
    let head: ResponseHead
    let exchange: ClientExchange
    private var cachedBody: [UInt8]?
    private var cachedHeaders: HTTPFields?

    init(method: HTTPRequest.Method, url: ClientURL, head: ResponseHead, exchange: ClientExchange) {
        self.method = method
        self.url = url
        self.head = head
        self.exchange = exchange
        let reason = String(head.reasonBytes.map { Character(Unicode.Scalar($0)) })
        status = HTTPResponse.Status(code: head.statusCode, reasonPhrase: reason)
        version = head.version
    }

    deinit {
        exchange.abandon()
    }

    /// The response's header fields (made on first use from the bytes received).
    public var headers: HTTPFields {
        if let cachedHeaders { return cachedHeaders }
        let fields = head.fields.makeHTTPFields()
        cachedHeaders = fields
        return fields
    }

    /// The reason phrase (`OK`, `Not Found`…). Mirrors `reason`.
    public var reason: String { status.reasonPhrase }

    /// True for a status below 400. Mirrors `ok`.
    public var ok: Bool { head.statusCode < 400 }

    /// The media type of Content-Type, lowercased, without parameters (`text/html`); aiohttp's
    /// default `application/octet-stream` when there is none. Mirrors `content_type`.
    public var contentType: String {
        guard let value = head.fields.first(named: "content-type") else { return "application/octet-stream" }
        let type = value.prefix { $0 != UInt8(ascii: ";") }
        return String(decoding: type, as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// The `charset` parameter of Content-Type, lowercased, if any. Mirrors `charset`.
    public var charset: String? {
        guard let value = head.fields.first(named: "content-type") else { return nil }
        for parameter in String(decoding: value, as: UTF8.self).split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "charset" else {
                continue
            }
            return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: " \t\"")).lowercased()
        }
        return nil
    }

    /// The Content-Length the server announced, if any (for a HEAD request too, where no body
    /// follows). Mirrors `content_length`.
    public var contentLength: Int? {
        if case .contentLength(let length) = head.framing { return length }
        // The parser validated the field when it framed the body; for HEAD, 204 and 304 it did not.
        guard let value = head.fields.first(named: "content-length"), !value.isEmpty, value.count <= 18,
            value.allSatisfy(isDigit)
        else { return nil }
        return value.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    /// Throws ``ClientError/responseStatus(code:reason:)`` for a status of 400 or more, after
    /// releasing the response. Mirrors `raise_for_status()`.
    public func raiseForStatus() throws(ClientError) {
        guard ok else {
            release()
            throw .responseStatus(code: head.statusCode, reason: reason)
        }
    }

    /// Lets go of the response: if its body has not fully arrived, the connection is closed (the
    /// rest of the body is never read); otherwise nothing happens. Calling it twice does nothing.
    ///
    /// Mirrors `release()` (and `close()`, which aiohttp also uses to drop the connection).
    public func release() {
        exchange.abandon()
    }

    // MARK: - Reading the body

    /// The body as an `AsyncSequence` of chunks, read as they arrive. Mirrors `content.iter_any()`.
    public var content: ClientResponseBody { ClientResponseBody(exchange: exchange) }

    /// Reads the whole body (the rest of it, if ``content`` was partly read); later calls return
    /// the same bytes. Mirrors `read()`.
    ///
    /// - Throws: ``ClientError`` (server disconnected, malformed body, timeout); `CancelledError`,
    ///   which closes the connection.
    public func bytes() async throws -> [UInt8] {
        if let cachedBody { return cachedBody }
        var body: [UInt8] = []
        while let chunk = try await exchange.nextChunk() {
            if body.isEmpty { body = Array(chunk) } else { body.append(contentsOf: chunk) }
        }
        cachedBody = body
        return body
    }

    /// Reads the whole body as text, decoded with `encoding`, or the Content-Type's charset, or
    /// UTF-8. Mirrors `text(encoding=None)`.
    ///
    /// - Throws: what ``bytes()`` throws; ``ClientError/decoding(charset:)`` for bytes that are not
    ///   valid in the charset, or a charset this library does not know.
    public func text(encoding: String? = nil) async throws -> String {
        let body = try await bytes()
        let charset = encoding?.lowercased() ?? charset ?? "utf-8"
        switch charset {
        case "utf-8", "utf8":
            guard let text = String(validating: body, as: UTF8.self) else {
                throw ClientError.decoding(charset: charset)
            }
            return text
        case "iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii":
            if charset.contains("ascii"), body.contains(where: { $0 >= 0x80 }) {
                throw ClientError.decoding(charset: charset)
            }
            return String(body.map { Character(Unicode.Scalar($0)) })
        default:
            guard let encoding = Self.foundationEncoding(charset), let text = String(bytes: body, encoding: encoding)
            else { throw ClientError.decoding(charset: charset) }
            return text
        }
    }

    /// Reads the whole body and decodes it as JSON into `type`.
    ///
    /// - Parameters:
    ///   - type: the `Decodable` type.
    ///   - decoder: the decoder to use.
    ///   - contentType: the media type required (a `+json` suffix type is accepted too); nil
    ///     accepts any.
    /// - Throws: ``ClientError/contentType(expected:actual:)``; what ``bytes()`` and `decoder` throw.
    ///   Mirrors `json(loads=…, content_type='application/json')`.
    public func json<Value: Decodable>(
        as type: Value.Type = Value.self,
        decoder: JSONDecoder = JSONDecoder(),
        contentType: String? = "application/json"
    ) async throws -> Value {
        if let contentType {
            let actual = self.contentType
            let isJSON = actual == contentType || (contentType == "application/json" && actual.hasSuffix("+json"))
            guard isJSON else {
                release()
                throw ClientError.contentType(
                    expected: contentType,
                    actual: head.fields.first(named: "content-type").map { String(decoding: $0, as: UTF8.self) }
                )
            }
        }
        return try decoder.decode(type, from: Data(try await bytes()))
    }

    private static func foundationEncoding(_ charset: String) -> String.Encoding? {
        switch charset {
        case "utf-16": .utf16
        case "utf-16le": .utf16LittleEndian
        case "utf-16be": .utf16BigEndian
        case "utf-32": .utf32
        case "windows-1252", "cp1252": .windowsCP1252
        case "windows-1251", "cp1251": .windowsCP1251
        case "windows-1250", "cp1250": .windowsCP1250
        case "iso-8859-2", "latin2": .isoLatin2
        case "shift_jis", "shift-jis", "sjis": .shiftJIS
        case "euc-jp": .japaneseEUC
        default: nil
        }
    }
}

/// The body of a ``ClientResponse`` as it arrives: an `AsyncSequence` of chunks.
///
/// Each chunk is a slice of the bytes read from the socket (no copy). Reading from the server is
/// paused while more than 64 KiB wait to be consumed here, so a slow consumer holds the server back
/// instead of growing memory. Iterating after the end (or after ``ClientResponse/bytes()``)
/// yields nothing. Cancelling the task that iterates closes the connection.
public struct ClientResponseBody: AsyncSequence {
    public typealias Element = ArraySlice<UInt8>
    let exchange: ClientExchange

    /// Iterates over the chunks.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let exchange: ClientExchange

        /// The next chunk, or nil at the end of the body.
        ///
        /// - Throws: ``ClientError``; `CancelledError`.
        public mutating func next() async throws -> ArraySlice<UInt8>? {
            try await exchange.nextChunk()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(exchange: exchange)
    }
}

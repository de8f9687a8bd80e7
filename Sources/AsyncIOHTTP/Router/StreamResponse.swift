import AsyncIO
import HTTP1Codec
import HTTPTypes

/// Why a response could not be written.
public enum ResponseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The response is not bound to a request yet: call `prepare(request)` first (or make it with
    /// `Response(transport, status)`).
    case notPrepared
    /// The head was already sent: status and fields can no longer change.
    case headersAlreadySent
    /// `write` after `writeEOF`. aiohttp raises `RuntimeError("Cannot call write() after write_eof()")`.
    case writeAfterEOF
    /// The request this response answers is over (the response was kept past its handler).
    case exchangeOver
    /// More body bytes than the declared Content-Length.
    case bodyLengthMismatch(declared: Int)
    /// A field name that is not a token.
    case invalidFieldName(String)

    public var description: String {
        switch self {
        case .notPrepared: "the response is not prepared (call prepare(request) first)"
        case .headersAlreadySent: "the response headers were already sent"
        case .writeAfterEOF: "Cannot call write() after write_eof()"
        case .exchangeOver: "the request this response answers is over"
        case .bodyLengthMismatch(let declared): "the body is longer than its Content-Length (\(declared))"
        case .invalidFieldName(let name): "invalid header field name: \(name)"
        }
    }
}

/// A response whose body is written piece by piece: aiohttp's `web.StreamResponse`.
///
/// Set the status and fields, then `prepare(request)` (or, on the talk's low-level API,
/// `sendHeaders()`), `write` the body, and `writeEOF()`. Without a declared `contentLength` the body
/// is chunked (HTTP/1.1) or delimited by the close (HTTP/1.0). `write` returns once the bytes are
/// handed to the connection, and waits first while the client is slow to read (aiohttp's `drain`).
///
/// Mirrors `aiohttp.web.StreamResponse`; for the talk, also `aiohttp.Response` (`add_header`,
/// `send_headers`, `write`, `write_eof`). Deviations: `write`, `drain` and `writeEOF` are `async`
/// (as in aiohttp 3; the talk's aiohttp 0.x wrote synchronously); field names are checked
/// (`addHeader` throws for a name that is not a token).
open class StreamResponse {
    // The properties below are `@exclusivity(unchecked)`: the object lives on its loop's thread and
    // no access to them overlaps another, so the dynamic check (a runtime call per access, several
    // per request) buys nothing.
    /// The status code and reason phrase.
    @exclusivity(unchecked) public var status: HTTPResponse.Status
    /// The header fields (besides those the server adds: `Date`, `Server`, framing, `Connection`).
    @exclusivity(unchecked) public var headers: HTTPFields
    /// The media type, e.g. `text/plain`; sent as `Content-Type` (with `charset`) unless the fields
    /// have one. Mirrors `content_type`.
    @exclusivity(unchecked) public var contentType: String?
    /// The charset added to `contentType`. Mirrors `charset`.
    @exclusivity(unchecked) public var charset: String?
    /// The body's length, if known in advance: sent as `Content-Length`. Mirrors `content_length`.
    @exclusivity(unchecked) public var contentLength: Int?
    /// Whether the body is sent chunked (`enableChunkedEncoding()`). Mirrors `chunked`.
    @exclusivity(unchecked) public private(set) var chunked = false
    /// False closes the connection after this response. Mirrors `keep_alive` / `force_close()`.
    @exclusivity(unchecked) public var keepAlive: Bool?
    /// Cookies to set, sent as `Set-Cookie` fields.
    @exclusivity(unchecked) public var cookies: [String: ResponseCookie] = [:]

    /// The head went out (or is queued): status and fields are fixed. Mirrors `prepared`.
    @exclusivity(unchecked) public internal(set) var isPrepared = false
    /// `writeEOF` was called. Mirrors the `_eof_sent` state.
    @exclusivity(unchecked) public internal(set) var isFinished = false

    @exclusivity(unchecked) var connection: ServerHTTPProtocol?
    @exclusivity(unchecked) var exchangeNumber = 0

    /// Creates a response that is not sent yet.
    public init(status: HTTPResponse.Status = .ok, reason: String? = nil, headers: HTTPFields = [:]) {
        if let reason {
            self.status = HTTPResponse.Status(code: status.code, reasonPhrase: reason)
        } else {
            self.status = status
        }
        self.headers = headers
    }

    /// Sends the body chunked. Mirrors `enable_chunked_encoding()`.
    public func enableChunkedEncoding() {
        chunked = true
    }

    /// Closes the connection after this response. Mirrors `force_close()`.
    public func forceClose() {
        keepAlive = false
    }

    /// Adds a header field. Mirrors `add_header(name, value)` (aiohttp 0.x).
    ///
    /// - Throws: ``ResponseError/invalidFieldName(_:)`` for a name that is not a token;
    ///   ``ResponseError/headersAlreadySent`` once the head is out.
    public func addHeader(_ name: String, _ value: String) throws(ResponseError) {
        guard !isPrepared else { throw .headersAlreadySent }
        guard let fieldName = HTTPField.Name(name) else { throw .invalidFieldName(name) }
        headers.append(HTTPField(name: fieldName, value: value))
    }

    /// Sets a cookie. Mirrors `set_cookie(name, value, ...)`.
    public func setCookie(_ name: String, _ value: String, _ attributes: ResponseCookie.Attributes = .init()) {
        cookies[name] = ResponseCookie(name: name, value: value, attributes: attributes)
    }

    /// Asks the client to delete a cookie (an expired, empty one). Mirrors `del_cookie(name)`.
    public func deleteCookie(_ name: String, path: String = "/", domain: String? = nil) {
        var attributes = ResponseCookie.Attributes(path: path, domain: domain, maxAge: 0)
        attributes.expires = "Thu, 01 Jan 1970 00:00:00 GMT"
        cookies[name] = ResponseCookie(name: name, value: "", attributes: attributes)
    }

    // MARK: - Sending

    /// Binds the response to the request it answers and sends its head. Does nothing if prepared.
    ///
    /// - Throws: ``ResponseError/exchangeOver`` if that request is over. Mirrors `prepare(request)`.
    open func prepare(_ request: Request) async throws {
        guard !isPrepared else { return }
        bind(to: request.connection, exchange: request.exchangeNumber)
        try commit(finalBodyCount: nil)
    }

    /// Queues the head now (the talk's `send_headers()`); it goes out with the first body bytes.
    ///
    /// - Throws: ``ResponseError/notPrepared`` if the response is not bound to a connection;
    ///   ``ResponseError/headersAlreadySent``; ``ResponseError/exchangeOver``.
    public func sendHeaders() throws(ResponseError) {
        guard !isPrepared else { throw .headersAlreadySent }
        try commit(finalBodyCount: nil)
    }

    /// Writes body bytes, waiting first while the client reads too slowly.
    ///
    /// The head is sent first if it was not. Mirrors `await write(data)`.
    /// - Throws: ``ResponseError``; `CancelledError` if the client went away while we waited.
    public func write(_ data: [UInt8]) async throws {
        let connection = try startWrite()
        try data.withUnsafeBytes { try frame($0, on: connection) }
        try await finishWrite(on: connection)
    }

    /// Writes a slice of bytes; see ``write(_:)-([UInt8])``.
    public func write(_ data: ArraySlice<UInt8>) async throws {
        let connection = try startWrite()
        try data.withUnsafeBytes { try frame($0, on: connection) }
        try await finishWrite(on: connection)
    }

    /// Writes `text` as UTF-8; see ``write(_:)-([UInt8])``.
    public func write(_ text: String) async throws {
        let connection = try startWrite()
        var text = text
        try text.withUTF8 { try frame(UnsafeRawBufferPointer($0), on: connection) }
        try await finishWrite(on: connection)
    }

    private func startWrite() throws(ResponseError) -> ServerHTTPProtocol {
        let connection = try checkWritable()
        if !isPrepared { try commit(finalBodyCount: nil) }
        return connection
    }

    private func frame(_ bytes: UnsafeRawBufferPointer, on connection: ServerHTTPProtocol) throws {
        do {
            try connection.writeBody(bytes)
        } catch {
            throw ResponseError.bodyLengthMismatch(declared: contentLength ?? knownBodyCount ?? 0)
        }
    }

    private func finishWrite(on connection: ServerHTTPProtocol) async throws {
        connection.flush()
        if connection.writingPaused { try await connection.waitForDrain() }
    }

    /// Waits until the client has read enough of what was written. Mirrors `drain()`.
    public func drain() async throws {
        guard let connection, connection.response.number == exchangeNumber else { return }
        connection.flush()
        if connection.writingPaused { try await connection.waitForDrain() }
    }

    /// Ends the body (writing `data` last); the response is complete. A second call does nothing.
    ///
    /// A response that was not prepared yet and has no declared length gets `Content-Length:
    /// data.count`. Mirrors `write_eof(data=b'')`.
    public func writeEOF(_ data: [UInt8] = []) async throws {
        guard !isFinished else { return }
        let connection = try end(with: data)
        if connection.writingPaused { try await connection.waitForDrain() }
    }

    /// `writeEOF` up to its wait for the client: commits the head if needed, frames the rest of the
    /// body, ends the response and flushes.
    func end(with data: [UInt8]) throws -> ServerHTTPProtocol {
        let connection = try checkWritable()
        let body = finalBody
        if !isPrepared { try commit(finalBodyCount: body.count + data.count) }
        try body.withUnsafeBytes { try frame($0, on: connection) }
        try data.withUnsafeBytes { try frame($0, on: connection) }
        connection.endResponse()
        isFinished = true
        // A pipelined request that waits will be answered in the same write as this response.
        if !connection.parser.hasPendingBytes { connection.flush() }
        return connection
    }

    /// Ends the body with `text` (UTF-8); see ``writeEOF(_:)-([UInt8])``.
    public func writeEOF(_ text: String) async throws {
        try await writeEOF(Array(text.utf8))
    }

    /// The body a subclass sends at `writeEOF` (``Response``'s).
    var finalBody: [UInt8] { [] }

    /// The body length a subclass knows before anything is written (``Response``'s).
    var knownBodyCount: Int? { nil }

    // MARK: - Binding

    func bind(to connection: ServerHTTPProtocol, exchange: Int) {
        self.connection = connection
        exchangeNumber = exchange
    }

    private func checkWritable() throws(ResponseError) -> ServerHTTPProtocol {
        guard !isFinished else { throw .writeAfterEOF }
        guard let connection else { throw .notPrepared }
        guard connection.response.number == exchangeNumber, connection.socketTransport != nil else {
            throw .exchangeOver
        }
        return connection
    }

    /// Commits the head to the connection.
    func commit(finalBodyCount: Int?) throws(ResponseError) {
        guard let connection else { throw .notPrepared }
        guard connection.response.number == exchangeNumber else { throw .exchangeOver }
        guard !connection.response.committed else { throw .headersAlreadySent }
        var fields = headers
        if !cookies.isEmpty {
            for cookie in cookies.values.sorted(by: { $0.name < $1.name }) {
                fields.append(HTTPField(name: .setCookie, value: cookie.headerValue))
            }
        }
        var type = contentType
        if let charset, let base = type { type = "\(base); charset=\(charset)" }
        connection.commitHead(
            ResponseHeadInfo(
                code: status.code,
                reason: status.reasonPhrase,
                headers: fields,
                contentType: type,
                contentLength: contentLength ?? knownBodyCount,
                chunked: chunked,
                close: keepAlive == false
            ),
            finalBodyCount: finalBodyCount
        )
        isPrepared = true
    }
}

extension ServerHTTPProtocol {
    /// Waits until the transport resumes writing (or the connection is lost).
    func waitForDrain() async throws {
        guard writingPaused, let eventLoop else { return }
        if drainWait == nil { drainWait = WaitPoint(loop: eventLoop) }
        try await drainWait?.wait()
    }
}

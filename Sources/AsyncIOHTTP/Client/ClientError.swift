import AsyncIOTLS
import HTTP1Codec

/// Why a client request failed: aiohttp's client exception classes, as cases.
///
/// Every error is final for the request; where the connection's byte stream may no longer be
/// trusted (a malformed reply, a cut body, a timeout while reading), the connection was closed,
/// never returned to the pool.
///
/// Mirrors aiohttp's `ClientError` hierarchy; the aiohttp class each case stands for is named on it.
public enum ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL cannot be requested: not absolute, a scheme other than http/https, a bad host or
    /// port, a forbidden byte. aiohttp's `InvalidURL`.
    case invalidURL(String)
    /// Connecting to the server failed (refused, unreachable, name not resolved): aiohttp's
    /// `ClientConnectorError`. `reason` describes the underlying error.
    case cannotConnect(host: String, port: Int, reason: String)
    /// The TLS handshake with an `https` server failed: its certificate was refused (expired,
    /// self-signed, not for this host: `TLSError.certificateVerificationFailed`), or no version or
    /// cipher in common. aiohttp's `ClientConnectorCertificateError` / `ClientSSLError`.
    case tls(host: String, port: Int, error: TLSError)
    /// The server closed the connection before the response was complete: aiohttp's
    /// `ServerDisconnectedError` (before the head) or `ClientPayloadError` (inside the body).
    case serverDisconnected(duringBody: Bool)
    /// The server's reply broke HTTP/1.1 (the parser's exact reason): aiohttp's
    /// `ClientResponseError` for a bad status line or headers. The connection was closed.
    case malformedResponse(HTTPParseError)
    /// Bytes arrived from the server when no request was outstanding; the connection was closed.
    case unexpectedData
    /// A timeout of ``ClientTimeout`` expired: aiohttp's `ServerTimeoutError` /
    /// `ConnectionTimeoutError` / `SocketTimeoutError` (all `asyncio.TimeoutError`).
    case timeout(ClientTimeout.Kind)
    /// More redirects than allowed: aiohttp's `TooManyRedirects`.
    case tooManyRedirects(count: Int)
    /// `raiseForStatus` is on and the status was 400 or more: aiohttp's `ClientResponseError`.
    case responseStatus(code: Int, reason: String)
    /// `json(as:)` found another Content-Type than the one expected: aiohttp's `ContentTypeError`.
    case contentType(expected: String, actual: String?)
    /// `text()` could not decode the body in its charset (or the charset is unknown).
    case decoding(charset: String)
    /// A header the caller gave cannot be written (a CR, LF or other control byte, a bad name).
    case invalidRequest(HTTPSerializeError)
    /// A request body stream yielded more or fewer bytes than the `length` it announced.
    case bodyLengthMismatch(expected: Int, actual: Int)
    /// The session was closed: aiohttp's `RuntimeError('Session is closed')`.
    case sessionClosed

    public var description: String {
        switch self {
        case .invalidURL(let url): "InvalidURL: \(url)"
        case .tls(let host, let port, let error): "ClientSSLError: \(host):\(port): \(error)"
        case .cannotConnect(let host, let port, let reason): "Cannot connect to host \(host):\(port): \(reason)"
        case .serverDisconnected(let duringBody):
            duringBody ? "ClientPayloadError: Response payload is not completed" : "ServerDisconnectedError"
        case .malformedResponse(let error): "ClientResponseError: malformed response (\(error))"
        case .unexpectedData: "ClientResponseError: data received while no request was outstanding"
        case .timeout(let kind): "TimeoutError: \(kind) timeout"
        case .tooManyRedirects(let count): "TooManyRedirects: more than \(count) redirects"
        case .responseStatus(let code, let reason): "ClientResponseError: \(code), message='\(reason)'"
        case .contentType(let expected, let actual):
            "ContentTypeError: expected \(expected), got \(actual ?? "no Content-Type")"
        case .decoding(let charset): "cannot decode the body as \(charset)"
        case .invalidRequest(let error): "invalid request: \(error)"
        case .bodyLengthMismatch(let expected, let actual):
            "the body stream gave \(actual) bytes, \(expected) were announced"
        case .sessionClosed: "Session is closed"
        }
    }
}

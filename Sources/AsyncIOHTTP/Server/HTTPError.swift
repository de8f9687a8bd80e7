import HTTPTypes

/// An HTTP error answer, thrown by a handler: aiohttp's `web.HTTPException` family.
///
/// `throw HTTPError.notFound()` answers `404` with the text `404: Not Found`; redirects carry a
/// `Location` field (`throw HTTPError.found(location: "/login")`). Any other error a handler throws
/// becomes a `500` whose body says nothing about the error (it is logged instead).
///
/// Mirrors aiohttp's `HTTPNotFound`, `HTTPFound`, …; deviation: one type with a status, not a class
/// per status, and it is not itself a response (middlewares catch it as an error).
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// The status code and reason phrase.
    public var status: HTTPResponse.Status
    /// The body; nil sends aiohttp's default, `"<code>: <reason>"`. Empty sends no body.
    public var text: String?
    /// Extra header fields (a redirect's `Location`, a 405's `Allow`).
    public var headers: HTTPFields

    /// An error answer with any status.
    public init(_ status: HTTPResponse.Status, text: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.text = text
        self.headers = headers
    }

    /// The reason phrase: the status's own, or the standard one for its code.
    public var reason: String {
        status.reasonPhrase.isEmpty ? reasonPhrase(for: status.code) : status.reasonPhrase
    }

    /// The body that is sent.
    public var body: String { text ?? "\(status.code): \(reason)" }

    public var description: String { "HTTPError(\(status.code) \(reason))" }

    // MARK: - Client errors

    /// 400. Mirrors `HTTPBadRequest`.
    public static func badRequest(text: String? = nil, headers: HTTPFields = [:]) -> HTTPError {
        HTTPError(.badRequest, text: text, headers: headers)
    }

    /// 401. Mirrors `HTTPUnauthorized`.
    public static func unauthorized(text: String? = nil, headers: HTTPFields = [:]) -> HTTPError {
        HTTPError(.unauthorized, text: text, headers: headers)
    }

    /// 403. Mirrors `HTTPForbidden`.
    public static func forbidden(text: String? = nil, headers: HTTPFields = [:]) -> HTTPError {
        HTTPError(.forbidden, text: text, headers: headers)
    }

    /// 404. Mirrors `HTTPNotFound`.
    public static func notFound(text: String? = nil, headers: HTTPFields = [:]) -> HTTPError {
        HTTPError(.notFound, text: text, headers: headers)
    }

    /// 405 with an `Allow` field listing `allowed`. Mirrors `HTTPMethodNotAllowed(method, allowed_methods)`.
    public static func methodNotAllowed(allowed: [HTTPRequest.Method], text: String? = nil) -> HTTPError {
        var headers = HTTPFields()
        headers[.allow] = allowed.map(\.rawValue).sorted().joined(separator: ", ")
        return HTTPError(.methodNotAllowed, text: text, headers: headers)
    }

    /// 408. Mirrors `HTTPRequestTimeout`.
    public static func requestTimeout(text: String? = nil) -> HTTPError {
        HTTPError(.init(code: 408, reasonPhrase: "Request Timeout"), text: text)
    }

    /// 413. Mirrors `HTTPRequestEntityTooLarge`.
    public static func payloadTooLarge(text: String? = nil) -> HTTPError {
        HTTPError(.contentTooLarge, text: text)
    }

    /// 415. Mirrors `HTTPUnsupportedMediaType`.
    public static func unsupportedMediaType(text: String? = nil) -> HTTPError {
        HTTPError(.unsupportedMediaType, text: text)
    }

    /// 416 with `Content-Range: bytes */length`. Mirrors `HTTPRequestRangeNotSatisfiable`.
    public static func rangeNotSatisfiable(length: Int) -> HTTPError {
        var headers = HTTPFields()
        headers[.contentRange] = "bytes */\(length)"
        return HTTPError(.rangeNotSatisfiable, headers: headers)
    }

    /// 422. Mirrors `HTTPUnprocessableEntity`.
    public static func unprocessableContent(text: String? = nil) -> HTTPError {
        HTTPError(.unprocessableContent, text: text)
    }

    // MARK: - Server errors

    /// 500. Mirrors `HTTPInternalServerError`.
    public static func internalServerError(text: String? = nil) -> HTTPError {
        HTTPError(.internalServerError, text: text)
    }

    /// 501. Mirrors `HTTPNotImplemented`.
    public static func notImplemented(text: String? = nil) -> HTTPError {
        HTTPError(.notImplemented, text: text)
    }

    /// 503. Mirrors `HTTPServiceUnavailable`.
    public static func serviceUnavailable(text: String? = nil) -> HTTPError {
        HTTPError(.serviceUnavailable, text: text)
    }

    // MARK: - Redirects

    /// A redirect with `status` to `location`.
    public static func redirect(_ status: HTTPResponse.Status, location: String) -> HTTPError {
        var headers = HTTPFields()
        headers[.location] = location
        return HTTPError(status, headers: headers)
    }

    /// 301. Mirrors `HTTPMovedPermanently(location)`.
    public static func movedPermanently(location: String) -> HTTPError {
        redirect(.movedPermanently, location: location)
    }

    /// 302. Mirrors `HTTPFound(location)`.
    public static func found(location: String) -> HTTPError { redirect(.found, location: location) }

    /// 303. Mirrors `HTTPSeeOther(location)`.
    public static func seeOther(location: String) -> HTTPError { redirect(.seeOther, location: location) }

    /// 307. Mirrors `HTTPTemporaryRedirect(location)`.
    public static func temporaryRedirect(location: String) -> HTTPError {
        redirect(.temporaryRedirect, location: location)
    }

    /// 308. Mirrors `HTTPPermanentRedirect(location)`.
    public static func permanentRedirect(location: String) -> HTTPError {
        redirect(.permanentRedirect, location: location)
    }
}

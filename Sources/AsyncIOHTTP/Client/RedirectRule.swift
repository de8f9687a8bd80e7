import HTTPTypes

/// What to do with a 3xx response: the redirect rules of RFC 9110 §15.4 as aiohttp and the Fetch
/// standard apply them, as a pure function.
///
/// - 301 and 302 turn a POST into a GET without a body (every client has done so since HTTP/1.0);
///   other methods are repeated as they were.
/// - 303 turns every method but HEAD into a GET without a body.
/// - 307 and 308 repeat the method and the body unchanged.
/// - A redirect to another origin (scheme, host or port) drops `Authorization` (and the URL's own
///   credentials), so a server cannot hand the caller's credentials to a third party; `Cookie` is
///   recomputed by the jar for every hop, so it never leaks either.
/// - A body dropped by the rules also drops the fields that described it.
///
/// Mirrors the redirect branch of aiohttp's `ClientSession._request`.
struct RedirectRule: Equatable {
    /// The method of the next request.
    var method: HTTPRequest.Method
    /// Whether the next request carries the body again.
    var keepsBody: Bool
    /// Whether the next request goes to another origin (credentials are dropped).
    var crossOrigin: Bool
    /// The URL of the next request.
    var url: ClientURL

    /// The statuses that redirect.
    static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

    /// Decides the next request, or nil when the response is not a redirect to follow (not a
    /// redirect status, or no Location field: the response is then the final one).
    ///
    /// - Throws: ``ClientError/invalidURL(_:)`` for a Location that cannot be resolved.
    static func next(
        status: Int,
        method: HTTPRequest.Method,
        url: ClientURL,
        location: String?
    ) throws(ClientError) -> RedirectRule? {
        guard redirectStatuses.contains(status), let location, !location.isEmpty else { return nil }
        let target = try url.resolving(location)
        var nextMethod = method
        var keepsBody = true
        if (status == 303 && method != .head) || ((status == 301 || status == 302) && method == .post) {
            nextMethod = .get
            keepsBody = false
        }
        return RedirectRule(
            method: nextMethod,
            keepsBody: keepsBody,
            crossOrigin: target.origin != url.origin,
            url: target
        )
    }

    /// Applies the rule to the fields of the previous request.
    func apply(to fields: inout HTTPFields) {
        if crossOrigin { fields[.authorization] = nil }
        if !keepsBody {
            fields[.contentType] = nil
            fields[.contentLength] = nil
            fields[.transferEncoding] = nil
        }
        // The jar computes the cookies of the next hop; a Cookie field of the previous one stays
        // only if the caller set it and the origin is the same.
        if crossOrigin { fields[.cookie] = nil }
    }
}

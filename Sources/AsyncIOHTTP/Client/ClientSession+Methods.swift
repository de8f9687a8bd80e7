import AsyncIO
import HTTPTypes

// The per-method shorthands of aiohttp's ClientSession, each `request(method, …)`.

extension ClientSession {
    /// Sends a GET. Mirrors `session.get(url, …)`; see ``request(_:_:query:headers:body:allowRedirects:maxRedirects:timeout:raiseForStatus:)``.
    public func get(
        _ url: String,
        query: [(String, String)] = [],
        headers: HTTPFields = [:],
        allowRedirects: Bool = true,
        timeout: ClientTimeout? = nil
    ) async throws -> ClientResponse {
        try await request(.get, url, query: query, headers: headers, allowRedirects: allowRedirects, timeout: timeout)
    }

    /// Sends a HEAD (redirects are not followed unless asked, as in aiohttp). Mirrors `session.head(url, …)`.
    public func head(
        _ url: String,
        query: [(String, String)] = [],
        headers: HTTPFields = [:],
        allowRedirects: Bool = false,
        timeout: ClientTimeout? = nil
    ) async throws -> ClientResponse {
        try await request(.head, url, query: query, headers: headers, allowRedirects: allowRedirects, timeout: timeout)
    }

    /// Sends a POST. Mirrors `session.post(url, data=…, json=…)`.
    public func post(
        _ url: String,
        query: [(String, String)] = [],
        headers: HTTPFields = [:],
        body: ClientRequestBody? = nil,
        allowRedirects: Bool = true,
        timeout: ClientTimeout? = nil
    ) async throws -> ClientResponse {
        try await request(
            .post,
            url,
            query: query,
            headers: headers,
            body: body,
            allowRedirects: allowRedirects,
            timeout: timeout
        )
    }

    /// Sends a PUT. Mirrors `session.put(url, data=…)`.
    public func put(
        _ url: String,
        query: [(String, String)] = [],
        headers: HTTPFields = [:],
        body: ClientRequestBody? = nil,
        allowRedirects: Bool = true,
        timeout: ClientTimeout? = nil
    ) async throws -> ClientResponse {
        try await request(
            .put,
            url,
            query: query,
            headers: headers,
            body: body,
            allowRedirects: allowRedirects,
            timeout: timeout
        )
    }

    /// Sends a PATCH. Mirrors `session.patch(url, data=…)`.
    public func patch(
        _ url: String,
        query: [(String, String)] = [],
        headers: HTTPFields = [:],
        body: ClientRequestBody? = nil,
        allowRedirects: Bool = true,
        timeout: ClientTimeout? = nil
    ) async throws -> ClientResponse {
        try await request(
            .patch,
            url,
            query: query,
            headers: headers,
            body: body,
            allowRedirects: allowRedirects,
            timeout: timeout
        )
    }

    /// Sends a DELETE. Mirrors `session.delete(url, …)`.
    public func delete(
        _ url: String,
        query: [(String, String)] = [],
        headers: HTTPFields = [:],
        allowRedirects: Bool = true,
        timeout: ClientTimeout? = nil
    ) async throws -> ClientResponse {
        try await request(
            .delete,
            url,
            query: query,
            headers: headers,
            allowRedirects: allowRedirects,
            timeout: timeout
        )
    }
}

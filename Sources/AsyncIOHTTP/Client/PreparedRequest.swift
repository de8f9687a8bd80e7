import AsyncIO
import Foundation
import HTTP1Codec
import HTTPTypes

/// One request as it goes on the wire: method, URL, fields, body; serialized by `HTTP1Serializer`.
///
/// The head gets, in order: Host (from the URL, unless the caller set one), the caller's fields,
/// then what the client adds when the caller did not: User-Agent, `Accept: */*`, the body's
/// Content-Type, its framing (Content-Length, or `Transfer-Encoding: chunked` for a stream of
/// unknown length), Authorization from the URL's credentials (Basic), and the jar's cookies
/// (after the caller's own Cookie field, if any). Every name and value is validated by the
/// serializer: a CR or LF in a field is a typed error, never a split request.
struct PreparedRequest {
    var method: HTTPRequest.Method
    var url: ClientURL
    var fields: HTTPFields
    var body: ClientRequestBody?

    /// What the response parser must know about the request.
    var parserMethod: ResponseParser.RequestMethod {
        switch method {
        case .head: .head
        case .connect: .connect
        default: .other
        }
    }

    /// Whether the caller asked to close the connection after the response.
    var closesConnection: Bool {
        fields[values: .connection].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
        }
    }

    /// Whether the request may be sent again after a connection died under it (RFC 9110 §9.2.2).
    var isRetryable: Bool {
        let idempotent: Set<HTTPRequest.Method> = [.get, .head, .options, .trace, .put, .delete]
        return idempotent.contains(method) && (body?.isReplayable ?? true)
    }

    /// Refuses what this client cannot request: schemes other than http and https.
    func checkScheme() throws(ClientError) {
        switch url.scheme {
        case "http", "https": return
        default: throw .invalidURL(url.description)
        }
    }

    /// Moves on to the next request of a redirect.
    mutating func follow(_ rule: RedirectRule) {
        rule.apply(to: &fields)
        if !rule.keepsBody { body = nil }
        if rule.crossOrigin || rule.url.user != nil {
            // Credentials from the first URL never travel to another origin.
            url = rule.url
        } else {
            let (user, password) = (url.user, url.password)
            url = rule.url
            url.setCredentials(user: user, password: password)
        }
        method = rule.method
    }

    // MARK: - Serializing

    /// The request head.
    ///
    /// - Throws: ``ClientError/invalidRequest(_:)``.
    func serializeHead(cookies: String?) throws(ClientError) -> [UInt8] {
        var lines: [(String, String)] = []
        lines.reserveCapacity(fields.count + 6)
        if fields[hostName] == nil { lines.append(("Host", url.authority)) }
        var hasUserAgent = false
        var hasAccept = false
        var hasContentType = false
        var cookieLine: String?
        for field in fields {
            switch field.name {
            case .userAgent: hasUserAgent = true
            case .accept: hasAccept = true
            case .contentType: hasContentType = true
            case .contentLength, .transferEncoding:
                // The body decides its own framing; a caller's value could only contradict it.
                if body != nil { continue }
            case .cookie:
                cookieLine = cookieLine.map { "\($0); \(field.value)" } ?? field.value
                continue
            default: break
            }
            lines.append((field.name.rawName, field.value))
        }
        if !hasUserAgent { lines.append(("User-Agent", ClientSession.defaultUserAgent)) }
        if !hasAccept { lines.append(("Accept", "*/*")) }
        if let body {
            if !hasContentType, let contentType = body.contentType { lines.append(("Content-Type", contentType)) }
            switch body.storage {
            case .bytes(let bytes): lines.append(("Content-Length", String(bytes.count)))
            case .stream(_, let length?): lines.append(("Content-Length", String(length)))
            case .stream(_, nil): lines.append(("Transfer-Encoding", "chunked"))
            }
        } else if method == .post || method == .put || method == .patch {
            // RFC 9110 §8.6: a request that usually has content says when it has none.
            lines.append(("Content-Length", "0"))
        }
        if fields[.authorization] == nil, let user = url.user {
            let credentials = Data("\(user):\(url.password ?? "")".utf8).base64EncodedString()
            lines.append(("Authorization", "Basic \(credentials)"))
        }
        if let cookies { cookieLine = cookieLine.map { "\($0); \(cookies)" } ?? cookies }
        if let cookieLine { lines.append(("Cookie", cookieLine)) }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        do {
            try HTTP1Serializer.writeRequestHead(method: method.rawValue, target: url.target, fields: lines, into: &out)
        } catch {
            throw .invalidRequest(error)
        }
        return out
    }

    /// Writes the head and the body; a stream is written chunk by chunk, waiting for the
    /// transport's buffer to drain, and stops early if the response already failed or ended.
    ///
    /// - Throws: ``ClientError/bodyLengthMismatch(expected:actual:)``; what the stream throws.
    func write(
        head: [UInt8],
        to connection: ClientConnection,
        exchange: ClientExchange
    ) async throws {
        guard let body else { return connection.write(head) }
        switch body.storage {
        case .bytes(let bytes):
            if bytes.isEmpty { connection.write(head) } else { connection.writeLines([head, bytes]) }
        case .stream(let next, let length):
            connection.requestInFlight = true
            defer { connection.requestInFlight = false }
            connection.write(head)
            var written = 0
            while !exchange.isDone, connection.isOpen, let chunk = try await next() {
                written += chunk.count
                if let length {
                    guard written <= length else {
                        throw ClientError.bodyLengthMismatch(expected: length, actual: written)
                    }
                    connection.write(chunk)
                } else if !chunk.isEmpty {
                    var framed: [UInt8] = []
                    HTTP1Serializer.writeChunk(chunk, into: &framed)
                    connection.write(framed)
                }
                try await connection.drain()
            }
            guard !exchange.isDone, connection.isOpen else { return }
            if let length, written != length {
                throw ClientError.bodyLengthMismatch(expected: length, actual: written)
            }
            if length == nil { connection.write(Array("0\r\n\r\n".utf8)) }
        }
    }
}

/// `HTTPField.Name.host` is unavailable (swift-http-types keeps Host in `authority`); a request
/// made here may still set its own Host field.
private let hostName = HTTPField.Name("Host")!

extension ClientURL {
    /// Sets the credentials (kept across a same-origin redirect).
    mutating func setCredentials(user: String?, password: String?) {
        self.user = user
        self.password = password
    }
}

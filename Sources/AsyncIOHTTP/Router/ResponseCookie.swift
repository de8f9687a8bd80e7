/// A cookie a response sets (`Set-Cookie`, RFC 6265 §4.1); the client's stored cookies are ``Cookie``.
///
/// Mirrors the morsels of aiohttp's `response.cookies` (`set_cookie(name, value, expires=…,
/// domain=…, max_age=…, path='/', secure=…, httponly=…, samesite=…)`).
public struct ResponseCookie: Sendable, Equatable {
    /// The attributes of a `Set-Cookie` field.
    public struct Attributes: Sendable, Equatable {
        /// `Path`; aiohttp's default is `/`.
        public var path: String?
        /// `Domain`.
        public var domain: String?
        /// `Max-Age` in seconds.
        public var maxAge: Int?
        /// `Expires`, an HTTP date.
        public var expires: String?
        /// `Secure`.
        public var secure: Bool
        /// `HttpOnly`.
        public var httpOnly: Bool
        /// `SameSite`: `Strict`, `Lax` or `None`.
        public var sameSite: String?

        /// Attributes; `path` defaults to `/` as in aiohttp.
        public init(
            path: String? = "/",
            domain: String? = nil,
            maxAge: Int? = nil,
            expires: String? = nil,
            secure: Bool = false,
            httpOnly: Bool = false,
            sameSite: String? = nil
        ) {
            self.path = path
            self.domain = domain
            self.maxAge = maxAge
            self.expires = expires
            self.secure = secure
            self.httpOnly = httpOnly
            self.sameSite = sameSite
        }
    }

    /// The cookie's name.
    public var name: String
    /// The cookie's value (sent as is: quote or encode it yourself if it has `;`, `,` or spaces).
    public var value: String
    /// Its attributes.
    public var attributes: Attributes

    /// A cookie with `attributes`.
    public init(name: String, value: String, attributes: Attributes = .init()) {
        self.name = name
        self.value = value
        self.attributes = attributes
    }

    /// The value of the `Set-Cookie` field.
    public var headerValue: String {
        var text = "\(name)=\(value)"
        if let domain = attributes.domain { text += "; Domain=\(domain)" }
        if let expires = attributes.expires { text += "; expires=\(expires)" }
        if attributes.httpOnly { text += "; HttpOnly" }
        if let maxAge = attributes.maxAge { text += "; Max-Age=\(maxAge)" }
        if let path = attributes.path { text += "; Path=\(path)" }
        if let sameSite = attributes.sameSite { text += "; SameSite=\(sameSite)" }
        if attributes.secure { text += "; Secure" }
        return text
    }

    /// Parses a `Cookie` request field (`a=1; b=2`) into names and values; the first of a name wins.
    ///
    /// Values in double quotes lose the quotes. Pairs without `=` are skipped, as browsers do.
    public static func parseCookieField(_ field: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in field.split(separator: ";") {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = pair[..<equals].trimmingASCIISpaces()
            var value = pair[pair.index(after: equals)...].trimmingASCIISpaces()
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
            guard !name.isEmpty, result[String(name)] == nil else { continue }
            result[String(name)] = String(value)
        }
        return result
    }
}

extension Substring {
    /// The substring without leading and trailing spaces and tabs.
    func trimmingASCIISpaces() -> Substring {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}

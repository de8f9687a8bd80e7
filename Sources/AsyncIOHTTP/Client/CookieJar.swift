// Theory of operation
//
// The jar is RFC 6265 §5 as a value type with the clock passed in (so tests need no waiting):
// `store(setCookie:from:now:)` is the storage model of §5.3 applied to one Set-Cookie value
// (parsed by §5.2, dates by §5.1.1), and `cookieHeader(for:now:)` is the retrieval of §5.4.
//
//   - A cookie without Domain is host-only: sent back to exactly the host that set it. With
//     Domain, the request host must domain-match it (else the cookie is ignored), and it is sent
//     to that domain and its subdomains. An IP address only ever domain-matches itself.
//   - Path defaults to the directory of the request path; a cookie is sent to requests whose path
//     path-matches it (`/a` matches `/a`, `/a/`, `/a/b`, not `/ab`).
//   - Max-Age wins over Expires; a zero or negative Max-Age, or an Expires in the past, deletes
//     the cookie with the same name, domain and path. No expiry: a session cookie, kept as long
//     as the jar.
//   - Secure cookies are only sent over https; HttpOnly means nothing to a client without scripts.
//   - A cookie replacing one with the same (name, domain, path) keeps the old creation time; the
//     Cookie header lists longer paths first, then older cookies first (§5.4 step 2).
//
// There is no public suffix list on this machine: a Domain attribute naming a whole top-level
// domain (a single label, such as `com`) is refused, deeper public suffixes are not known.

/// One stored cookie.
public struct Cookie: Sendable, Hashable {
    /// The cookie's name.
    public var name: String
    /// The cookie's value, as the server sent it.
    public var value: String
    /// The domain it belongs to (lowercased, no leading dot).
    public var domain: String
    /// The path it is sent to.
    public var path: String
    /// When it expires, in seconds since 1970; nil for a session cookie.
    public var expires: Int64?
    /// Only sent over https.
    public var secure: Bool
    /// Not for scripts (kept for completeness; a client sends it like any other).
    public var httpOnly: Bool
    /// Sent only to exactly ``domain`` (the server gave no Domain attribute).
    public var hostOnly: Bool
    /// When it was first stored, in seconds since 1970, and an order among equal times.
    var creation: (time: Int64, sequence: Int) = (0, 0)

    public static func == (a: Cookie, b: Cookie) -> Bool {
        a.name == b.name && a.value == b.value && a.domain == b.domain && a.path == b.path && a.expires == b.expires
            && a.secure == b.secure && a.httpOnly == b.httpOnly && a.hostOnly == b.hostOnly
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(domain)
        hasher.combine(path)
    }
}

/// The cookies of a session: stored from `Set-Cookie`, sent back in `Cookie`.
///
/// Mirrors `aiohttp.CookieJar`. Deviations: cookies from IP addresses are accepted (host-only, as
/// browsers and RFC 6265 do; aiohttp needs `unsafe=True`); `quote_cookie` is not offered (values go
/// back exactly as they came).
public struct CookieJar: Sendable {
    /// The most cookies kept; past it, the ones that expire first (session cookies last) go.
    public static let maxCookies = 3000
    /// The longest name plus value accepted (RFC 6265 §6.1's minimum a client must support).
    public static let maxCookieSize = 4096

    /// Every cookie stored, expired ones included until the next store or lookup drops them.
    public private(set) var cookies: [Cookie] = []
    private var sequence = 0

    /// Creates an empty jar.
    public init() {}

    /// Forgets every cookie. Mirrors `CookieJar.clear()`.
    public mutating func clear() {
        cookies.removeAll()
    }

    /// Stores the cookies of one response's `Set-Cookie` field values, received from `url`.
    ///
    /// Mirrors `CookieJar.update_cookies(response.cookies, response.url)`.
    public mutating func store(setCookie values: some Sequence<String>, from url: ClientURL, now: Int64) {
        for value in values { store(setCookie: value, from: url, now: now) }
    }

    /// Stores one cookie the way a server would set it with `name=value` and no attributes.
    ///
    /// Mirrors `CookieJar.update_cookies({name: value}, url)`.
    public mutating func update(name: String, value: String, for url: ClientURL, now: Int64) {
        store(setCookie: "\(name)=\(value)", from: url, now: now)
    }

    /// Stores one `Set-Cookie` field value received from `url` (RFC 6265 §5.3); ignores it if invalid.
    public mutating func store(setCookie value: String, from url: ClientURL, now: Int64) {
        guard var cookie = Self.parse(value, url: url, now: now) else { return }
        cookies.removeAll { $0.expires.map { $0 <= now } ?? false }
        if let index = cookies.firstIndex(where: {
            $0.name == cookie.name && $0.domain == cookie.domain && $0.path == cookie.path
        }) {
            cookie.creation = cookies[index].creation
            cookies.remove(at: index)
        } else {
            sequence += 1
            cookie.creation = (now, sequence)
        }
        if let expires = cookie.expires, expires <= now { return }
        cookies.append(cookie)
        if cookies.count > Self.maxCookies {
            // Evict the cookie that would expire first; session cookies outlive dated ones.
            let victim = cookies.indices.min { (cookies[$0].expires ?? .max) < (cookies[$1].expires ?? .max) }!
            cookies.remove(at: victim)
        }
    }

    /// The cookies to send to `url`, in Cookie-header order (longest path first, then oldest).
    ///
    /// Mirrors `CookieJar.filter_cookies(url)`.
    public func filterCookies(for url: ClientURL, now: Int64) -> [Cookie] {
        let secure = url.scheme == "https" || url.scheme == "wss"
        return
            cookies
            .filter { cookie in
                (cookie.expires.map { $0 > now } ?? true) && (!cookie.secure || secure)
                    && Self.domainMatches(url.host, cookie: cookie) && Self.pathMatches(url.path, cookie.path)
            }
            .sorted {
                $0.path.utf8.count != $1.path.utf8.count
                    ? $0.path.utf8.count > $1.path.utf8.count : $0.creation < $1.creation
            }
    }

    /// The `Cookie` field value for a request to `url`, or nil when no cookie applies.
    public func cookieHeader(for url: ClientURL, now: Int64) -> String? {
        let matching = filterCookies(for: url, now: now)
        guard !matching.isEmpty else { return nil }
        return matching.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
    }

    // MARK: - Matching (RFC 6265 §5.1.3, §5.1.4)

    static func domainMatches(_ host: String, cookie: Cookie) -> Bool {
        if host == cookie.domain { return true }
        guard !cookie.hostOnly else { return false }
        return domainMatches(host, domain: cookie.domain)
    }

    static func domainMatches(_ host: String, domain: String) -> Bool {
        if host == domain { return true }
        guard !ClientURL.isIPv4(host), !host.contains(":") else { return false }
        return host.hasSuffix("." + domain)
    }

    static func pathMatches(_ requestPath: String, _ cookiePath: String) -> Bool {
        if requestPath == cookiePath { return true }
        guard requestPath.hasPrefix(cookiePath) else { return false }
        if cookiePath.hasSuffix("/") { return true }
        return requestPath.utf8.dropFirst(cookiePath.utf8.count).first == UInt8(ascii: "/")
    }

    /// The default path of a cookie set from `path` (§5.1.4): its directory.
    static func defaultPath(_ path: String) -> String {
        guard path.hasPrefix("/"), let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    // MARK: - Parsing (RFC 6265 §5.2)

    static func parse(_ header: String, url: ClientURL, now: Int64) -> Cookie? {
        let parts = header.split(separator: ";", omittingEmptySubsequences: false)
        guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { return nil }
        let name = trim(pair[..<equals])
        let value = trim(pair[pair.index(after: equals)...])
        guard !name.isEmpty, name.utf8.count + value.utf8.count <= maxCookieSize else { return nil }
        // A control byte in either would be unsafe to send back.
        guard (name + value).utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { return nil }

        var domainAttribute: String?
        var pathAttribute: String?
        var maxAge: Int64?
        var expires: Int64?
        var secure = false
        var httpOnly = false
        for attribute in parts.dropFirst() {
            let equals = attribute.firstIndex(of: "=")
            let key = trim(attribute[..<(equals ?? attribute.endIndex)]).lowercased()
            let argument = equals.map { trim(attribute[attribute.index(after: $0)...]) } ?? ""
            switch key {
            case "expires":
                if let date = CookieDate.parse(argument) { expires = date }
            case "max-age":
                let digits = argument.hasPrefix("-") ? argument.dropFirst() : Substring(argument)
                guard !digits.isEmpty, digits.utf8.allSatisfy(isDigit) else { continue }
                let magnitude = digits.count > 15 ? Int64(1) << 50 : Int64(digits)!
                maxAge = argument.hasPrefix("-") ? -magnitude : magnitude
            case "domain":
                guard !argument.isEmpty else { continue }
                var domain = argument.lowercased()
                if domain.hasPrefix(".") { domain.removeFirst() }
                domainAttribute = domain
            case "path":
                pathAttribute = argument.hasPrefix("/") ? argument : nil
            case "secure":
                secure = true
            case "httponly":
                httpOnly = true
            default:
                continue
            }
        }

        var cookie = Cookie(
            name: name,
            value: value,
            domain: url.host,
            path: pathAttribute ?? defaultPath(url.path),
            expires: nil,
            secure: secure,
            httpOnly: httpOnly,
            hostOnly: true
        )
        if let domain = domainAttribute, domain != url.host {
            // The host must be inside the domain, and the domain more than a top-level label.
            guard domainMatches(url.host, domain: domain), domain.contains(".") else { return nil }
            cookie.domain = domain
            cookie.hostOnly = false
        }
        if let maxAge {
            cookie.expires = maxAge <= 0 ? Int64.min : now.addingReportingOverflow(maxAge).partialValue
        } else if let expires {
            cookie.expires = expires
        }
        return cookie
    }

    private static func trim(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

/// The cookie-date algorithm of RFC 6265 §5.1.1: the forgiving parser every browser uses for
/// `Expires` (`Wed, 21 Oct 2015 07:28:00 GMT`, `Wednesday, 21-Oct-15 07:28:00 GMT`, `Wed Oct 21
/// 07:28:00 2015`…).
enum CookieDate {
    /// Seconds since 1970 (UTC), or nil when the text is not a date.
    static func parse(_ text: String) -> Int64? {
        var time: (Int, Int, Int)?
        var day: Int?
        var month: Int?
        var year: Int?
        for token in tokens(text) {
            if time == nil, let parsed = parseTime(token) {
                time = parsed
            } else if day == nil, let value = leadingDigits(token, min: 1, max: 2) {
                day = value
            } else if month == nil, let value = parseMonth(token) {
                month = value
            } else if year == nil, let value = leadingDigits(token, min: 2, max: 4) {
                year = value
            }
        }
        guard let (hour, minute, second) = time, let day, let month, var year else { return nil }
        if (70...99).contains(year) { year += 1900 } else if (0...69).contains(year) { year += 2000 }
        guard (1...31).contains(day), year >= 1601, hour <= 23, minute <= 59, second <= 59 else { return nil }
        guard day <= daysIn(month: month, year: year) else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }

    private static func isDelimiter(_ b: UInt8) -> Bool {
        b == 0x09 || (0x20...0x2F).contains(b) || (0x3B...0x40).contains(b) || (0x5B...0x60).contains(b)
            || (0x7B...0x7E).contains(b)
    }

    private static func tokens(_ text: String) -> [[UInt8]] {
        Array(text.utf8).split(whereSeparator: isDelimiter).map(Array.init)
    }

    /// `1*2DIGIT` followed by anything that is not a digit.
    private static func leadingDigits(_ token: [UInt8], min: Int, max: Int) -> Int? {
        let digits = token.prefix(while: isDigit)
        guard digits.count >= min, digits.count <= max else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    private static func parseTime(_ token: [UInt8]) -> (Int, Int, Int)? {
        let fields = token.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard fields.count == 3 else { return nil }
        var values: [Int] = []
        for (index, field) in fields.enumerated() {
            let digits = field.prefix(while: isDigit)
            // Only the last field may carry trailing non-digits.
            guard (1...2).contains(digits.count), index == 2 || digits.count == field.count else { return nil }
            values.append(digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) })
        }
        return (values[0], values[1], values[2])
    }

    private static func parseMonth(_ token: [UInt8]) -> Int? {
        guard token.count >= 3 else { return nil }
        let prefix = String(decoding: token.prefix(3).map(lowercase), as: UTF8.self)
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        return months.firstIndex(of: prefix).map { $0 + 1 }
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }
}

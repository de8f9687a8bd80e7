import Glibc

// Theory of operation
//
// A client needs little of a URL, but needs it exactly: the scheme, the host (a name, an IPv4
// address, or an IPv6 literal in brackets), the port, and the request-target (path and query),
// percent-encoded so that it is legal on the request line. That is what `ClientURL` keeps. The
// parser is RFC 3986 with the repairs every client makes (yarl, curl, browsers): bytes that may
// not appear in a path or query (a space, `"`, `<`, non-ASCII as UTF-8…) are percent-encoded, and
// a `%` not followed by two hex digits becomes `%25`. It refuses what cannot be repaired safely:
// control bytes anywhere (CR, LF and TAB could split the request line), a space in the
// authority, an empty or invalid host, a port outside 0...65535. A fragment is dropped, as no client sends one.
//
// Redirects resolve their `Location` against the request's URL with RFC 3986 §5.2 (absolute,
// network-path, absolute-path, query-only and relative references, dot segments removed).

/// An absolute http(s) URL, parsed and normalised for a request.
///
/// Mirrors what aiohttp takes from `yarl.URL`. Deviation: a host name must be ASCII (no IDNA).
public struct ClientURL: Sendable, Hashable, CustomStringConvertible {
    /// The scheme, lowercased (`http` or `https` for a request; others parse but cannot be requested).
    public private(set) var scheme: String
    /// The host, lowercased; an IPv6 address without its brackets.
    public private(set) var host: String
    /// The port given in the URL, or the scheme's default.
    public private(set) var port: Int
    /// The percent-encoded path, starting with `/`.
    public private(set) var path: String
    /// The percent-encoded query, without `?`; nil when the URL has none.
    public private(set) var query: String?
    /// The user and password from `user:password@`, percent-decoded; nil when absent.
    public internal(set) var user: String?
    /// See ``user``.
    public internal(set) var password: String?

    /// Parses an absolute URL.
    ///
    /// - Throws: ``ClientError/invalidURL(_:)``.
    public init(_ string: String) throws(ClientError) {
        guard let url = Self.parse(Array(string.utf8)) else { throw .invalidURL(string) }
        self = url
    }

    private init(scheme: String, host: String, port: Int, path: String, query: String?) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
    }

    /// Whether the host is an IPv6 literal (written in brackets in URLs and Host fields).
    public var isIPv6: Bool { host.utf8.contains(UInt8(ascii: ":")) }

    /// Whether the host is an IP address rather than a name.
    public var isIPAddress: Bool { isIPv6 || Self.isIPv4(host) }

    /// Whether the port is the scheme's default (then Host and the URL omit it).
    public var hasDefaultPort: Bool { port == Self.defaultPort(scheme) }

    /// The authority as the Host field carries it: host (bracketed if IPv6) and a non-default port.
    public var authority: String {
        let bracketed = isIPv6 ? "[\(host)]" : host
        return hasDefaultPort ? bracketed : "\(bracketed):\(port)"
    }

    /// The request-target of the request line: path and query.
    public var target: String { query.map { "\(path)?\($0)" } ?? path }

    /// The origin (scheme, host, port): redirects across origins drop credentials.
    public var origin: Origin { Origin(scheme: scheme, host: host, port: port) }

    /// The URL without credentials: `scheme://authority/path?query`.
    public var description: String { "\(scheme)://\(authority)\(target)" }

    /// An origin: what a connection pool and the same-origin rule compare.
    public struct Origin: Sendable, Hashable {
        /// The scheme, lowercased.
        public var scheme: String
        /// The host, lowercased, IPv6 without brackets.
        public var host: String
        /// The port, the default one filled in.
        public var port: Int
    }

    /// Returns this URL with `items` appended to its query, form-encoded (`a=b&c=d`, space as `+`).
    ///
    /// Mirrors aiohttp's `params=`, which extends the URL's query.
    public func appendingQueryItems(_ items: [(String, String)]) -> ClientURL {
        guard !items.isEmpty else { return self }
        var copy = self
        let encoded = FormEncoding.encode(items)
        copy.query = query.map { $0.isEmpty ? encoded : "\($0)&\(encoded)" } ?? encoded
        return copy
    }

    /// Resolves `reference` (a redirect's Location) against this URL (RFC 3986 §5.2).
    ///
    /// - Throws: ``ClientError/invalidURL(_:)``.
    public func resolving(_ reference: String) throws(ClientError) -> ClientURL {
        let bytes = Array(reference.utf8)
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { throw .invalidURL(reference) }
        let withoutFragment = bytes.firstIndex(of: UInt8(ascii: "#")).map { Array(bytes[..<$0]) } ?? bytes
        if Self.schemeEnd(withoutFragment) != nil {
            guard let url = Self.parse(withoutFragment) else { throw .invalidURL(reference) }
            return url
        }
        if withoutFragment.starts(with: "//".utf8) {
            guard let url = Self.parse(Array(scheme.utf8) + [UInt8(ascii: ":")] + withoutFragment) else {
                throw .invalidURL(reference)
            }
            return url
        }
        var resolved = self
        resolved.user = nil
        resolved.password = nil
        let queryStart = withoutFragment.firstIndex(of: UInt8(ascii: "?"))
        let pathPart = Array(withoutFragment[..<(queryStart ?? withoutFragment.count)])
        let queryPart = queryStart.map { Array(withoutFragment[($0 + 1)...]) }
        if pathPart.isEmpty {
            if let queryPart { resolved.query = Self.encode(queryPart, allowed: .query) }
            return resolved
        }
        let merged: [UInt8]
        if pathPart.first == UInt8(ascii: "/") {
            merged = pathPart
        } else {
            // Merge: the base path up to its last "/", then the reference (RFC 3986 §5.2.3).
            let basePath = Array(path.utf8)
            let directory =
                basePath.lastIndex(of: UInt8(ascii: "/")).map { Array(basePath[...$0]) } ?? [UInt8(ascii: "/")]
            merged = directory + pathPart
        }
        resolved.path = Self.removeDotSegments(Self.encode(merged, allowed: .path))
        resolved.query = queryPart.map { Self.encode($0, allowed: .query) }
        return resolved
    }

    // MARK: - Parsing

    static func defaultPort(_ scheme: String) -> Int {
        switch scheme {
        case "https", "wss": 443
        default: 80
        }
    }

    /// The index of the `:` ending a scheme at the start of `bytes`, or nil.
    private static func schemeEnd(_ bytes: [UInt8]) -> Int? {
        guard let first = bytes.first, isAlpha(first) else { return nil }
        for (i, b) in bytes.enumerated().dropFirst() {
            if b == UInt8(ascii: ":") { return i }
            guard isAlpha(b) || isDigit(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
            else { return nil }
        }
        return nil
    }

    private static func parse(_ input: [UInt8]) -> ClientURL? {
        // Leading and trailing spaces are forgiven (a pasted URL); none inside.
        var bytes = ArraySlice(input)
        while let first = bytes.first, first == 0x20 { bytes.removeFirst() }
        while let last = bytes.last, last == 0x20 { bytes.removeLast() }
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { return nil }
        let raw = Array(bytes)
        guard let colon = schemeEnd(raw) else { return nil }
        let scheme = String(decoding: raw[..<colon].map(lowercase), as: UTF8.self)
        guard raw[(colon + 1)...].starts(with: "//".utf8) else { return nil }
        var rest = raw[(colon + 3)...]
        if let hash = rest.firstIndex(of: UInt8(ascii: "#")) { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let afterAuthority = rest[authorityEnd...]

        var user: String?
        var password: String?
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) {
            let userinfo = authority[..<at]
            authority = authority[(at + 1)...]
            if let separator = userinfo.firstIndex(of: UInt8(ascii: ":")) {
                user = percentDecode(userinfo[..<separator])
                password = percentDecode(userinfo[(separator + 1)...])
            } else {
                user = percentDecode(userinfo)
            }
        }

        // Host: an IPv6 literal in brackets, or a name / IPv4 address; then an optional port.
        let host: String
        var portPart: ArraySlice<UInt8>?
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let literal = String(decoding: authority[(authority.startIndex + 1)..<close].map(lowercase), as: UTF8.self)
            guard isIPv6(literal) else { return nil }
            host = literal
            let after = authority[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { return nil }
                portPart = after.dropFirst()
            }
        } else {
            var name = authority
            if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
                name = authority[..<colon]
                portPart = authority[(colon + 1)...]
            }
            guard !name.isEmpty,
                name.allSatisfy({
                    isAlpha($0) || isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
                        || $0 == UInt8(ascii: "_")
                })
            else { return nil }
            host = String(decoding: name.map(lowercase), as: UTF8.self)
        }
        var port = defaultPort(scheme)
        if let portPart, !portPart.isEmpty {
            guard portPart.count <= 5, portPart.allSatisfy(isDigit) else { return nil }
            port = portPart.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard port <= 65535 else { return nil }
        }

        let queryStart = afterAuthority.firstIndex(of: UInt8(ascii: "?"))
        let pathBytes = afterAuthority[..<(queryStart ?? afterAuthority.endIndex)]
        let path = pathBytes.isEmpty ? "/" : removeDotSegments(encode(pathBytes, allowed: .path))
        let query = queryStart.map { encode(afterAuthority[($0 + 1)...], allowed: .query) }
        var url = ClientURL(scheme: scheme, host: host, port: port, path: path, query: query)
        url.user = user
        url.password = password
        return url
    }

    enum Component { case path, query }

    /// Percent-encodes what may not appear in a path or query; keeps valid `%XX` escapes.
    static func encode(_ bytes: some Collection<UInt8>, allowed: Component) -> String {
        let array = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(array.count)
        var i = 0
        while i < array.count {
            let b = array[i]
            if b == UInt8(ascii: "%") {
                if i + 2 < array.count, isHex(array[i + 1]), isHex(array[i + 2]) {
                    out.append(contentsOf: array[i...(i + 2)])
                    i += 3
                    continue
                }
                out.append(contentsOf: "%25".utf8)
            } else if isPChar(b) || b == UInt8(ascii: "/") || (allowed == .query && b == UInt8(ascii: "?")) {
                out.append(b)
            } else {
                appendEscaped(b, to: &out)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Removes `.` and `..` segments (RFC 3986 §5.2.4) from an absolute path.
    static func removeDotSegments(_ path: String) -> String {
        // Only a segment that is "." or ".." changes anything.
        let bytes = path.utf8
        var hasDotSegment = false
        var previous = UInt8(ascii: "/")
        for (index, b) in zip(bytes.indices, bytes) {
            defer { previous = b }
            guard b == UInt8(ascii: "."), previous == UInt8(ascii: "/") else { continue }
            let next = bytes.index(after: index)
            let after = next == bytes.endIndex ? UInt8(ascii: "/") : bytes[next]
            let afterThat =
                after == UInt8(ascii: ".") && next != bytes.endIndex && bytes.index(after: next) != bytes.endIndex
                ? bytes[bytes.index(after: next)] : UInt8(ascii: "/")
            if after == UInt8(ascii: "/") || (after == UInt8(ascii: ".") && afterThat == UInt8(ascii: "/")) {
                hasDotSegment = true
                break
            }
        }
        guard hasDotSegment else { return path }
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            switch segment {
            case ".":
                if isLast { output.append("") }
            case "..":
                if !output.isEmpty { output.removeLast() }
                if isLast { output.append("") }
            default:
                output.append(segment)
            }
        }
        return "/" + output.joined(separator: "/")
    }

    static func isIPv4(_ host: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, host, &address) == 1
    }

    static func isIPv6(_ host: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, host, &address) == 1
    }
}

// MARK: - Byte classes

@inline(__always)
func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }

@inline(__always)
func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

@inline(__always)
func isHex(_ b: UInt8) -> Bool { isDigit(b) || ((b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "f")) }

@inline(__always)
func lowercase(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

/// RFC 3986 pchar without `%`: unreserved, sub-delims, `:` and `@`.
private func isPChar(_ b: UInt8) -> Bool {
    if isAlpha(b) || isDigit(b) { return true }
    switch b {
    case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
        UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
        UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
        UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "@"):
        return true
    default:
        return false
    }
}

func appendEscaped(_ b: UInt8, to out: inout [UInt8]) {
    let digits = Array("0123456789ABCDEF".utf8)
    out.append(UInt8(ascii: "%"))
    out.append(digits[Int(b >> 4)])
    out.append(digits[Int(b & 0xF)])
}

private func hexValue(_ b: UInt8) -> UInt8 {
    isDigit(b) ? b - UInt8(ascii: "0") : (b | 0x20) - UInt8(ascii: "a") + 10
}

/// Decodes `%XX` escapes (a malformed escape is kept as it is).
func percentDecode(_ bytes: some Collection<UInt8>, plusAsSpace: Bool = false) -> String {
    let array = Array(bytes)
    var out: [UInt8] = []
    out.reserveCapacity(array.count)
    var i = 0
    while i < array.count {
        if array[i] == UInt8(ascii: "%"), i + 2 < array.count, isHex(array[i + 1]), isHex(array[i + 2]) {
            out.append(hexValue(array[i + 1]) << 4 | hexValue(array[i + 2]))
            i += 3
        } else {
            out.append(plusAsSpace && array[i] == UInt8(ascii: "+") ? 0x20 : array[i])
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// `application/x-www-form-urlencoded`, as Python's `urlencode` writes it (aiohttp's `params=` and
/// form bodies): unreserved bytes kept, space as `+`, everything else `%XX`.
enum FormEncoding {
    static func encode(_ items: [(String, String)]) -> String {
        var out: [UInt8] = []
        for (index, (name, value)) in items.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "&")) }
            append(name, to: &out)
            out.append(UInt8(ascii: "="))
            append(value, to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func append(_ string: String, to out: inout [UInt8]) {
        for b in string.utf8 {
            if isAlpha(b) || isDigit(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: "~")
            {
                out.append(b)
            } else if b == 0x20 {
                out.append(UInt8(ascii: "+"))
            } else {
                appendEscaped(b, to: &out)
            }
        }
    }
}

import HTTPTypes

/// The HTTP version of a message; the parsers accept exactly these two.
public enum HTTPVersion: Hashable, Sendable {
    /// HTTP/1.0: close after each message unless `Connection: keep-alive`.
    case http1_0
    /// HTTP/1.1: keep-alive unless `Connection: close`.
    case http1_1
}

/// The parsed head of a request: start line, framing decision and lazily read fields.
///
/// A head keeps a reference to the array it was parsed from (the parser's copy of a fed span, a
/// fed array, or the parser's carry buffer when the head arrived split) and 32-bit offsets into
/// it, so producing one allocates nothing and copies little. Convert it to swift-http-types' `HTTPRequest` with
/// ``makeHTTPRequest(scheme:)`` at the edge where a handler needs one.
public struct RequestHead: Sendable {
    @usableFromInline let storage: [UInt8]
    /// Where the head starts in ``storage``; the offsets in ``parsed`` are relative to it.
    @usableFromInline let offset: Int
    @usableFromInline let length: Int
    @usableFromInline let parsed: ParsedRequestHead

    init(section: Section, parsed: ParsedRequestHead) {
        storage = section.storage
        offset = section.offset
        length = section.length
        self.parsed = parsed
    }

    @inlinable
    func slice(_ from: UInt32, _ to: UInt32) -> ArraySlice<UInt8> {
        storage[offset + Int(from)..<offset + Int(to)]
    }

    /// The HTTP version of the request.
    @inlinable
    public var version: HTTPVersion { parsed.version }

    /// How the request body is delimited.
    @inlinable
    public var framing: BodyFraming { parsed.framing }

    /// Whether the connection stays open after this request (version and `Connection`).
    @inlinable
    public var keepAlive: Bool { parsed.keepAlive }

    /// Whether the client sent `Expect: 100-continue` (HTTP/1.1) and waits for a 100 before the body.
    public var expectsContinue: Bool { parsed.version == .http1_1 && parsed.known.expectContinue }

    /// Whether the client asks to switch protocols (`Upgrade` with a `Connection: upgrade` option).
    public var isUpgrade: Bool { parsed.known.upgradeSeen && parsed.known.connectionUpgrade }

    /// The raw bytes of the head, from the request line to the final empty line.
    @inlinable
    public var bytes: ArraySlice<UInt8> { storage[offset..<offset + length] }

    /// The method as it appeared (a token, case-sensitive).
    @inlinable
    public var methodBytes: ArraySlice<UInt8> { slice(parsed.methodStart, parsed.methodEnd) }

    /// The request-target as it appeared.
    @inlinable
    public var targetBytes: ArraySlice<UInt8> { slice(parsed.methodEnd + 1, parsed.targetEnd) }

    /// The value of the Host field, if there was one.
    @inlinable
    public var hostBytes: ArraySlice<UInt8>? {
        parsed.known.hostSeen ? slice(parsed.known.hostStart, parsed.known.hostEnd) : nil
    }

    /// The field lines, read lazily from the head's bytes.
    @inlinable
    public var fields: HTTPFieldLines {
        HTTPFieldLines(storage: storage, start: offset + Int(parsed.fieldsStart), count: Int(parsed.fieldCount))
    }

    /// The method as swift-http-types' currency type.
    public var method: HTTPRequest.Method {
        // The parser accepted only a token, which is exactly what Method accepts.
        HTTPRequest.Method(String(decoding: methodBytes, as: UTF8.self))!
    }

    /// The request-target as a string.
    public var target: String { String(decoding: targetBytes, as: UTF8.self) }

    /// Builds swift-http-types' `HTTPRequest`: method, scheme, authority, path and fields.
    ///
    /// The authority comes from an absolute-form or authority-form target, else from Host; the
    /// Host field itself is then left out of `headerFields`, as swift-http-types expects.
    /// `scheme` is what the connection uses (`"https"` behind TLS); a CONNECT request has none.
    public func makeHTTPRequest(scheme: String = "http") -> HTTPRequest {
        let method = self.method
        let target = self.target
        let host = hostBytes.map { String(decoding: $0, as: UTF8.self) }
        let fields = self.fields.makeHTTPFields(excludingHost: true)
        if method == .connect {
            return HTTPRequest(method: method, scheme: nil, authority: target, path: nil, headerFields: fields)
        }
        if target.utf8.first == ASCII.slash || target == "*" {
            return HTTPRequest(method: method, scheme: scheme, authority: host, path: target, headerFields: fields)
        }
        // absolute-form: scheme "://" authority path-abempty [ "?" query ]
        guard let colon = target.firstIndex(of: ":") else {
            return HTTPRequest(method: method, scheme: scheme, authority: host, path: target, headerFields: fields)
        }
        let targetScheme = String(target[..<colon]).lowercased()
        var rest = target[target.index(after: colon)...]
        guard rest.hasPrefix("//") else {
            return HTTPRequest(
                method: method,
                scheme: targetScheme,
                authority: host,
                path: String(rest),
                headerFields: fields
            )
        }
        rest = rest.dropFirst(2)
        let pathStart = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = String(rest[..<pathStart])
        var path = String(rest[pathStart...])
        if path.isEmpty || path.first == "?" { path = "/" + path }
        return HTTPRequest(method: method, scheme: targetScheme, authority: authority, path: path, headerFields: fields)
    }
}

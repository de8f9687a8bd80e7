/// A route's path pattern: literal segments and `{name}` parameters, the last of which may match
/// the rest of the path (`{tail:.*}`).
///
/// - `/users/{id}` matches `/users/42` with `id = "42"`; a parameter matches one non-empty segment.
/// - `/files/{path:.*}` matches `/files/a/b.txt` with `path = "a/b.txt"` (and `/files/` with
///   `path = ""`); `{name:.+}` is the same but not empty. Only the last segment may take the rest.
/// - Literal segments compare with the percent-decoded segments of the request's path, and
///   parameter values are percent-decoded, so `/users/J%C3%B6rg` gives `id = "Jörg"`; an encoded
///   slash (`%2F`) stays inside its segment.
///
/// Mirrors aiohttp's `DynamicResource` (`{name}`, `{name:regex}`). Deviation: the only regexes
/// are `.*` and `.+` at the end (the two aiohttp applications use for a tail); anything else throws
/// ``RouterError/invalidPattern(_:_:)`` when the route is added.
struct PathPattern: Sendable, Equatable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    /// How the last parameter takes the rest of the path, if it does.
    enum Tail: Sendable, Equatable {
        case none
        case any(String)
        case nonEmpty(String)
    }

    let segments: [Segment]
    let tail: Tail
    /// The pattern as written.
    let source: String

    /// The pattern has no parameter: it matches one path only.
    var isStatic: Bool { tail == .none && !segments.contains { if case .parameter = $0 { true } else { false } } }

    init(_ source: String) throws(RouterError) {
        guard source.hasPrefix("/") else { throw .invalidPattern(source, "a path starts with /") }
        self.source = source
        var segments: [Segment] = []
        var tail = Tail.none
        let pieces = source.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (index, piece) in pieces.enumerated() {
            guard piece.first == "{" else {
                guard !piece.contains("{"), !piece.contains("}") else {
                    throw .invalidPattern(source, "a parameter is a whole segment: {name}")
                }
                segments.append(.literal(String(piece)))
                continue
            }
            guard piece.last == "}", piece.count > 2 else { throw .invalidPattern(source, "unclosed {") }
            let inner = piece.dropFirst().dropLast()
            let parts = inner.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw .invalidPattern(source, "a parameter name is letters, digits and _")
            }
            if parts.count == 1 {
                segments.append(.parameter(name))
                continue
            }
            guard index == pieces.count - 1 else {
                throw .invalidPattern(source, "only the last segment may take the rest of the path")
            }
            switch parts[1] {
            case ".*": tail = .any(name)
            case ".+": tail = .nonEmpty(name)
            default: throw .invalidPattern(source, "the only regexes are .* and .+ (for the rest of the path)")
            }
        }
        self.segments = segments
        self.tail = tail
    }

    /// The parameters if `path` (the request-target's path, undecoded, without the query) matches.
    func match(_ path: Substring) -> [String: String]? {
        var parameters: [String: String] = [:]
        var rest = path.dropFirst()
        for (index, segment) in segments.enumerated() {
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            let piece = rest[..<end]
            switch segment {
            case .literal(let literal):
                guard piece.utf8.elementsEqual(literal.utf8) || percentDecode(piece.utf8) == literal else {
                    return nil
                }
            case .parameter(let name):
                guard !piece.isEmpty else { return nil }
                parameters[name] = percentDecode(piece.utf8)
            }
            if end == rest.endIndex {
                // The path ended: it matches only if no segment is left and no tail wants more.
                guard index == segments.count - 1, tail == .none else { return nil }
                return parameters
            }
            rest = rest[rest.index(after: end)...]
        }
        switch tail {
        case .none:
            return nil
        case .any(let name):
            parameters[name] = percentDecode(rest.utf8)
        case .nonEmpty(let name):
            guard !rest.isEmpty else { return nil }
            parameters[name] = percentDecode(rest.utf8)
        }
        return parameters
    }
}

/// A route that cannot be added.
public enum RouterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The pattern (first) is malformed; the second value says why.
    case invalidPattern(String, String)
    /// The same method and pattern were added twice.
    case duplicateRoute(method: String, pattern: String)
    /// The application already runs: routes, middlewares and hooks are frozen.
    case frozen

    public var description: String {
        switch self {
        case .invalidPattern(let pattern, let why): "invalid route pattern \(pattern): \(why)"
        case .duplicateRoute(let method, let pattern): "the route \(method) \(pattern) was already added"
        case .frozen: "the application is running: its router can no longer change"
        }
    }
}

import HTTPTypes

/// Finds the handler of a request by its method and path: aiohttp's `UrlDispatcher`
/// (`app.router`).
///
/// ```swift
/// try app.router.get("/users/{id}") { request in
///     Response(text: "user \(request.matchInfo["id"]!)")
/// }
/// let api = app.router.group("/api/v1")
/// try api.post("/items", createItem)
/// ```
/// Routes without parameters are found by a dictionary lookup; the others are tried in the order
/// they were added. A `GET` route answers `HEAD` too (the connection sends no body), as aiohttp's
/// `add_get(allow_head=True)`. A path no route matches is `404`; a path some route matches with
/// another method is `405` with an `Allow` field.
///
/// Mirrors `aiohttp.web.UrlDispatcher` (`add_route`, `add_get`, …, `add_static`) and
/// `web.RouteTableDef` with a prefix for groups.
public final class Router: RouteAdding {
    struct Route {
        /// nil: any method (aiohttp's `*`).
        var method: HTTPRequest.Method?
        var pattern: PathPattern
        var handler: Handler
    }

    /// What the router found for a request.
    enum Resolution {
        case found(Handler, parameters: [String: String])
        case methodNotAllowed([HTTPRequest.Method])
        case notFound
    }

    // The properties below are `@exclusivity(unchecked)`: the object lives on its loop's thread and
    // no access to them overlaps another, so the dynamic check (a runtime call per access, several
    // per request) buys nothing.
    /// Routes without parameters by their path.
    @exclusivity(unchecked) private var plain: [String: [Route]] = [:]
    /// Routes with parameters, in the order they were added.
    @exclusivity(unchecked) private var dynamic: [Route] = []
    @exclusivity(unchecked) var isFrozen = false

    init() {}

    /// Adds a route for `method` (nil: any method) and `path`.
    ///
    /// - Throws: ``RouterError/invalidPattern(_:_:)`` for a malformed pattern,
    ///   ``RouterError/duplicateRoute(method:pattern:)`` for a method and pattern added before,
    ///   ``RouterError/frozen`` once the application runs. Mirrors `add_route(method, path, handler)`.
    public func add(_ method: HTTPRequest.Method?, _ path: String, _ handler: @escaping Handler) throws(RouterError) {
        guard !isFrozen else { throw .frozen }
        let pattern = try PathPattern(path)
        let route = Route(method: method, pattern: pattern, handler: handler)
        let existing = pattern.isStatic ? plain[path, default: []] : dynamic.filter { $0.pattern == pattern }
        if existing.contains(where: { $0.method == method }) {
            throw .duplicateRoute(method: method?.rawValue ?? "*", pattern: path)
        }
        if pattern.isStatic {
            plain[path, default: []].append(route)
        } else {
            dynamic.append(route)
        }
    }

    /// A group whose routes' paths start with `prefix` (e.g. `/api/v1`, no trailing `/`).
    ///
    /// Mirrors aiohttp's `RouteTableDef` added with a prefix, or a sub-application's prefix.
    public func group(_ prefix: String) -> RouteGroup { RouteGroup(router: self, prefix: prefix) }

    // MARK: - Resolving

    /// The handler for `request`, its `matchInfo` set; for no route, one that throws `404`, or
    /// `405` with the allowed methods.
    func route(for request: Request) -> Handler {
        switch resolve(request.method, path: request.routingPath) {
        case .found(let handler, let parameters):
            if !parameters.isEmpty { request.matchInfo = parameters }
            return handler
        case .methodNotAllowed(let allowed):
            return { _ in throw HTTPError.methodNotAllowed(allowed: allowed) }
        case .notFound:
            return Self.notFound(_:)
        }
    }

    /// The handler of a path no route matches.
    static func notFound(_ request: Request) async throws -> StreamResponse { throw HTTPError.notFound() }

    /// The route for `method` and `path` (the request-target's path, no query).
    func resolve(_ method: HTTPRequest.Method, path fullPath: String) -> Resolution {
        var allowed: [HTTPRequest.Method] = []
        if let routes = plain[fullPath] {
            if let handler = Self.pick(method, in: routes, allowed: &allowed) {
                return .found(handler, parameters: [:])
            }
        }
        let path = fullPath[...]
        for route in dynamic {
            guard let parameters = route.pattern.match(path) else { continue }
            if let handler = Self.pick(method, in: CollectionOfOne(route), allowed: &allowed) {
                return .found(handler, parameters: parameters)
            }
        }
        if allowed.isEmpty, path.contains("%") {
            // A path with escapes may still name a plain route ("/caf%C3%A9" is "/café").
            for (_, routes) in plain {
                guard let route = routes.first, route.pattern.match(path) != nil else { continue }
                if let handler = Self.pick(method, in: routes, allowed: &allowed) {
                    return .found(handler, parameters: [:])
                }
            }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed)
    }

    /// The handler for `method` among routes of one path; otherwise their methods go to `allowed`.
    private static func pick(
        _ method: HTTPRequest.Method,
        in routes: some Sequence<Route>,
        allowed: inout [HTTPRequest.Method]
    ) -> Handler? {
        var getHandler: Handler?
        for route in routes {
            guard let routeMethod = route.method else { return route.handler }
            if routeMethod == method { return route.handler }
            if routeMethod == .get { getHandler = route.handler }
            if !allowed.contains(routeMethod) { allowed.append(routeMethod) }
            if routeMethod == .get, !allowed.contains(.head) { allowed.append(.head) }
        }
        if method == .head, let getHandler { return getHandler }
        return nil
    }
}

/// Routes that share a path prefix: `router.group("/api")`.
///
/// Mirrors aiohttp's `RouteTableDef` with a prefix (and, for the URL space, `add_subapp(prefix, …)`).
public struct RouteGroup: RouteAdding {
    let router: Router
    /// The prefix of every route of the group.
    public let prefix: String

    /// Adds a route whose path is the group's prefix followed by `path`.
    ///
    /// - Throws: as ``Router/add(_:_:_:)``.
    public func add(_ method: HTTPRequest.Method?, _ path: String, _ handler: @escaping Handler) throws(RouterError) {
        try router.add(method, prefix + path, handler)
    }

    /// A group inside this one: its prefix is this prefix followed by `prefix`.
    public func group(_ prefix: String) -> RouteGroup { RouteGroup(router: router, prefix: self.prefix + prefix) }
}

/// What adds routes: a ``Router`` and its ``RouteGroup``s. The shorthands for the usual methods
/// call ``add(_:_:_:)``.
public protocol RouteAdding {
    /// Adds a route for `method` (nil: any method) and `path`.
    ///
    /// - Throws: ``RouterError/invalidPattern(_:_:)`` for a malformed pattern,
    ///   ``RouterError/duplicateRoute(method:pattern:)`` for a method and pattern added before,
    ///   ``RouterError/frozen`` once the application runs.
    func add(_ method: HTTPRequest.Method?, _ path: String, _ handler: @escaping Handler) throws(RouterError)
}

extension RouteAdding {
    /// Adds a `GET` route (which answers `HEAD` too). Mirrors `add_get`.
    public func get(_ path: String, _ handler: @escaping Handler) throws(RouterError) { try add(.get, path, handler) }
    /// Adds a `POST` route. Mirrors `add_post`.
    public func post(_ path: String, _ handler: @escaping Handler) throws(RouterError) { try add(.post, path, handler) }
    /// Adds a `PUT` route. Mirrors `add_put`.
    public func put(_ path: String, _ handler: @escaping Handler) throws(RouterError) { try add(.put, path, handler) }
    /// Adds a `PATCH` route. Mirrors `add_patch`.
    public func patch(_ path: String, _ handler: @escaping Handler) throws(RouterError) {
        try add(.patch, path, handler)
    }
    /// Adds a `DELETE` route. Mirrors `add_delete`.
    public func delete(_ path: String, _ handler: @escaping Handler) throws(RouterError) {
        try add(.delete, path, handler)
    }
    /// Adds a route for every method. Mirrors `add_route('*', path, handler)`.
    public func any(_ path: String, _ handler: @escaping Handler) throws(RouterError) { try add(nil, path, handler) }
}

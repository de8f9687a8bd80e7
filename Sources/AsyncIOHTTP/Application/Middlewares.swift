/// The middlewares of an ``Application``, the first the outermost: `app.middlewares.append(mw)`.
///
/// A collection of ``Middleware`` functions, like an array of them, that keeps each function as
/// it was written: a middleware added with ``append(_:)`` is called directly, without the
/// conversion (and the allocation per request) that calling a function stored in an `Array`
/// costs.
///
/// Mirrors `web.Application(middlewares=[…])` (and `app.middlewares.append(mw)`).
public struct Middlewares: RandomAccessCollection, ExpressibleByArrayLiteral {
    /// A middleware as it was written (a struct field keeps a function's own calling convention).
    struct Entry {
        let run: Middleware
    }

    private(set) var entries: [Entry] = []

    /// No middlewares.
    public init() {}

    /// The middlewares of a literal, in order.
    public init(arrayLiteral elements: Middleware...) {
        for element in elements { append(element) }
    }

    /// The position of the outermost middleware.
    public var startIndex: Int { entries.startIndex }

    /// The position after the innermost middleware.
    public var endIndex: Int { entries.endIndex }

    /// The middleware at `position`.
    public subscript(position: Int) -> Middleware { entries[position].run }

    /// Adds `middleware` inside the ones already there (it runs after them, nearer the handler).
    public mutating func append(_ middleware: @escaping Middleware) {
        entries.append(Entry(run: middleware))
    }

    /// Adds `middleware` at `position` (0: the outermost).
    public mutating func insert(_ middleware: @escaping Middleware, at position: Int) {
        entries.insert(Entry(run: middleware), at: position)
    }

    /// Removes and returns the middleware at `position`.
    @discardableResult
    public mutating func remove(at position: Int) -> Middleware {
        entries.remove(at: position).run
    }

    /// Removes every middleware.
    public mutating func removeAll() {
        entries.removeAll()
    }
}

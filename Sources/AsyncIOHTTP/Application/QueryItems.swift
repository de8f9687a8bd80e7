/// Names and values in order, a name possibly repeated: a query string or an urlencoded form.
///
/// `items["page"]` is the first value of `page`; `items.all("tag")` every value of `tag`.
/// Mirrors aiohttp's `MultiDictProxy` for `request.query` and the fields of `request.post()`.
public struct QueryItems: Sequence, Sendable, Equatable {
    /// The names and values, decoded, in order.
    public var items: [(name: String, value: String)]

    /// Items given as they are.
    public init(_ items: [(name: String, value: String)] = []) {
        self.items = items
    }

    /// Parses `application/x-www-form-urlencoded` text (a query string): `&`-separated `name=value`
    /// pairs, percent-decoded, `+` as a space; a pair without `=` has an empty value, empty pairs
    /// are skipped. Mirrors Python's `parse_qsl(keep_blank_values=True)`.
    public init(parsing text: some StringProtocol) {
        items = []
        for pair in text.utf8.split(separator: UInt8(ascii: "&")) {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let name = pair[..<(equals ?? pair.endIndex)]
            let value = equals.map { pair[pair.index(after: $0)...] } ?? pair[pair.endIndex...]
            items.append((percentDecode(name, plusAsSpace: true), percentDecode(value, plusAsSpace: true)))
        }
    }

    /// The first value of `name`. Mirrors `query[name]` / `query.get(name)`.
    public subscript(name: String) -> String? {
        items.first { $0.name == name }?.value
    }

    /// Every value of `name`, in order. Mirrors `getall(name)`.
    public func all(_ name: String) -> [String] {
        items.filter { $0.name == name }.map(\.value)
    }

    /// Whether there are no items.
    public var isEmpty: Bool { items.isEmpty }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        items.makeIterator()
    }

    public static func == (lhs: QueryItems, rhs: QueryItems) -> Bool {
        lhs.items.elementsEqual(rhs.items) { $0.name == $1.name && $0.value == $1.value }
    }
}

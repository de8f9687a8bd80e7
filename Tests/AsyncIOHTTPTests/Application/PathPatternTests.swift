import Testing

@testable import AsyncIOHTTP

/// Route patterns alone: what matches, with which parameters, and which patterns are refused.
@Suite struct PathPatternTests {
    @Test(
        arguments: [
            ("/", "/", [:]),
            ("/users/{id}", "/users/42", ["id": "42"]),
            ("/users/{id}", "/users/a%20b", ["id": "a b"]),
            ("/users/{id}", "/users/", nil),
            ("/users/{id}", "/users/1/x", nil),
            ("/a/a", "/a", nil),
            ("/users/", "/users", nil),
            ("/caf\u{e9}", "/caf%C3%A9", [:]),
            ("/{a}/{b}", "/1/2", ["a": "1", "b": "2"]),
            ("/files/{tail:.*}", "/files/", ["tail": ""]),
            ("/files/{tail:.*}", "/files/x/%2e%2e/y", ["tail": "x/../y"]),
            ("/files/{tail:.+}", "/files/", nil),
            ("/files/{tail:.*}", "/files", nil),
            ("/{tail:.*}", "/any/thing", ["tail": "any/thing"]),
        ] as [(String, String, [String: String]?)]
    )
    func matching(pattern: String, path: String, expected: [String: String]?) throws {
        #expect(try PathPattern(pattern).match(path[...]) == expected)
    }

    @Test(arguments: ["users", "/u{id", "/u/{}", "/u/{a-b}", "/u/x{id}", "/{tail:.*}/more", "/{id:[0-9]+}"])
    func refused(pattern: String) {
        #expect(throws: RouterError.self) { try PathPattern(pattern) }
    }

    @Test func aRouteTwiceIsRefusedAndAFrozenRouterTooButAnotherMethodIsFine() throws {
        let router = Router()
        try router.get("/x/{id}") { _ in Response() }
        try router.post("/x/{id}") { _ in Response() }
        #expect(throws: RouterError.duplicateRoute(method: "GET", pattern: "/x/{id}")) {
            try router.get("/x/{id}") { _ in Response() }
        }
        router.isFrozen = true
        #expect(throws: RouterError.frozen) { try router.get("/y") { _ in Response() } }
    }
}

import AsyncIOHTTP
import Testing

struct ClientURLTests {
    struct Case: Sendable, CustomStringConvertible {
        var input: String
        var scheme: String
        var host: String
        var port: Int
        var target: String
        var authority: String
        var description: String { input }
    }

    static let valid: [Case] = [
        Case(
            input: "http://example.com",
            scheme: "http",
            host: "example.com",
            port: 80,
            target: "/",
            authority: "example.com"
        ),
        Case(
            input: "HTTP://Example.COM:8080/a/b?x=1#frag",
            scheme: "http",
            host: "example.com",
            port: 8080,
            target: "/a/b?x=1",
            authority: "example.com:8080"
        ),
        Case(
            input: "http://127.0.0.1:80/",
            scheme: "http",
            host: "127.0.0.1",
            port: 80,
            target: "/",
            authority: "127.0.0.1"
        ),
        Case(
            input: "http://[::1]:8080/x",
            scheme: "http",
            host: "::1",
            port: 8080,
            target: "/x",
            authority: "[::1]:8080"
        ),
        Case(
            input: "http://[2001:DB8::1]/",
            scheme: "http",
            host: "2001:db8::1",
            port: 80,
            target: "/",
            authority: "[2001:db8::1]"
        ),
        Case(
            input: "https://example.com/",
            scheme: "https",
            host: "example.com",
            port: 443,
            target: "/",
            authority: "example.com"
        ),
        Case(
            input: "http://h/a b/\"q\"?k=v w",
            scheme: "http",
            host: "h",
            port: 80,
            target: "/a%20b/%22q%22?k=v%20w",
            authority: "h"
        ),
        Case(
            input: "http://h/caf\u{e9}?q=%zz&r=%41",
            scheme: "http",
            host: "h",
            port: 80,
            target: "/caf%C3%A9?q=%25zz&r=%41",
            authority: "h"
        ),
        Case(
            input: "http://h/a/./b/../c",
            scheme: "http",
            host: "h",
            port: 80,
            target: "/a/c",
            authority: "h"
        ),
        Case(input: "  http://h:/  ", scheme: "http", host: "h", port: 80, target: "/", authority: "h"),
    ]

    @Test(arguments: valid)
    func parses(_ c: Case) throws {
        let url = try ClientURL(c.input)
        #expect(url.scheme == c.scheme)
        #expect(url.host == c.host)
        #expect(url.port == c.port)
        #expect(url.target == c.target)
        #expect(url.authority == c.authority)
    }

    @Test(arguments: [
        "", "example.com", "/relative", "http:/x", "http://", "http://:80/", "http://h:99999/", "http://h:8a/",
        "http://[::1/", "http://[zz::1]/", "http://h/a\r\nX-Injected: 1", "http://h/\t", "http://ex ample.com/",
        "http://h :80/",
        "http://h\u{e9}.com/", "http://[::1]x/",
    ])
    func refuses(_ input: String) {
        #expect(throws: ClientError.invalidURL(input)) { try ClientURL(input) }
    }

    @Test(arguments: [
        ("/.well-known/x/..b/.c", "/.well-known/x/..b/.c"),
        ("/a/.", "/a/"),
        ("/a/..", "/"),
        ("/.", "/"),
        ("/a/./b/./", "/a/b/"),
        ("/a/b/../../../c", "/c"),
    ])
    func onlyDotSegmentsAreRemoved(_ path: String, _ expected: String) throws {
        #expect(try ClientURL("http://h\(path)").path == expected)
    }

    @Test
    func credentialsAreSeparatedAndDecoded() throws {
        let url = try ClientURL("http://us%40er:p%3Ass@h:81/")
        #expect(url.user == "us@er")
        #expect(url.password == "p:ss")
        #expect(url.description == "http://h:81/")
    }

    @Test
    func queryItemsAreFormEncodedAndAppended() throws {
        let url = try ClientURL("http://h/p?a=1").appendingQueryItems([("b c", "d&e=f"), ("g", "+/~")])
        #expect(url.target == "/p?a=1&b+c=d%26e%3Df&g=%2B%2F~")
        #expect(try ClientURL("http://h/").appendingQueryItems([("x", "")]).target == "/?x=")
    }

    @Test(arguments: [
        ("http://a/b/c/d;p?q", "g", "/b/c/g"),
        ("http://a/b/c/d;p?q", "./g", "/b/c/g"),
        ("http://a/b/c/d;p?q", "g/", "/b/c/g/"),
        ("http://a/b/c/d;p?q", "/g", "/g"),
        ("http://a/b/c/d;p?q", "?y", "/b/c/d;p?y"),
        ("http://a/b/c/d;p?q", "g?y", "/b/c/g?y"),
        ("http://a/b/c/d;p?q", "#s", "/b/c/d;p?q"),
        ("http://a/b/c/d;p?q", "..", "/b/"),
        ("http://a/b/c/d;p?q", "../g", "/b/g"),
        ("http://a/b/c/d;p?q", "../../g", "/g"),
        ("http://a/b/c/d;p?q", "../../../g", "/g"),
        ("http://a/b/c/d;p?q", "", "/b/c/d;p?q"),
    ])
    func resolvesReferencesAsRFC3986(_ base: String, _ reference: String, _ target: String) throws {
        let resolved = try ClientURL(base).resolving(reference)
        #expect(resolved.target == target)
        #expect(resolved.host == "a")
    }

    @Test
    func resolvesAbsoluteAndNetworkPathReferences() throws {
        let base = try ClientURL("http://a:81/b?q")
        #expect(try base.resolving("http://other/x").description == "http://other/x")
        #expect(try base.resolving("//other:82/y").description == "http://other:82/y")
        #expect(try base.resolving("https://secure/").scheme == "https")
        #expect(throws: ClientError.self) { try base.resolving("/a\nb") }
    }

    @Test
    func originComparesSchemeHostAndPort() throws {
        #expect(try ClientURL("http://H/").origin == ClientURL("http://h:80/x").origin)
        #expect(try ClientURL("http://h/").origin != ClientURL("http://h:81/").origin)
        #expect(try ClientURL("http://h/").origin != ClientURL("https://h/").origin)
    }
}

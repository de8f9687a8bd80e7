import Testing

@testable import AsyncIOHTTP

struct CookieJarTests {
    let now: Int64 = 1_700_000_000

    func url(_ string: String) throws -> ClientURL { try ClientURL(string) }

    @Test
    func hostOnlyCookieGoesBackToTheSameHostOnly() throws {
        var jar = CookieJar()
        jar.store(setCookie: "a=1", from: try url("http://example.com/"), now: now)
        #expect(jar.cookieHeader(for: try url("http://example.com/x"), now: now) == "a=1")
        #expect(jar.cookieHeader(for: try url("http://www.example.com/"), now: now) == nil)
        #expect(jar.cookieHeader(for: try url("http://other.com/"), now: now) == nil)
    }

    @Test
    func domainCookieGoesToSubdomainsAndMustCoverTheHost() throws {
        var jar = CookieJar()
        jar.store(setCookie: "d=1; Domain=.Example.com", from: try url("http://www.example.com/"), now: now)
        #expect(jar.cookieHeader(for: try url("http://example.com/"), now: now) == "d=1")
        #expect(jar.cookieHeader(for: try url("http://a.b.example.com/"), now: now) == "d=1")
        #expect(jar.cookieHeader(for: try url("http://badexample.com/"), now: now) == nil)
        // A domain that does not cover the host, or a whole top-level domain, is refused.
        jar.store(setCookie: "x=1; Domain=other.com", from: try url("http://www.example.com/"), now: now)
        jar.store(setCookie: "y=1; Domain=com", from: try url("http://www.example.com/"), now: now)
        #expect(jar.cookies.map(\.name) == ["d"])
    }

    @Test
    func ipAddressesOnlyMatchThemselves() throws {
        var jar = CookieJar()
        jar.store(setCookie: "ip=1", from: try url("http://127.0.0.1:8080/"), now: now)
        jar.store(setCookie: "bad=1; Domain=0.0.1", from: try url("http://127.0.0.1/"), now: now)
        #expect(jar.cookieHeader(for: try url("http://127.0.0.1:9090/"), now: now) == "ip=1")
        #expect(jar.cookies.count == 1)
    }

    @Test
    func pathMatchingAndDefaultPath() throws {
        var jar = CookieJar()
        jar.store(setCookie: "root=1; Path=/", from: try url("http://h/"), now: now)
        jar.store(setCookie: "docs=1; Path=/docs", from: try url("http://h/"), now: now)
        jar.store(setCookie: "dir=1", from: try url("http://h/a/b/page"), now: now)
        jar.store(setCookie: "bad=1; Path=relative", from: try url("http://h/x/y"), now: now)
        #expect(jar.cookieHeader(for: try url("http://h/docs/x"), now: now) == "docs=1; root=1")
        #expect(jar.cookieHeader(for: try url("http://h/docs"), now: now) == "docs=1; root=1")
        #expect(jar.cookieHeader(for: try url("http://h/docsx"), now: now) == "root=1")
        #expect(jar.cookieHeader(for: try url("http://h/a/b/other"), now: now) == "dir=1; root=1")
        #expect(jar.cookieHeader(for: try url("http://h/x/z"), now: now) == "bad=1; root=1")
    }

    @Test
    func maxAgeWinsOverExpiresAndDeletes() throws {
        var jar = CookieJar()
        let site = try url("http://h/")
        jar.store(setCookie: "a=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT", from: site, now: now)
        #expect(jar.cookieHeader(for: site, now: now + 59) == "a=1")
        #expect(jar.cookieHeader(for: site, now: now + 60) == nil)
        jar.store(setCookie: "b=1", from: site, now: now)
        jar.store(setCookie: "b=2; Max-Age=0", from: site, now: now)
        jar.store(setCookie: "c=1", from: site, now: now)
        jar.store(setCookie: "c=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", from: site, now: now)
        #expect(jar.cookieHeader(for: site, now: now) == "a=1")
    }

    @Test
    func replacingKeepsTheCreationOrder() throws {
        var jar = CookieJar()
        let site = try url("http://h/")
        jar.store(setCookie: "first=1", from: site, now: now)
        jar.store(setCookie: "second=1", from: site, now: now + 1)
        jar.store(setCookie: "first=2", from: site, now: now + 2)
        #expect(jar.cookieHeader(for: site, now: now + 3) == "first=2; second=1")
    }

    @Test
    func secureCookiesOnlyOverHTTPS() throws {
        var jar = CookieJar()
        jar.store(setCookie: "s=1; Secure; HttpOnly", from: try url("http://h/"), now: now)
        #expect(jar.cookieHeader(for: try url("http://h/"), now: now) == nil)
        #expect(jar.cookieHeader(for: try url("https://h/"), now: now) == "s=1")
        #expect(jar.cookies.first?.httpOnly == true)
    }

    @Test(arguments: [
        "novalue", "=nameless", "a=b\u{1}c", String(repeating: "x", count: 4097) + "=1",
    ])
    func invalidCookiesAreIgnored(_ header: String) throws {
        var jar = CookieJar()
        jar.store(setCookie: header, from: try url("http://h/"), now: now)
        #expect(jar.cookies.isEmpty)
    }

    @Test(
        arguments: [
            ("Wed, 21 Oct 2015 07:28:00 GMT", 1_445_412_480),
            ("Wednesday, 21-Oct-15 07:28:00 GMT", 1_445_412_480),
            ("Wed Oct 21 07:28:00 2015", 1_445_412_480),
            ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
            ("Sat, 29 Feb 2020 12:00:00 GMT", 1_582_977_600),
        ] as [(String, Int64)]
    )
    func parsesCookieDates(_ text: String, _ seconds: Int64) {
        #expect(CookieDate.parse(text) == seconds)
    }

    @Test(arguments: [
        "", "tomorrow", "Sun, 30 Feb 2020 00:00:00 GMT", "Wed, 21 Oct 2015 25:00:00 GMT", "21 Oct 1500 00:00:00",
    ])
    func refusesBadCookieDates(_ text: String) {
        #expect(CookieDate.parse(text) == nil)
    }

    @Test
    func clearForgetsEverything() throws {
        var jar = CookieJar()
        jar.update(name: "a", value: "1", for: try url("http://h/"), now: now)
        #expect(jar.filterCookies(for: try url("http://h/"), now: now).map(\.value) == ["1"])
        jar.clear()
        #expect(jar.cookies.isEmpty)
    }
}

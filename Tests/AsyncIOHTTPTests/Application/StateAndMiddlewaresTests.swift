import AsyncIOHTTP
import Testing

/// Application state by typed keys, and the middleware collection, with no I/O.
struct StateAndMiddlewaresTests {
    @Test func keysWithTheSameNameAndTypeShareAValueOthersDoNot() {
        let app = Application()
        let count = AppKey<Int>("count")
        let countAgain = AppKey<Int>("count")
        let countText = AppKey<String>("count")
        #expect(count == countAgain)
        #expect(app[count] == nil)
        app[count] = 1
        #expect(app[countAgain] == 1)
        #expect(app[countText] == nil)
        app[countText] = "one"
        app[countAgain]? += 1
        #expect(app[count] == 2)
        #expect(app[countText] == "one")
        app[count] = nil
        #expect(app[count] == nil)
        #expect(app[countText] == "one")
        // A key made after others, with a higher slot than any stored yet.
        let late = AppKey<[String]>("late-\(Int.random(in: 0..<1_000_000))")
        app[late] = ["a"]
        app[late]?.append("b")
        #expect(app[late] == ["a", "b"])
    }

    @Test func middlewaresKeepTheirOrderAndCanBeEdited() {
        var middlewares: Middlewares = [
            { request, handler in try await handler(request) },
            { request, handler in try await handler(request) },
        ]
        #expect(middlewares.count == 2)
        middlewares.append { request, handler in try await handler(request) }
        middlewares.insert({ request, handler in try await handler(request) }, at: 0)
        #expect(middlewares.count == 4)
        middlewares.remove(at: 1)
        #expect(middlewares.count == 3)
        middlewares.removeAll()
        #expect(middlewares.isEmpty)
    }
}

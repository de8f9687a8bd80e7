import AsyncIO
import AsyncIOHTTP
import Foundation
import HTTPTypes

struct Item: Codable, Equatable {
    var id: Int
    var name: String
}

let userKey = AppKey<String>("user")

/// Keys in order, so that bodies can be compared as text.
let sortedEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return encoder
}()
let hitsKey = AppKey<Int>("hits")

/// The application the socket tests talk to: routes with parameters, a group, two middlewares,
/// JSON, forms, cookies, redirects, errors, state.
func makeTestApplication(_ recorder: Recorder) throws -> Application {
    let app = Application()
    app[hitsKey] = 0
    // Outermost: stamps every answer, turns the router's 404 into a page of its own, short-circuits.
    app.middlewares.append { request, handler in
        if request.path == "/blocked" { return Response(text: "blocked", status: .forbidden) }
        do {
            let response = try await handler(request)
            response.headers[HTTPField.Name("X-Middleware")!] = "outer"
            return response
        } catch let error as HTTPError where error.status == .notFound {
            return Response(text: "custom 404 for \(request.path)", status: .notFound)
        }
    }
    // Inner: passes a value to handlers and counts requests in the app's state.
    app.middlewares.append { request, handler in
        recorder.record("inner \(request.method.rawValue) \(request.path)")
        request[userKey] = request.headers[.authorization] ?? "anonymous"
        request.app?[hitsKey]? += 1
        return try await handler(request)
    }
    let router = app.router
    try router.get("/") { _ in Response(text: "home") }
    try router.get("/users/{id}") { request in Response(text: "user \(request.matchInfo["id"] ?? "?")") }
    try router.get("/users/me") { _ in Response(text: "me") }
    try router.get("/users/{id}/posts/{post}") { request in
        Response(text: "\(request.matchInfo["id"]!)/\(request.matchInfo["post"]!)")
    }
    try router.get("/files/{tail:.*}") { request in Response(text: "tail=\(request.matchInfo["tail"]!)") }
    try router.get("/whoami") { request in Response(text: request[userKey] ?? "nobody") }
    try router.get("/hits") { request in Response(text: "\(request.app?[hitsKey] ?? -1)") }
    try router.get("/query") { request in
        Response(text: request.query.map { "\($0.name)=\($0.value)" }.joined(separator: ","))
    }
    try router.get("/cookies") { request in
        let response = Response(text: "session=\(request.cookies["session"] ?? "none")")
        response.setCookie("seen", "yes", .init(path: "/", maxAge: 60, httpOnly: true))
        return response
    }
    try router.get("/redirect") { _ in throw HTTPError.found(location: "/users/1") }
    try router.get("/boom") { _ in throw TestFailure() }
    try router.post("/items") { request in
        let item = try await request.json(as: Item.self)
        return try Response.json(item, status: .created, encoder: sortedEncoder)
    }
    try router.any("/anything") { request in Response(text: "any \(request.method.rawValue)") }
    try router.post("/form") { request in
        let form = try await request.post()
        var lines = form.fields.map { "\($0.name)=\($0.value)" }
        for file in form.files {
            let data = FileManager.default.contents(atPath: file.path) ?? Data()
            lines.append("file \(file.name) \(file.filename) \(file.contentType) \(file.size) \(data.count)")
        }
        return Response(text: lines.joined(separator: "\n"))
    }
    try router.post("/parts") { request in
        let reader = try request.multipart()
        var lines: [String] = []
        while let part = try await reader.next() {
            var count = 0
            var largestChunk = 0
            for try await chunk in part {
                count += chunk.count
                largestChunk = max(largestChunk, chunk.count)
            }
            recorder.noteBuffered(largestChunk)
            lines.append("\(part.name ?? "-") \(part.filename ?? "-") \(count)")
        }
        return Response(text: lines.joined(separator: "\n"))
    }
    let api = router.group("/api/v1")
    try api.get("/items") { _ in try Response.json([Item(id: 1, name: "one")], encoder: sortedEncoder) }
    try api.delete("/items/{id}") { request in Response(text: "deleted \(request.matchInfo["id"]!)") }
    try api.group("/admin").get("/stats") { _ in Response(text: "stats") }
    return app
}

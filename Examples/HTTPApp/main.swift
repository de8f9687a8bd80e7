// A small web application on the application API: a router with parameters, JSON in and out, a
// middleware, static files (sendfile, ETag, ranges), a streamed response and a form upload.
//
// Usage: HTTPApp [--port N] [--static DIR]   (port 8080 by default, 0 picks one; DIR defaults to
// this example's public/ directory)
//
//   GET  /                 public/index.html
//   GET  /static/...       the files of public/
//   GET  /api/notes        the notes, as JSON
//   POST /api/notes        {"text": "..."} adds a note (201 + the note)
//   GET  /api/notes/{id}   one note, or a JSON 404
//   GET  /stream?n=5       n lines, one every 100 ms, chunked
//   POST /upload           a multipart form: its fields, and each file's name and size (files are
//                          streamed to temporary files, never held in memory)
//
// SIGINT or SIGTERM stop it gracefully (requests in flight get 5 s).
import AsyncIO
import AsyncIOHTTP
import FoundationEssentials
import Glibc
import HTTPTypes

struct Note: Codable {
    var id: Int
    var text: String
}

struct NewNote: Codable {
    var text: String
}

struct Upload: Codable {
    var fields: [String: String]
    var files: [UploadedFile]
}

struct UploadedFile: Codable {
    var field: String
    var filename: String
    var contentType: String
    var size: Int
}

let notesKey = AppKey<[Note]>("notes")

/// JSON with its keys in order, so that answers read (and compare) the same every time.
let json: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return encoder
}()

/// Writes a line to stdout at once, so that a test reading the pipe sees it.
func say(_ line: String, fd: Int32 = 1) {
    let text = line + "\n"
    _ = text.withCString { write(fd, $0, strlen($0)) }
}

func makeApplication(publicDirectory: String) throws -> Application {
    let app = Application()
    app[notesKey] = [Note(id: 1, text: "Hello from HTTPApp")]

    // Errors under /api are JSON, like the rest of the API.
    app.middlewares.append { request, handler in
        do {
            return try await handler(request)
        } catch let error as HTTPError where request.path.hasPrefix("/api/") {
            return try Response.json(["error": error.body], status: error.status, headers: error.headers, encoder: json)
        }
    }

    try app.router.get("/") { _ in FileResponse(path: publicDirectory + "/index.html") }
    try app.router.addStatic("/static", directory: publicDirectory)

    let api = app.router.group("/api")
    try api.get("/notes") { request in try Response.json(request.app?[notesKey] ?? [], encoder: json) }
    try api.post("/notes") { request in
        let new = try await request.json(as: NewNote.self)
        guard let app = request.app, !new.text.isEmpty else { throw HTTPError.unprocessableContent() }
        let note = Note(id: (app[notesKey]?.map(\.id).max() ?? 0) + 1, text: new.text)
        app[notesKey] = (app[notesKey] ?? []) + [note]
        return try Response.json(note, status: .created, encoder: json)
    }
    try api.get("/notes/{id}") { request in
        guard let id = Int(request.matchInfo["id"] ?? ""),
            let note = request.app?[notesKey]?.first(where: { $0.id == id })
        else { throw HTTPError.notFound() }
        return try Response.json(note, encoder: json)
    }

    try app.router.get("/stream") { request in
        let count = min(Int(request.query["n"] ?? "") ?? 5, 100)
        let response = StreamResponse()
        response.contentType = "text/plain"
        response.charset = "utf-8"
        try await response.prepare(request)
        for line in 1...max(count, 1) {
            try await response.write("line \(line)\n")
            try await sleep(.milliseconds(100))
        }
        try await response.writeEOF()
        return response
    }

    try app.router.post("/upload") { request in
        let form = try await request.post()
        var fields: [String: String] = [:]
        for (name, value) in form.fields { fields[name] = value }
        let files = form.files.map {
            UploadedFile(field: $0.name, filename: $0.filename, contentType: $0.contentType, size: $0.size)
        }
        return try Response.json(Upload(fields: fields, files: files), encoder: json)
    }
    return app
}

// MARK: - Arguments and running

/// Parses `--port` and `--static`; exits with status 2 on bad arguments.
func parseArguments() -> (port: Int, publicDirectory: String) {
    var port = 8080
    var publicDirectory = String(#filePath.dropLast("main.swift".count)) + "public"
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch (argument, arguments.popFirst()) {
        case ("--port", let value?) where Int(value).map { (0...65_535).contains($0) } == true:
            port = Int(value)!
        case ("--static", let value?):
            publicDirectory = value
        default:
            say("usage: HTTPApp [--port N] [--static DIR]", fd: 2)
            exit(2)
        }
    }
    return (port, publicDirectory)
}

let (port, publicDirectory) = parseArguments()
do {
    try run { loop in
        let stop = loop.createFuture(of: Void.self)
        for signal in [SIGTERM, SIGINT] {
            try loop.addSignalHandler(signal) { try? stop.setResult(()) }
        }
        let app = try makeApplication(publicDirectory: publicDirectory)
        app.accessLog = AccessLogger()
        let runner = try await app.start(host: "127.0.0.1", port: port, loop: loop)
        say("HTTPApp listening on: 127.0.0.1:\(runner.port)")
        try await stop.value
        await runner.cleanup(timeout: .seconds(5))
    }
} catch {
    say("HTTPApp: \(error)", fd: 2)
    exit(1)
}

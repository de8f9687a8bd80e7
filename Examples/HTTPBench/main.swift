// The server `../shared/bench/http/compare.py` measures: `GET /` answers `200 text/plain`
// `Hello world!\r\n`, any other request `404`.
//
//   --api low   the talk's low-level API: a ServerHTTPProtocol subclass with handleRequest
//
// It listens on 127.0.0.1 only, prints the bound address, and exits cleanly (status 0) on SIGTERM
// or SIGINT, after a graceful shutdown of at most one second.
//
// Usage: swift run -c release HTTPBench --api low --port 8080   (--port 0: a free port)
import AsyncIO
import AsyncIOHTTP
import Glibc

/// Writes a line to stdout (or `fd`) at once, so that a test reading the pipe sees it.
func say(_ line: String, fd: Int32 = 1) {
    let text = line + "\n"
    _ = text.withCString { write(fd, $0, strlen($0)) }
}

enum API: String { case low }

/// Parses `--api` and `--port`; exits with status 2 on bad arguments.
func parseArguments() -> (api: API, port: Int) {
    var api = API.low
    var port = 8080
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--api":
            guard let value = arguments.popFirst(), let parsed = API(rawValue: value) else {
                say("--api takes low", fd: 2)
                exit(2)
            }
            api = parsed
        case "--port":
            guard let value = arguments.popFirst(), let parsed = Int(value), (0...65_535).contains(parsed) else {
                say("--port takes a port number (0 for any)", fd: 2)
                exit(2)
            }
            port = parsed
        default:
            say("usage: HTTPBench [--api low] [--port N]", fd: 2)
            exit(2)
        }
    }
    return (api, port)
}

let hello = Array("Hello world!\r\n".utf8)
let notFound = Array("404: Not Found".utf8)

/// The low-level API: one response per request, written by the protocol's `handleRequest`.
final class HelloProtocol: ServerHTTPProtocol {
    override func handleRequest(_ message: RawRequestMessage, _ payload: RequestBody) async throws {
        let method = message.httpMethod
        let found = message.pathBytes.elementsEqual("/".utf8) && (method == .get || method == .head)
        let response = Response(transport, found ? 200 : 404)
        response.contentType = "text/plain"
        try await response.writeEOF(found ? hello : notFound)
    }
}

let (api, port) = parseArguments()
do {
    try run { loop in
        let stop = loop.createFuture(of: Void.self)
        for signal in [SIGTERM, SIGINT] {
            try loop.addSignalHandler(signal) { try? stop.setResult(()) }
        }
        let server: HTTPServer
        switch api {
        case .low:
            server = try await HTTPServer.start(host: "127.0.0.1", port: port, backlog: 4_096, loop: loop) {
                HelloProtocol(configuration: HTTPServerConfiguration(serverName: "swift-asyncio"))
            }
        }
        say("HTTPBench (\(api.rawValue)) listening on: 127.0.0.1:\(server.port)")
        try await stop.value
        await server.shutdown(timeout: .seconds(1))
    }
} catch {
    say("HTTPBench: \(error)", fd: 2)
    exit(1)
}

// The server `../shared/bench/http/compare.py` measures: `GET /` answers `200 text/plain`
// `Hello world!\r\n`, any other request `404`.
//
//   --api low   the talk's low-level API: a ServerHTTPProtocol subclass with handleRequest
//   --api app   the application API: an Application whose router has `GET /`, and one middleware
//
//   --loops N   N loops, one thread each (an `EventLoopGroup`), each with its own server on the
//               port (SO_REUSEPORT); default 1, the main thread's loop alone
//
// It listens on 127.0.0.1 only, prints the bound address, and exits cleanly (status 0) on SIGTERM
// or SIGINT, after a graceful shutdown of at most one second.
//
// Usage: swift run -c release HTTPBench --api low --port 8080 [--loops 2]   (--port 0: a free port)
import AsyncIO
import AsyncIOHTTP
import Glibc

/// Writes a line to stdout (or `fd`) at once, so that a test reading the pipe sees it.
func say(_ line: String, fd: Int32 = 1) {
    let text = line + "\n"
    _ = text.withCString { write(fd, $0, strlen($0)) }
}

enum API: String { case low, app }

/// Parses `--api`, `--port` and `--loops`; exits with status 2 on bad arguments.
func parseArguments() -> (api: API, port: Int, loops: Int) {
    var api = API.low
    var port = 8080
    var loops = 1
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--api":
            guard let value = arguments.popFirst(), let parsed = API(rawValue: value) else {
                say("--api takes low or app", fd: 2)
                exit(2)
            }
            api = parsed
        case "--port":
            guard let value = arguments.popFirst(), let parsed = Int(value), (0...65_535).contains(parsed) else {
                say("--port takes a port number (0 for any)", fd: 2)
                exit(2)
            }
            port = parsed
        case "--loops":
            guard let value = arguments.popFirst(), let parsed = Int(value), (1...1024).contains(parsed) else {
                say("--loops takes a number of loops (1 or more)", fd: 2)
                exit(2)
            }
            loops = parsed
        default:
            say("usage: HTTPBench [--api low|app] [--port N] [--loops N]", fd: 2)
            exit(2)
        }
    }
    return (api, port, loops)
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

/// The application API: a router and one middleware (it counts requests in the app's state).
func makeApplication() throws -> Application {
    let app = Application(configuration: HTTPServerConfiguration(serverName: "swift-asyncio"))
    let served = AppKey<Int>("served")
    app[served] = 0
    app.middlewares.append { request, handler in
        request.app?[served]? += 1
        return try await handler(request)
    }
    try app.router.get("/") { _ in Response(body: hello, contentType: "text/plain", charset: nil) }
    return app
}

/// One loop's server, either API, stopped gracefully with `stop()`.
enum BenchServer {
    case low(HTTPServer)
    case app(AppRunner)

    init(_ api: API, port: Int, reusePort: Bool, loop: isolated EventLoop) async throws {
        switch api {
        case .low:
            self = .low(
                try await HTTPServer.start(
                    host: "127.0.0.1",
                    port: port,
                    backlog: 4_096,
                    reusePort: reusePort,
                    loop: loop
                ) {
                    HelloProtocol(configuration: HTTPServerConfiguration(serverName: "swift-asyncio"))
                }
            )
        case .app:
            self = .app(try await makeApplication().start(port: port, backlog: 4_096, reusePort: reusePort, loop: loop))
        }
    }

    var port: Int {
        switch self {
        case .low(let server): server.port
        case .app(let runner): runner.port
        }
    }

    func stop() async {
        switch self {
        case .low(let server): await server.shutdown(timeout: .seconds(1))
        case .app(let runner): await runner.cleanup(timeout: .seconds(1))
        }
    }
}

let (api, port, loops) = parseArguments()
// With --loops N, the main thread's loop only waits for the signal; the group's loops serve.
let group = loops > 1 ? try EventLoopGroup(loopCount: loops, name: "http-loop") : nil
do {
    try run { loop in
        let stop = loop.createFuture(of: Void.self)
        for signal in [SIGTERM, SIGINT] {
            try loop.addSignalHandler(signal) { try? stop.setResult(()) }
        }
        if let group {
            let servers = try await group.startOnEveryLoop(port: port) { loop, port in
                try await BenchServer(api, port: port, reusePort: true, loop: loop)
            } boundPort: {
                $0.port
            }
            say("HTTPBench (\(api), \(loops) loops) listening on: 127.0.0.1:\(servers.port)")
            try await stop.value
            try await servers.onEachLoop { _, server in await server.stop() }
        } else {
            let server = try await BenchServer(api, port: port, reusePort: false, loop: loop)
            say("HTTPBench (\(api)) listening on: 127.0.0.1:\(server.port)")
            try await stop.value
            await server.stop()
        }
    }
    group?.shutdown()
} catch {
    say("HTTPBench: \(error)", fd: 2)
    exit(1)
}

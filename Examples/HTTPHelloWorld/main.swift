// The talk's "HTTP Server" slide: a ServerHttpProtocol subclass answering every request.
//
//     class HttpServer(aiohttp.server.ServerHttpProtocol):
//         @asyncio.coroutine
//         def handle_request(self, message, payload):
//             print('method = {!r}; path = {!r}; version = {!r}'.format(
//                 message.method, message.path, message.version))
//             response = aiohttp.Response(self.transport, 200, close=True)
//             response.add_header('Content-type', 'text/plain')
//             response.send_headers()
//             response.write(b'Hello world!\r\n')
//             response.write_eof()
//     loop = asyncio.get_event_loop()
//     f = loop.create_server(lambda: HttpServer(), 'localhost', 1234)
//     server = loop.run_until_complete(f)
//     loop.run_forever()
//
// Line for line, with Swift's `try`/`await` where the calls can fail or wait. Each request gets
// `Hello world!` and the connection closes (`close: true`); the body is chunked, since the
// response does not say its length. SIGTERM or Ctrl-C stop the server.
//
// Usage: swift run HTTPHelloWorld [PORT]   (default 1234; 0 picks a free port)
import AsyncIO
import AsyncIOHTTP
import Glibc

/// Writes a line to stdout at once (unbuffered), so that a test reading the pipe sees it.
func say(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
}

final class HttpServer: ServerHTTPProtocol {
    override func handleRequest(_ message: RawRequestMessage, _ payload: RequestBody) async throws {
        let version = "HttpVersion(major=\(message.version.major), minor=\(message.version.minor))"
        say("method = '\(message.method)'; path = '\(message.path)'; version = \(version)")
        let response = Response(transport, 200, close: true)
        try response.addHeader("Content-type", "text/plain")
        try response.sendHeaders()
        try await response.write("Hello world!\r\n")
        try await response.writeEOF()
    }
}

let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 1234
try run { loop in
    let server = try await loop.createServer({ HttpServer() }, host: "localhost", port: port)
    for socket in server.sockets {
        say("Serving on: http://\(try socket.localAddress())/ (listening on: \(try socket.localAddress()))")
    }
    // run_forever(), until SIGTERM or Ctrl-C.
    let stop = loop.createFuture(of: Void.self)
    for signal in [SIGTERM, SIGINT] {
        try loop.addSignalHandler(signal) { try? stop.setResult(()) }
    }
    try await stop.value
    server.close()
    server.closeClients()
    try await server.waitClosed()
}

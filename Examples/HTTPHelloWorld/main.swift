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
// With `--cert PEM --key PEM` the same server speaks HTTPS (asyncio's `create_server(…, ssl=context)`
// with a server context offering ALPN `http/1.1`).
//
// Usage: swift run HTTPHelloWorld [PORT] [--cert PEM --key PEM]   (default 1234; 0 picks a free port)
import AsyncIO
import AsyncIOHTTP
import AsyncIOTLS
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

/// The port and, for HTTPS, the certificate chain and key files; nil for a usage error.
func parseArguments(_ arguments: [String]) -> (port: Int, certificate: String?, key: String?)? {
    var port = 1234
    var certificate: String?
    var key: String?
    var rest = arguments[...]
    while let argument = rest.popFirst() {
        switch argument {
        case "--cert": certificate = rest.popFirst()
        case "--key": key = rest.popFirst()
        default:
            guard let number = Int(argument), (0...65535).contains(number) else { return nil }
            port = number
        }
    }
    guard (certificate == nil) == (key == nil) else { return nil }
    return (port, certificate, key)
}

guard let (port, certificate, key) = parseArguments(Array(CommandLine.arguments.dropFirst())) else {
    say("usage: HTTPHelloWorld [PORT] [--cert PEM --key PEM]")
    exit(2)
}
let tls = try certificate.map { try TLSContext(.httpServer(certificateChainFile: $0, privateKeyFile: key)) }

try run { loop in
    let server =
        if let tls {
            try await loop.createServer({ HttpServer() }, host: "localhost", port: port, tls: tls)
        } else {
            try await loop.createServer({ HttpServer() }, host: "localhost", port: port)
        }
    let scheme = tls == nil ? "http" : "https"
    for socket in server.sockets {
        say("Serving on: \(scheme)://\(try socket.localAddress())/ (listening on: \(try socket.localAddress()))")
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

// The streams echo server over TLS: every byte a client sends comes back, encrypted.
//
//     async def handle_client(reader, writer):
//         while data := await reader.read(65536):
//             writer.write(data)
//             await writer.drain()
//         writer.close()
//     context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
//     context.load_cert_chain(certfile, keyfile)
//     server = await asyncio.start_server(handle_client, '127.0.0.1', 8443, ssl=context)
//
// ALPN offers `echo` (a client that asks for something else still connects, without ALPN).
// SIGTERM/Ctrl-C stop the server cleanly. `--mode protocol` serves the same echo with a
// `ConnectionProtocol` on `createServer(…, tls:)` instead (asyncio's `create_server(Echo, …,
// ssl=context)`; SwiftNIO's echo handler is its peer in the TLS benchmark).
//
// Usage: swift run TLSEchoServer --cert PEM --key PEM [--port N] [--host ADDRESS] [--mode streams|protocol]
//        (port 8443 by default; 0 picks a free one, printed on the first line)
import AsyncIO
import AsyncIOTLS
import Glibc

/// Writes a line to stdout at once (unbuffered), so that a test reading the pipe sees it.
func say(_ line: String, to descriptor: Int32 = 1) {
    let text = line + "\n"
    _ = text.withCString { write(descriptor, $0, strlen($0)) }
}

struct Options {
    var certificate = ""
    var key = ""
    var port = 8443
    var host = "127.0.0.1"
    var protocolMode = false
}

func parseOptions(_ arguments: [String]) -> Options? {
    var options = Options()
    var rest = arguments[...]
    while let flag = rest.popFirst() {
        guard let value = rest.popFirst() else { return nil }
        switch flag {
        case "--cert": options.certificate = value
        case "--key": options.key = value
        case "--host": options.host = value
        case "--mode":
            guard value == "streams" || value == "protocol" else { return nil }
            options.protocolMode = value == "protocol"
        case "--port":
            guard let port = Int(value), (0...65535).contains(port) else { return nil }
            options.port = port
        default: return nil
        }
    }
    return options.certificate.isEmpty || options.key.isEmpty ? nil : options
}

guard let options = parseOptions(Array(CommandLine.arguments.dropFirst())) else {
    say("usage: TLSEchoServer --cert PEM --key PEM [--port N] [--host ADDRESS] [--mode streams|protocol]", to: 2)
    exit(2)
}

let context: TLSContext
do {
    var configuration = TLSConfiguration.server(
        certificateChainFile: options.certificate,
        privateKeyFile: options.key,
        alpnProtocols: ["echo"]
    )
    configuration.minimumVersion = .v1_2
    context = try TLSContext(configuration)
} catch {
    say("TLSEchoServer: \(error)", to: 2)
    exit(1)
}

/// The protocol mode's echo: what is decrypted is written back at once; reading pauses while the
/// transport's write buffer is over its high-water mark.
final class EchoProtocol: ConnectionProtocol {
    var transport: (any Transport)?

    func connectionMade(_ transport: any Transport, loop: isolated EventLoop) { self.transport = transport }

    func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) { try? transport?.write(data) }

    func pauseWriting(loop: isolated EventLoop) { transport?.pauseReading() }

    func resumeWriting(loop: isolated EventLoop) { transport?.resumeReading() }

    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) { transport = nil }
}

try run { loop in
    var clients = 0
    let server =
        if options.protocolMode {
            try await loop.createServer({ EchoProtocol() }, host: options.host, port: options.port, tls: context)
        } else {
            try await loop.startServer(host: options.host, port: options.port, tls: context) { reader, writer in
                clients += 1
                defer { clients -= 1 }
                while true {
                    let data = try await reader.read(65536)
                    if data.isEmpty { break }
                    try writer.write(data)
                    try await writer.drain()
                }
                writer.close()
            }
        }
    say("Server listening on: \(try server.sockets[0].localAddress())")
    let stop = loop.createFuture(of: Void.self)
    for signal in [SIGTERM, SIGINT] {
        try loop.addSignalHandler(signal) { try? stop.setResult(()) }
    }
    try await stop.value
    server.close()
    server.closeClients()
    try await server.waitClosed()
    say("Server stopped (\(clients) clients were connected)")
}

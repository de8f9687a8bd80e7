// Fetches a URL with the HTTP client and prints what came back, as `curl -i` does:
//
//     HTTP/1.1 200 OK
//     Content-Type: text/html
//     ...
//
//     <body>
//
// The body is written to stdout as it arrives (a `ClientResponse`'s `content`), so a large file
// does not have to fit in memory. Redirects are followed (up to 10); errors (an unreachable host,
// a malformed reply, a timeout) are printed to stderr and the exit status is 1. https URLs are
// checked against the system's trusted roots, or against the CA certificates in `--cafile`; a
// refused certificate is an error like the others.
//
// Usage: swift run HTTPGet [--cafile PEM] URL
import AsyncIO
import AsyncIOHTTP
import AsyncIOTLS
import Glibc

/// Writes bytes to a file descriptor unbuffered (a pipe reader sees them at once).
func output(_ bytes: some Collection<UInt8>, to fd: Int32 = 1) {
    let array = Array(bytes)
    var offset = 0
    while offset < array.count {
        let written = array[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written > 0 else { return }
        offset += written
    }
}

var arguments = Array(CommandLine.arguments.dropFirst())
var caFile: String?
if arguments.count == 3, arguments[0] == "--cafile" {
    caFile = arguments[1]
    arguments.removeFirst(2)
}
guard arguments.count == 1 else {
    output("usage: HTTPGet [--cafile PEM] URL\n".utf8, to: 2)
    exit(2)
}
let url = arguments[0]

do {
    // The session's https context: the given CA file, or (nil) the system's roots.
    let tls = try caFile.map { try TLSContext(.client(trustRoots: .file($0), alpnProtocols: ["http/1.1"])) }
    try run { loop in
        let session = try ClientSession(tls: tls)
        defer { session.close() }
        let response = try await session.get(url)
        let version = response.version == .http1_1 ? "HTTP/1.1" : "HTTP/1.0"
        var head = "\(version) \(response.status.code) \(response.reason)\r\n"
        for field in response.headers { head += "\(field.name.rawName): \(field.value)\r\n" }
        output((head + "\r\n").utf8)
        for try await chunk in response.content { output(chunk) }
    }
} catch {
    output("HTTPGet: \(error)\n".utf8, to: 2)
    exit(1)
}

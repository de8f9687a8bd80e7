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
// a malformed reply, a timeout) are printed to stderr and the exit status is 1. https is refused
// with "TLS is not available yet" until TLS lands (#17).
//
// Usage: swift run HTTPGet URL
import AsyncIO
import AsyncIOHTTP
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

guard CommandLine.arguments.count == 2 else {
    output("usage: HTTPGet URL\n".utf8, to: 2)
    exit(2)
}
let url = CommandLine.arguments[1]

do {
    try run { loop in
        let session = try ClientSession()
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

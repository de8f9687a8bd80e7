// The talk's "Scaling Up!": a thread per client, each sending back what it gets in upper case.
//
//     def handle_client(client, addr):
//         say("Client connected: {}".format(addr))
//         while True:
//             data = client.recv(4096)
//             if not data:
//                 say("Client has disconnected")
//                 break
//             client.send(data.upper())
//     ...
//     while True:
//         client, addr = server.accept()
//         _thread.start_new_thread(handle_client, (client, addr))
//
// Done right where the slide cuts corners: every byte is sent, the client's socket is closed at
// EOF, and upper-casing is `bytes.upper()`'s: ASCII letters only, every other byte unchanged.
// The next slide says why this does not scale: a thread (and its stack) per client.
//
// Usage: swift run ThreadedUppercaseServer [PORT]   (default 1234; 0 picks a free port). Ctrl-C stops it.
import Foundation
import Glibc

/// Writes a line to stdout at once (unbuffered), so that a test reading the pipe sees it.
func say(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
}
let port = CommandLine.arguments.dropFirst().first.flatMap { UInt16($0) } ?? 1234

func fail(_ call: String) -> Never {
    perror(call)
    exit(1)
}

/// `bytes.upper()`: a–z become A–Z, every other byte is left alone.
func upper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte }

func handleClient(_ client: Int32, _ peer: String) {
    say("Client connected: \(peer)")
    var buffer = [UInt8](repeating: 0, count: 4096)
    receiving: while true {
        let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        for index in 0..<count { buffer[index] = upper(buffer[index]) }
        var sent = 0
        while sent < count {
            let written = buffer.withUnsafeBytes {
                send(client, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL))
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { break receiving }
            sent += written
        }
    }
    say("Client has disconnected")
    close(client)
}

let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
guard server >= 0 else { fail("socket") }
var yes: Int32 = 1
setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
var address = sockaddr_in()
address.sin_family = sa_family_t(AF_INET)
address.sin_port = port.bigEndian
address.sin_addr.s_addr = inet_addr("127.0.0.1")
var length = socklen_t(MemoryLayout<sockaddr_in>.size)
let bound = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(server, $0, length) }
}
guard bound == 0 else { fail("bind") }
guard listen(server, 128) == 0 else { fail("listen") }
_ = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(server, $0, &length) }
}
say("Server listening on: 127.0.0.1:\(UInt16(bigEndian: address.sin_port))")

while true {
    var peer = sockaddr_in()
    var peerLength = socklen_t(MemoryLayout<sockaddr_in>.size)
    let client = withUnsafeMutablePointer(to: &peer) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(server, $0, &peerLength) }
    }
    if client < 0 {
        if errno == EINTR || errno == ECONNABORTED { continue }
        fail("accept")
    }
    let name = "\(String(cString: inet_ntoa(peer.sin_addr))):\(UInt16(bigEndian: peer.sin_port))"
    let thread = Thread { handleClient(client, name) }
    thread.start()
}

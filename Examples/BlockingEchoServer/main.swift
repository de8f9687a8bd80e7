// The talk's "Sockets 101": one client, blocking calls, echo until the client disconnects.
//
//     server = socket.socket(family=socket.AF_INET, type=socket.SOCK_STREAM)
//     server.bind(('127.0.0.1', 1234))
//     server.listen(128)
//     say("Server listening on: {}".format(server.getsockname()))
//     client, addr = server.accept()
//     say("Client connected: {}".format(addr))
//     while True:
//         data = client.recv(4096)
//         if not data:
//             say("Client has disconnected")
//             break
//         client.send(data)
//     server.close()
//
// Done right where the slide cuts corners: every byte is sent (a loop over `send`, not one call),
// and the server stops on EOF. No event loop here: this is the "before" picture.
//
// Usage: swift run BlockingEchoServer [PORT]   (default 1234; 0 picks a free port)
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

var peer = sockaddr_in()
var peerLength = socklen_t(MemoryLayout<sockaddr_in>.size)
let client = withUnsafeMutablePointer(to: &peer) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(server, $0, &peerLength) }
}
guard client >= 0 else { fail("accept") }
say("Client connected: \(String(cString: inet_ntoa(peer.sin_addr))):\(UInt16(bigEndian: peer.sin_port))")

var buffer = [UInt8](repeating: 0, count: 4096)
receiving: while true {
    let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
    if count < 0 && errno == EINTR { continue }
    if count <= 0 {
        say("Client has disconnected")
        break
    }
    // Send all of it: one `send` may take only part of the bytes.
    var sent = 0
    while sent < count {
        let written = buffer.withUnsafeBytes { send(client, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else {
            say("Client has disconnected")
            break receiving
        }
        sent += written
    }
}
close(client)
close(server)

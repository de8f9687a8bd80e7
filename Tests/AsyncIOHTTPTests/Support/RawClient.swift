import AsyncIO
import Foundation
import Glibc
import HTTP1Codec

/// A response as a test client read it.
struct TestResponse: Sendable {
    var status: Int
    var fields: [(name: String, value: String)]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The value of the first field named `name` (case-insensitive).
    func field(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A plain blocking socket to the server under test, driven on threads of its own with deadlines,
/// so that a bug in the loop cannot hide itself. Reads go through `HTTP1Codec`'s response parser.
final class RawClient: @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): `parser` and `leftover` are used by one test task at a
    // time (each call awaits the thread it starts); `fd` is immutable.
    let fd: Int32
    private var parser = ResponseParser()

    init(port: Int, timeoutSeconds: Int = 10) throws {
        fd = try Self.connect(port: port)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A blocking TCP socket connected to 127.0.0.1:`port`.
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            Glibc.close(fd)
            throw SystemError(call: "connect", errno: error)
        }
        return fd
    }

    deinit {
        Glibc.close(fd)
    }

    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    /// Sends `text` (UTF-8).
    func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    /// Sends all of `bytes`.
    func send(_ bytes: [UInt8]) async throws {
        try await Self.onThread { [fd] in
            var offset = 0
            while offset < bytes.count {
                let count = bytes.withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
                }
                guard count > 0 else { throw SystemError(call: "send", errno: errno) }
                offset += count
            }
        }
    }

    /// One `recv`: what is there (empty at EOF); throws on reset or after the deadline.
    func receiveSome() async throws -> [UInt8] {
        try await Self.onThread { [fd] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count >= 0 else { throw SystemError(call: "recv", errno: errno) }
            return Array(buffer[0..<count])
        }
    }

    /// Reads the next whole response (for a HEAD request, pass `head: true`).
    func readResponse(head: Bool = false) async throws -> TestResponse {
        var response: TestResponse?
        var body: [UInt8] = []
        while true {
            while let event = try parser.next(requestMethod: head ? .head : .other) {
                switch event {
                case .head(let responseHead):
                    // An interim 1xx is returned as a response of its own.
                    response = TestResponse(
                        status: responseHead.statusCode,
                        fields: responseHead.fields.map {
                            (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self))
                        },
                        body: []
                    )
                case .body(let bytes):
                    body.append(contentsOf: bytes)
                case .end:
                    guard var whole = response else { continue }
                    whole.body = body
                    return whole
                }
            }
            let bytes = try await receiveSome()
            if bytes.isEmpty {
                parser.finish()
                if let event = try parser.next(requestMethod: head ? .head : .other), case .end = event,
                    var whole = response
                {
                    whole.body = body
                    return whole
                }
                throw SystemError(call: "recv: the server closed before a whole response", errno: ECONNRESET)
            }
            parser.feed(bytes)
        }
    }

    /// True if the server closed the connection (EOF) with nothing more to read; false if bytes came.
    func isClosedByPeer() async throws -> Bool {
        let bytes = try await receiveSome()
        return bytes.isEmpty
    }

    /// Shuts our write side down (the server sees EOF).
    func shutdownWrite() {
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes with `SO_LINGER` 0: the server sees a reset.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        let dummy = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if dummy >= 0 {
            dup2(dummy, fd)
            Glibc.close(dummy)
        }
    }
}

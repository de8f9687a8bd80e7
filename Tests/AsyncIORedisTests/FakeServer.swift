import Foundation
import Glibc

/// A fault-injecting stand-in for redis-server on a free loopback port: each accepted connection is
/// handed, on a thread of its own, to the next of the given behaviours (blocking socket calls).
///
/// Clients use RESP2 without AUTH or SELECT, so they send nothing before the test's own command.
final class FakeServer: @unchecked Sendable {
    // SAFETY (for @unchecked Sendable): `listener` and `port` are immutable after init; the
    // accepting thread is the only one that reads `behaviours`, after init.
    let port: Int
    private let listener: Int32

    /// What to do with one accepted connection (the descriptor is closed afterwards).
    typealias Behaviour = @Sendable (Peer) -> Void

    init(_ behaviours: [Behaviour]) throws {
        let (fd, port) = try loopbackSocket(listening: true)
        listener = fd
        self.port = port
        Thread {
            for behaviour in behaviours {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                Thread {
                    behaviour(Peer(fd: client))
                    close(client)
                }.start()
            }
        }.start()
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    deinit { stop() }

    /// One accepted connection, seen from the server.
    struct Peer: Sendable {
        let fd: Int32

        /// Reads until at least one whole command (`*…`) seems to be there; returns what came.
        @discardableResult
        func readCommand(seconds: Int = 10) -> [UInt8] {
            var timeout = timeval(tv_sec: seconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count > 0 ? Array(buffer[..<count]) : []
        }

        func send(_ text: String) { send(Array(text.utf8)) }

        func send(_ bytes: [UInt8]) {
            var offset = 0
            while offset < bytes.count {
                let count = bytes[offset...].withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                guard count > 0 else { return }
                offset += count
            }
        }

        /// Closes with a TCP reset (SO_LINGER 0).
        func reset() {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }

        /// Waits until the client closes (or `seconds` pass).
        func waitForClose(seconds: Int = 10) {
            while !readCommand(seconds: seconds).isEmpty {}
        }
    }
}

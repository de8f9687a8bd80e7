import Foundation
import Glibc
import Testing

/// A client that sends and never reads must not make an echo server's memory grow (issue 3).
@Suite struct EchoBenchFlowControlTests {
    @Test(arguments: ["protocol", "streams"])
    func echoBenchStopsReadingFromAClientThatDoesNotRead(mode: String) async throws {
        let server = try ExampleProcess("EchoBench", arguments: ["--mode", mode, "--port", "0"])
        defer { server.send(SIGKILL) }
        let port = try #require(try await server.port())
        let client = try Client(port: port)
        // Sends block after one second instead of ten, so the loop below ends soon once the
        // kernel's buffers are full.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(client.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let before = try #require(residentKiB(of: server.pid))
        // The client never reads. A server that pauses reading lets the kernel's buffers (a few
        // MiB on loopback) fill up until the client's send blocks; an echo that kept reading would
        // buffer all 256 MiB.
        let chunk = [UInt8](repeating: 0x61, count: 256 * 1024)
        var sent = 0
        while sent < 256 << 20 {
            let count = chunk.withUnsafeBytes { Glibc.send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { break }
            sent += count
        }
        #expect(sent < 128 << 20)
        let grown = try #require(residentKiB(of: server.pid)) - before
        #expect(grown < 16 * 1024, "server grew by \(grown) KiB")
        server.send(SIGTERM)
        let exit = try await server.waitForExit()
        #expect(exit == .exited(0))
    }

    private func residentKiB(of pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.dropFirst(6).filter(\.isNumber)) }
    }
}

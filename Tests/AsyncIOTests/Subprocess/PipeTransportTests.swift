import AsyncIO
import AsyncIOTesting
import Foundation
import Glibc
import Testing

/// `connectReadPipe` / `connectWritePipe` on pipes, a FIFO and a socket pair; the far end is
/// driven by plain blocking calls on threads.
@Suite struct PipeTransportTests {
    final class ReadRecorder: ReadPipeProtocol {
        var events: [String] = []
        var received: [UInt8] = []
        var transport: (any ReadTransport)?
        let done: Future<Void>

        init() { done = try! Future<Void>() }

        func connectionMade(_ transport: any ReadTransport, loop: isolated EventLoop) {
            self.transport = transport
            events.append("CM")
        }
        func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {
            if events.last != "DR" { events.append("DR") }
            received.append(contentsOf: data)
        }
        func eofReceived(loop: isolated EventLoop) { events.append("ER") }
        func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
            events.append(error == nil ? "CL nil" : "CL \(error!)")
            try? done.setResult(())
        }
    }

    final class WriteRecorder: WritePipeProtocol {
        var events: [String] = []
        var transport: (any WriteTransport)?
        let done: Future<Void>

        init() { done = try! Future<Void>() }

        func connectionMade(_ transport: any WriteTransport, loop: isolated EventLoop) {
            self.transport = transport
            events.append("CM")
        }
        func pauseWriting(loop: isolated EventLoop) { events.append("PW") }
        func resumeWriting(loop: isolated EventLoop) { events.append("RW") }
        func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {
            events.append(error == nil ? "CL nil" : "CL \((error as? SystemError)?.errno ?? -1)")
            try? done.setResult(())
        }
    }

    static func makePipe() -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        precondition(pipe(&fds) == 0)
        // Close-on-exec: a child another test spawns meanwhile must not hold the write end open, or
        // a reader here would wait for its exit instead of the EOF it expects.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    /// Writes `bytes` to `fd` from a thread, then closes it.
    static func writeAndClose(_ fd: Int32, _ bytes: [UInt8]) {
        Thread {
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let count = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if count <= 0 { break }
                    offset += count
                }
            }
            close(fd)
        }.start()
    }

    /// Reads `fd` to its end on a thread, slowly at first, and closes it.
    static func readToEnd(_ fd: Int32, stallFirst: Bool = false) async -> [UInt8] {
        await withCheckedContinuation { continuation in
            Thread {
                if stallFirst { usleep(200_000) }
                var result: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if count <= 0 { break }
                    result.append(contentsOf: buffer[0..<count])
                }
                close(fd)
                continuation.resume(returning: result)
            }.start()
        }
    }

    @Test func aReadPipeDeliversDataThenEOFThenTheEnd() async throws {
        let (readEnd, writeEnd) = Self.makePipe()
        let payload = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        Self.writeAndClose(writeEnd, payload)
        let (events, received, fdAfter) = try await EventLoopThread.run { loop in
            let (transport, proto) = try await loop.connectReadPipe({ ReadRecorder() }, fd: readEnd)
            #expect(transport.extraInfo.fileDescriptor == readEnd)
            try await proto.done.value
            return (proto.events, proto.received, transport.extraInfo.fileDescriptor)
        }
        #expect(events == ["CM", "DR", "ER", "CL nil"])
        #expect(received == payload)
        #expect(fdAfter == nil)  // closed by the transport (the number may already be reused)
    }

    @Test func pausingAReadPipeStopsDataUntilResumed() async throws {
        let (readEnd, writeEnd) = Self.makePipe()
        let (whilePaused, total) = try await EventLoopThread.run { loop in
            let (transport, proto) = try await loop.connectReadPipe({ ReadRecorder() }, fd: readEnd)
            transport.pauseReading()
            #expect(!transport.isReading)
            _ = "abc".withCString { write(writeEnd, $0, 3) }
            try await sleep(.milliseconds(50))
            let whilePaused = proto.received.count
            transport.resumeReading()
            close(writeEnd)
            try await proto.done.value
            return (whilePaused, proto.received.count)
        }
        #expect(whilePaused == 0)
        #expect(total == 3)
    }

    @Test func aFIFOIsAPipeAndARegularFileIsRefused() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID())").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        let readEnd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        let writeEnd = open(path, O_WRONLY | O_CLOEXEC)
        Self.writeAndClose(writeEnd, Array("through the fifo".utf8))
        let file = open("/etc/hostname", O_RDONLY | O_CLOEXEC)
        defer { close(file) }
        let (received, refused) = try await EventLoopThread.run { loop in
            let (_, proto) = try await loop.connectReadPipe({ ReadRecorder() }, fd: readEnd)
            try await proto.done.value
            var refused = ""
            do { _ = try await loop.connectReadPipe({ ReadRecorder() }, fd: file) } catch { refused = "\(error)" }
            return (proto.received, refused)
        }
        #expect(String(decoding: received, as: UTF8.self) == "through the fifo")
        #expect(refused == "ValueError: Pipe transport is for pipes/sockets only.")
    }

    @Test func aWritePipeFlowControlsAndFlushesBeforeClosing() async throws {
        let (readEnd, writeEnd) = Self.makePipe()
        let payload = (0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        async let received = Self.readToEnd(readEnd, stallFirst: true)
        let events = try await EventLoopThread.run { loop in
            let (transport, proto) = try await loop.connectWritePipe({ WriteRecorder() }, fd: writeEnd)
            try transport.write(payload)
            #expect(transport.writeBufferSize > 0)
            transport.close()
            try transport.write("dropped")  // after close: dropped, as asyncio does
            try await proto.done.value
            return proto.events
        }
        #expect(events == ["CM", "PW", "RW", "CL nil"])
        #expect(await received == payload)
    }

    @Test func aWritePipeNoticesItsReaderGoingAway() async throws {
        let (readEnd, writeEnd) = Self.makePipe()
        let events = try await EventLoopThread.run { loop in
            let (_, idle) = try await loop.connectWritePipe({ WriteRecorder() }, fd: writeEnd)
            close(readEnd)
            try await idle.done.value
            let (readEnd2, writeEnd2) = Self.makePipe()
            let (busyTransport, busy) = try await loop.connectWritePipe({ WriteRecorder() }, fd: writeEnd2)
            try busyTransport.write([UInt8](repeating: 1, count: 1_000_000))
            close(readEnd2)
            try await busy.done.value
            return idle.events + busy.events
        }
        // Nothing queued: a plain end. Bytes queued: EPIPE (asyncio's BrokenPipeError).
        #expect(events == ["CM", "CL nil", "CM", "PW", "CL \(EPIPE)"])
    }
}

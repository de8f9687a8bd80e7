import AsyncIO
import AsyncIOTesting
import Foundation
import Glibc
import Testing

/// `loop.sendfile` and `loop.sockSendfile` on loopback: the kernel path, offsets and counts, the
/// read/write fallback, and a peer that goes away mid-transfer.
@Suite struct SendfileTests {
    /// A temporary file of `count` bytes of a pattern that shows misplaced offsets; opened read-only.
    final class TempFile: @unchecked Sendable {
        let fd: Int32
        let bytes: [UInt8]

        init(count: Int) throws {
            // A 64 KiB block of a pattern, repeated with a different rotation per block (fast in debug).
            let block = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            var bytes = [UInt8]()
            bytes.reserveCapacity(count)
            var round = 0
            while bytes.count < count {
                let rotation = round % block.count
                bytes.append(contentsOf: block[rotation...].prefix(count - bytes.count))
                bytes.append(contentsOf: block[..<rotation].prefix(count - bytes.count))
                round += 7919
            }
            self.bytes = bytes
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("sendfile-\(UUID()).bin").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            fd = open(path, O_RDONLY | O_CLOEXEC)
            unlink(path)
            guard fd >= 0 else { throw SystemError(call: "open", errno: errno) }
        }

        var position: Int { Int(lseek(fd, 0, SEEK_CUR)) }

        deinit { close(fd) }
    }

    /// A connected transport (the loop's side, driven by `proto`) and a blocking peer.
    static func connect(
        _ loop: isolated EventLoop,
        _ proto: RecordingProtocol
    ) async throws -> (any Transport, BlockingPeer) {
        let listener = try BlockingListener()
        async let accepted = listener.accept()
        let (transport, _) = try await loop.createConnection({ proto }, host: "127.0.0.1", port: listener.address.port!)
        return (transport, try await accepted)
    }

    @Test func aLargeFileGoesThroughTheKernelAfterWhatWasWrittenBefore() async throws {
        let file = try TempFile(count: 24 * 1024 * 1024 + 17)
        let (sent, received, position, afterWrite) = try await EventLoopThread.run { loop in
            let proto = RecordingProtocol(loop: loop)
            let (transport, peer) = try await Self.connect(loop, proto)
            // More than the socket takes at once, so the sendfile must wait for the buffer to drain.
            let head = [UInt8](repeating: 0xAB, count: 4 * 1024 * 1024)
            try transport.write(head)
            async let received = peer.receiveToEOF()
            let sending = loop.createTask { try await loop.sendfile(transport, file: file.fd) }
            try await sleep(.milliseconds(1))
            var afterWrite = ""
            do { try transport.write("x") } catch { afterWrite = "\(error)" }
            let sent = try await sending.value
            try transport.write("tail")
            transport.close()
            return (sent, try await received, file.position, afterWrite)
        }
        #expect(sent == file.bytes.count)
        #expect(position == file.bytes.count)
        #expect(received.count == 4 * 1024 * 1024 + file.bytes.count + 4)
        #expect(received.prefix(4 * 1024 * 1024).allSatisfy { $0 == 0xAB })
        #expect(Array(received.dropFirst(4 * 1024 * 1024).prefix(file.bytes.count)) == file.bytes)
        #expect(Array(received.suffix(4)) == Array("tail".utf8))
        #expect(afterWrite == "RuntimeError: unable to write; sendfile is in progress")
    }

    @Test func offsetAndCountSendThatSliceAndMoveTheFilePosition() async throws {
        let file = try TempFile(count: 1_000_000)
        let results = try await EventLoopThread.run { loop in
            var results: [(Int, [UInt8], Int)] = []
            for (offset, count) in [(0, 1), (12_345, 500_000), (999_990, nil), (1_000_000, nil), (999_000, 5000)]
                as [(Int, Int?)]
            {
                let proto = RecordingProtocol(loop: loop)
                let (transport, peer) = try await Self.connect(loop, proto)
                async let received = peer.receiveToEOF()
                let sent = try await loop.sendfile(transport, file: file.fd, offset: offset, count: count)
                transport.close()
                results.append((sent, try await received, file.position))
            }
            return results.map { "\($0.0) \($0.1.count) \($0.2)" }
        }
        #expect(results == ["1 1 1", "500000 500000 512345", "10 10 1000000", "0 0 1000000", "1000 1000 1000000"])
        let slice = try await EventLoopThread.run { loop in
            let (transport, peer) = try await Self.connect(loop, RecordingProtocol(loop: loop))
            async let received = peer.receiveToEOF()
            try await loop.sendfile(transport, file: file.fd, offset: 12_345, count: 70_000)
            transport.close()
            return try await received
        }
        #expect(slice == Array(file.bytes[12_345..<82_345]))
    }

    @Test func badArgumentsAreRefusedAsAsyncioRefusesThem() async throws {
        let file = try TempFile(count: 10)
        let errors = try await EventLoopThread.run { loop in
            let (transport, _) = try await Self.connect(loop, RecordingProtocol(loop: loop))
            var errors: [String] = []
            for (offset, count) in [(-1, nil), (0, 0), (0, -5)] as [(Int, Int?)] {
                do { try await loop.sendfile(transport, file: file.fd, offset: offset, count: count) } catch {
                    errors.append("\(error)")
                }
            }
            transport.close()
            do { try await loop.sendfile(transport, file: file.fd) } catch { errors.append("\(error)") }
            return errors
        }
        #expect(
            errors == [
                "ValueError: offset must be a non-negative integer (got -1)",
                "ValueError: count must be a positive integer (got 0)",
                "ValueError: count must be a positive integer (got -5)",
                "RuntimeError: transport is closed",
            ]
        )
    }

    /// A pipe is not a regular file: the bytes are read and written, in order, up to its EOF.
    @Test func aPipeFallsBackToReadAndWriteOrIsRefusedWithoutFallback() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // not inherited by other tests' children
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer { close(readEnd) }
        let payload = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        PipeTransportTests.writeAndClose(writeEnd, payload)
        let (refused, sent, received) = try await EventLoopThread.run { loop in
            let (transport, peer) = try await Self.connect(loop, RecordingProtocol(loop: loop))
            var refused = ""
            do { try await loop.sendfile(transport, file: readEnd, fallback: false) } catch { refused = "\(error)" }
            async let received = peer.receiveToEOF()
            let sent = try await loop.sendfile(transport, file: readEnd)
            transport.close()
            return (refused, sent, try await received)
        }
        #expect(refused == "SendfileNotAvailableError: not a regular file")
        #expect(sent == payload.count)
        #expect(received == payload)
    }

    /// A transport that is not a plain socket (here an in-memory pair; TLS in practice) gets the
    /// file by read and write, within its water marks.
    @Test func aTransportThatIsNotASocketGetsTheFallback() async throws {
        let file = try TempFile(count: 3 * 1024 * 1024 + 5)
        let (refused, sent, received, position) = try await EventLoopThread.run { loop in
            let (transport, peer) = try MemoryPeer.connect(loop: loop, RecordingProtocol(loop: loop))
            var refused = ""
            do { try await loop.sendfile(transport, file: file.fd, fallback: false) } catch { refused = "\(error)" }
            let reader = loop.createTask { try await peer.receive(exactly: 3 * 1024 * 1024) }
            let sent = try await loop.sendfile(transport, file: file.fd, offset: 5)
            return (refused, sent, try await reader.value, file.position)
        }
        #expect(refused == "SendfileNotAvailableError: the transport is not a plain socket")
        #expect(sent == 3 * 1024 * 1024)
        #expect(position == file.bytes.count)
        #expect(received == Array(file.bytes.dropFirst(5)))
    }

    /// The peer reads a little, then resets: the transfer fails with the kernel's error and the
    /// transport is lost with it, not left half-used.
    @Test func aPeerThatGoesAwayMidTransferFailsTheSendfileAndTheTransport() async throws {
        let file = try TempFile(count: 16 * 1024 * 1024)
        let (failure, lost) = try await EventLoopThread.run { loop in
            let proto = RecordingProtocol(loop: loop)
            proto.recordData = false
            let (transport, peer) = try await Self.connect(loop, proto)
            let sending = loop.createTask { try await loop.sendfile(transport, file: file.fd) }
            _ = try await peer.receive(exactly: 1024 * 1024)
            try await peer.reset()
            var failure = ""
            do { _ = try await sending.value } catch let error as SystemError { failure = error.call }
            try await proto.waitLost(loop: loop)
            return (failure, proto.events.last ?? "")
        }
        #expect(failure == "sendfile")
        #expect(lost == "CL error")
    }

    /// `close()` during the transfer waits for it, then loses the connection normally.
    @Test func closeDuringTheTransferTakesEffectWhenItEnds() async throws {
        let file = try TempFile(count: 8 * 1024 * 1024)
        let (sent, received, events) = try await EventLoopThread.run { loop in
            let proto = RecordingProtocol(loop: loop)
            let (transport, peer) = try await Self.connect(loop, proto)
            async let received = peer.receiveToEOF()
            let sending = loop.createTask { try await loop.sendfile(transport, file: file.fd) }
            try await sleep(.milliseconds(1))
            transport.close()
            let sent = try await sending.value
            try await proto.waitLost(loop: loop)
            return (sent, try await received, proto.events)
        }
        #expect(sent == file.bytes.count)
        #expect(received == file.bytes)
        #expect(events == ["CM", "CL nil"])
    }

    @Test func sockSendfileSendsOverARawSocketAndRefusesADatagramSocket() async throws {
        let file = try TempFile(count: 5 * 1024 * 1024)
        let (sent, received, refused) = try await EventLoopThread.run { loop in
            let (socket, peer, _) = try await acceptBlockingPeer(on: loop)
            async let received = peer.receiveToEOF()
            let sent = try await loop.sockSendfile(socket, file: file.fd, offset: 100, count: 4 * 1024 * 1024)
            var refused = ""
            let datagram = try Socket(family: AF_INET, type: Int32(SOCK_DGRAM.rawValue))
            do { try await loop.sockSendfile(datagram, file: file.fd) } catch { refused = "\(error)" }
            socket.close()
            return (sent, try await received, refused)
        }
        #expect(sent == 4 * 1024 * 1024)
        #expect(received == Array(file.bytes[100..<(100 + 4 * 1024 * 1024)]))
        #expect(refused == "ValueError: only SOCK_STREAM type sockets are supported")
    }
}

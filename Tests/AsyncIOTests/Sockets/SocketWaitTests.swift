import AsyncIO
import AsyncIOTesting
import Glibc
import Testing

/// The socket coroutines keep a socket's selector interest armed between waits
/// (EventLoop+SocketWaits.swift): these stories check it never leaks to another descriptor, a
/// cancelled wait, or `addReader`. Real loopback TCP; the far end is written with plain `send`.
@Suite struct SocketWaitTests {
    /// A connected loopback pair: `ours` for the coroutines, `far` for the test to write to.
    struct Pair {
        let ours: Socket
        let far: Socket

        func sendFromFar(_ text: String) {
            let sent = Array(text.utf8).withUnsafeBytes { send(far.fileDescriptor, $0.baseAddress, $0.count, 0) }
            #expect(sent == text.utf8.count)
        }
    }

    /// Connects `ours` (a fresh socket) to a loopback listener; the accepted end is `far`.
    static func pair(_ loop: isolated EventLoop, ours: Socket? = nil) async throws -> Pair {
        let ours = try ours ?? Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
        let listening = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
        defer { listening.close() }
        try listening.bind(to: .ipv4(host: "127.0.0.1", port: 0))
        try listening.listen()
        try await loop.sockConnect(ours, to: try listening.localAddress())
        let (far, _) = try await loop.sockAccept(listening)
        return Pair(ours: ours, far: far)
    }

    /// A loopback pair whose `ours` has the descriptor number `fd` if it can get it within about
    /// two seconds, otherwise any number (the stories hold either way; they test reuse when run
    /// alone, and almost always in the full suite).
    ///
    /// The kernel hands out the lowest free number: numbers below `fd` freed meanwhile by tests
    /// running in parallel are held until `fd` comes; a number above it means another test holds
    /// `fd` for a moment, so it tries again.
    static func pair(reusing fd: Int32, _ loop: isolated EventLoop) async throws -> Pair {
        var held: [Socket] = []
        defer { for socket in held { socket.close() } }
        for _ in 0..<2000 {
            let candidate = try Socket(family: AF_INET, type: Int32(SOCK_STREAM.rawValue))
            if candidate.fileDescriptor == fd { return try await pair(loop, ours: candidate) }
            if candidate.fileDescriptor < fd {
                held.append(candidate)
            } else {
                candidate.close()
                try await sleep(.milliseconds(1))
            }
        }
        return try await pair(loop)
    }

    /// Receives on `socket`, failing after five seconds.
    static func receive(_ socket: Socket, _ loop: isolated EventLoop) async throws -> String {
        let receiving = loop.createTask { Self.text(try await loop.sockRecv(socket, maxBytes: 100)) }
        return try await waitFor(receiving, timeout: .seconds(5))
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func aSocketReusingTheNumberOfOneClosedAfterAWaitGetsItsOwnData() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let first = try await Self.pair(loop)
            // A wait that ends normally leaves the interest armed.
            let waiting = loop.createTask { Self.text(try await loop.sockRecv(first.ours, maxBytes: 100)) }
            try await settle()
            first.sendFromFar("one")
            events.append(try await waitFor(waiting, timeout: .seconds(5)))
            let number = first.ours.fileDescriptor
            first.ours.close()
            let second = try await Self.pair(reusing: number, loop)
            // The old connection's peer writes: nothing may reach the new socket.
            first.sendFromFar("stale")
            let next = loop.createTask { Self.text(try await loop.sockRecv(second.ours, maxBytes: 100)) }
            try await settle()
            events.append("pending \(!next.isDone)")
            second.sendFromFar("two")
            events.append(try await waitFor(next, timeout: .seconds(5)))
            first.far.close()
            second.ours.close()
            second.far.close()
            return events
        }
        #expect(events == ["one", "pending true", "two"])
    }

    @Test func closingASocketWithAPendingRecvFailsItAndFreesTheNumberCleanly() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let first = try await Self.pair(loop)
            let waiting = loop.createTask { try await loop.sockRecv(first.ours, maxBytes: 100) }
            try await settle()
            let number = first.ours.fileDescriptor
            first.ours.close()
            do {
                _ = try await waitFor(waiting, timeout: .seconds(5))
                events.append("received")
            } catch let error as SystemError {
                events.append("pending recv: errno \(error.errno == EBADF ? "EBADF" : "\(error.errno)")")
            }
            let second = try await Self.pair(reusing: number, loop)
            let next = loop.createTask { Self.text(try await loop.sockRecv(second.ours, maxBytes: 100)) }
            try await settle()
            second.sendFromFar("mine")
            events.append(try await waitFor(next, timeout: .seconds(5)))
            first.far.close()
            second.ours.close()
            second.far.close()
            return events
        }
        #expect(events == ["pending recv: errno EBADF", "mine"])
    }

    @Test func aDupOfAClosedSocketKeepsNoRegistrationThatCouldSpinTheLoop() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let first = try await Self.pair(loop)
            let waiting = loop.createTask { Self.text(try await loop.sockRecv(first.ours, maxBytes: 100)) }
            try await settle()
            first.sendFromFar("one")
            events.append(try await waitFor(waiting, timeout: .seconds(5)))
            // The open file description outlives the descriptor: epoll would keep it registered
            // under the old token unless the socket deregistered it before closing.
            let duplicate = dup(first.ours.fileDescriptor)
            first.ours.close()
            first.sendFromFar("unread")
            let before = loop.statistics.iterations
            try await sleep(.milliseconds(50))
            let iterations = loop.statistics.iterations - before
            events.append("idle iterations below 100: \(iterations < 100)")
            var buffer = [UInt8](repeating: 0, count: 16)
            events.append("still readable through the dup: \(recv(duplicate, &buffer, 16, 0) == 6)")
            close(duplicate)
            first.far.close()
            return events
        }
        #expect(events == ["one", "idle iterations below 100: true", "still readable through the dup: true"])
    }

    @Test func dataArrivingWithNobodyWaitingDoesNotSpinTheLoopAndIsReceivedLater() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let pair = try await Self.pair(loop)
            let waiting = loop.createTask { try await Self.receive(pair.ours, loop) }
            try await settle()
            pair.sendFromFar("one")
            events.append(try await waitFor(waiting, timeout: .seconds(5)))
            pair.sendFromFar("two")
            let before = loop.statistics.iterations
            try await sleep(.milliseconds(50))
            events.append("idle iterations below 100: \(loop.statistics.iterations - before < 100)")
            events.append(try await Self.receive(pair.ours, loop))
            let third = loop.createTask { try await Self.receive(pair.ours, loop) }
            try await settle()
            pair.sendFromFar("three")
            events.append(try await waitFor(third, timeout: .seconds(5)))
            pair.ours.close()
            pair.far.close()
            return events
        }
        #expect(events == ["one", "idle iterations below 100: true", "two", "three"])
    }

    @Test func dataThatArrivesAfterAShortReadAndBeforeTheNextPollIsReceived() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let pair = try await Self.pair(loop)
            let waiting = loop.createTask { Self.text(try await loop.sockRecv(pair.ours, maxBytes: 100)) }
            try await settle()
            pair.sendFromFar("one")
            // A short read: the buffer was empty then, and sockRecv will wait before reading again.
            events.append(try await waitFor(waiting, timeout: .seconds(5)))
            // No await between the send and the receive: the loop has not polled in between.
            pair.sendFromFar("two")
            events.append(try await Self.receive(pair.ours, loop))
            // A full read says nothing about what is left: the rest comes without a wait.
            pair.sendFromFar("abcdef")
            try await settle()
            var buffer = [UInt8](repeating: 0, count: 3)
            for _ in 0..<2 {
                let count = try await loop.sockRecvInto(pair.ours, &buffer)
                events.append(Self.text(Array(buffer[..<count])))
            }
            pair.ours.close()
            pair.far.close()
            return events
        }
        #expect(events == ["one", "two", "abc", "def"])
    }

    @Test func cancellingAPendingRecvRemovesItsReader() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let pair = try await Self.pair(loop)
            let waiting = loop.createTask { try await loop.sockRecv(pair.ours, maxBytes: 100) }
            try await settle()
            waiting.cancel()
            do {
                _ = try await waitFor(waiting, timeout: .seconds(5))
                events.append("received")
            } catch is CancelledError {
                events.append("cancelled")
            }
            events.append("reader left: \(loop.removeReader(pair.ours.fileDescriptor))")
            // The data goes to the next receive, not to the cancelled one.
            pair.sendFromFar("kept")
            try await settle()
            events.append(try await Self.receive(pair.ours, loop))
            pair.ours.close()
            pair.far.close()
            return events
        }
        #expect(events == ["cancelled", "reader left: false", "kept"])
    }

    @Test func cancellingASwiftTaskPendingInRecvRemovesItsReader() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let pair = try await Self.pair(loop)
            // A Swift task, not a LoopTask: only Swift's cancellation can reach it.
            let waiting = Task {
                _ = loop.isRunning
                return try await loop.sockRecv(pair.ours, maxBytes: 100)
            }
            try await settle()
            waiting.cancel()
            switch await waiting.result {
            case .success: events.append("received")
            case .failure(let error): events.append(error is CancelledError ? "cancelled" : "\(error)")
            }
            events.append("reader left: \(loop.removeReader(pair.ours.fileDescriptor))")
            pair.sendFromFar("kept")
            events.append(try await Self.receive(pair.ours, loop))
            pair.ours.close()
            pair.far.close()
            return events
        }
        #expect(events == ["cancelled", "reader left: false", "kept"])
    }

    @Test func aTaskCancelledAgainAfterCatchingWaitsAndIsCancelledAgain() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let pair = try await Self.pair(loop)
            let waiting = loop.createTask { () async throws -> [String] in
                var seen: [String] = []
                for _ in 0..<2 {
                    do {
                        _ = try await loop.sockRecv(pair.ours, maxBytes: 100)
                        seen.append("received")
                    } catch let error as CancelledError {
                        seen.append("cancelled \(error.message ?? "")")
                    }
                }
                seen.append(Self.text(try await loop.sockRecv(pair.ours, maxBytes: 100)))
                return seen
            }
            try await settle()
            waiting.cancel(message: "first")
            try await settle()
            waiting.cancel(message: "second")
            try await settle()
            pair.sendFromFar("after")
            events += try await waitFor(waiting, timeout: .seconds(5))
            pair.ours.close()
            pair.far.close()
            return events
        }
        #expect(events == ["cancelled first", "cancelled second", "after"])
    }

    @Test func addReaderAndRemoveReaderWorkOnASocketBetweenItsWaits() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let pair = try await Self.pair(loop)
            let fd = pair.ours.fileDescriptor
            let waiting = loop.createTask { try await Self.receive(pair.ours, loop) }
            try await settle()
            pair.sendFromFar("one")
            events.append(try await waitFor(waiting, timeout: .seconds(5)))
            // The interest the wait left armed must not stand in for the reader's own.
            var calls = 0
            try loop.addReader(fd) {
                calls += 1
                var buffer = [UInt8](repeating: 0, count: 16)
                _ = recv(fd, &buffer, 16, 0)
            }
            pair.sendFromFar("two")
            try await waitUntil { calls == 1 }
            events.append("reader called")
            events.append("removed \(loop.removeReader(fd))")
            try loop.addReader(fd) {
                calls += 1
                loop.removeReader(fd)
            }
            pair.sendFromFar("three")
            try await waitUntil { calls == 2 }
            events.append("reader added again called")
            events.append(try await Self.receive(pair.ours, loop))
            let last = loop.createTask { try await Self.receive(pair.ours, loop) }
            try await settle()
            pair.sendFromFar("four")
            events.append(try await waitFor(last, timeout: .seconds(5)))
            pair.ours.close()
            pair.far.close()
            return events
        }
        #expect(events == ["one", "reader called", "removed true", "reader added again called", "three", "four"])
    }

    /// A second task receiving on a socket while one waits gets a typed error at once (asyncio
    /// replaces the first one's reader and leaves it waiting forever); the first one still
    /// receives, and the socket serves the next waits.
    @Test func aSecondConcurrentRecvIsAnErrorAndTheFirstStillReceives() async throws {
        let events = try await EventLoopThread.run { loop in
            var events: [String] = []
            let pair = try await Self.pair(loop)
            let first = loop.createTask { Self.text(try await loop.sockRecv(pair.ours, maxBytes: 100)) }
            try await settle()
            do {
                _ = try await loop.sockRecv(pair.ours, maxBytes: 100)
                events.append("second received")
            } catch {
                events.append("second: \(error)")
            }
            pair.sendFromFar("one")
            events.append(try await waitFor(first, timeout: .seconds(5)))
            let next = loop.createTask { try await Self.receive(pair.ours, loop) }
            try await settle()
            pair.sendFromFar("two")
            events.append(try await waitFor(next, timeout: .seconds(5)))
            pair.ours.close()
            pair.far.close()
            return events
        }
        #expect(
            events == [
                "second: InvalidStateError: another task is already waiting for this socket to be readable", "one",
                "two",
            ]
        )
    }
}

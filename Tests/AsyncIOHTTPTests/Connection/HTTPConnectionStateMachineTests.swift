import AsyncIO
import HTTP1Codec
import Testing

@testable import AsyncIOHTTP

/// The connection state machine alone: stories of events, each action recorded and compared with a
/// literal list. No I/O, no clock but the instants in the stories.
@Suite struct HTTPConnectionStateMachineTests {
    /// One event of a story; times are seconds since the connection was made.
    enum Event: CustomStringConvertible, Sendable {
        case bytes(at: Int)
        case head(keepAlive: Bool = true, body: Bool = false, expect: Bool = false)
        case bodyEnd(at: Int)
        case bodyBytes(at: Int)
        case waitBody(at: Int)
        case waitBodyEnd
        case respond(close: Bool = false)
        case finish(at: Int, complete: Bool = true)
        case drained(Int, at: Int)
        case parseError(HTTPParseError)
        case eof
        case lost
        case timer(at: Int)
        case pauseWrites(at: Int)
        case resumeWrites
        case parked(Bool)
        case shutdown

        var description: String { "\(self)" }
    }

    static func instant(_ seconds: Int) -> LoopInstant { LoopInstant(nanoseconds: Int64(seconds) * 1_000_000_000) }

    static let configuration = HTTPServerConfiguration(
        headerTimeout: .seconds(10),
        idleTimeout: .seconds(75),
        bodyReadTimeout: .seconds(30),
        writeTimeout: .seconds(60),
        maxRequestsPerConnection: 0,
        bodyBufferSize: 1000,
        pipelineBufferLimit: 500,
        maxBodyDrain: 100,
        handlerLinger: .seconds(2)
    )

    /// Runs `events` on a fresh machine and returns what each returned, as text.
    static func story(
        _ events: [Event],
        configuration: HTTPServerConfiguration = configuration
    ) -> (actions: [String], machine: HTTPConnectionStateMachine) {
        var machine = HTTPConnectionStateMachine(configuration: configuration, now: instant(0))
        var actions: [String] = []
        for event in events {
            switch event {
            case .bytes(let at): machine.bytesArrived(now: instant(at))
            case .head(let keepAlive, let body, let expect):
                actions.append("\(machine.headReceived(keepAlive: keepAlive, hasBody: body, expectsContinue: expect))")
            case .bodyEnd(let at): machine.bodyFinished(now: instant(at))
            case .bodyBytes(let at): machine.bodyBytesArrived(now: instant(at))
            case .waitBody(let at): actions.append("\(machine.bodyWaitStarted(now: instant(at)))")
            case .waitBodyEnd: machine.bodyWaitEnded()
            case .respond(let close): actions.append("keepAlive=\(machine.responseStarted(close: close))")
            case .finish(let at, let complete):
                actions.append("\(machine.exchangeFinished(now: instant(at), complete: complete))")
            case .drained(let count, let at): actions.append("drain ok=\(machine.bodyDrained(count, now: instant(at)))")
            case .parseError(let error): actions.append("\(machine.parseFailed(error))")
            case .eof: actions.append("\(machine.peerClosed())")
            case .lost: actions.append("cancel=\(machine.connectionLost())")
            case .timer(let at): actions.append("\(machine.timerFired(now: instant(at)))")
            case .pauseWrites(let at): machine.writingPaused(now: instant(at))
            case .resumeWrites: machine.writingResumed()
            case .parked(let parked): machine.handlerTaskParked(parked)
            case .shutdown: actions.append("\(machine.shutdownRequested())")
            }
        }
        return (actions, machine)
    }

    /// A named story and the actions it must produce.
    struct Story: CustomTestStringConvertible, Sendable {
        var name: String
        var events: [Event]
        var expected: [String]
        var testDescription: String { name }
    }

    static let stories: [Story] = [
        Story(
            name: "a keep-alive request goes back to idle",
            events: [.bytes(at: 1), .head(), .respond(), .finish(at: 2), .bytes(at: 3), .head(), .respond()],
            expected: [
                "dispatch(keepAlive: true)", "keepAlive=true", "readNext", "dispatch(keepAlive: true)",
                "keepAlive=true",
            ]
        ),
        Story(
            name: "Connection: close (or HTTP/1.0) closes after the response",
            events: [.head(keepAlive: false), .respond(), .finish(at: 1)],
            expected: ["dispatch(keepAlive: false)", "keepAlive=false", "close"]
        ),
        Story(
            name: "a response that asks to close closes",
            events: [.head(), .respond(close: true), .finish(at: 1)],
            expected: ["dispatch(keepAlive: true)", "keepAlive=false", "close"]
        ),
        Story(
            name: "a response cut short closes",
            events: [.head(), .respond(), .finish(at: 1, complete: false)],
            expected: ["dispatch(keepAlive: true)", "keepAlive=true", "close"]
        ),
        Story(
            name: "an unread body is drained, then the next request is read",
            events: [.head(body: true), .respond(), .finish(at: 1), .drained(60, at: 2), .bodyEnd(at: 2), .head()],
            expected: [
                "dispatch(keepAlive: true)", "keepAlive=true", "drainBody", "drain ok=true",
                "dispatch(keepAlive: true)",
            ]
        ),
        Story(
            name: "an unread body over the drain limit closes",
            events: [.head(body: true), .respond(), .finish(at: 1), .drained(60, at: 2), .drained(60, at: 2)],
            expected: ["dispatch(keepAlive: true)", "keepAlive=true", "drainBody", "drain ok=true", "drain ok=false"]
        ),
        Story(
            name: "100-continue goes out when the handler first waits for the body",
            events: [
                .head(body: true, expect: true), .waitBody(at: 1), .waitBodyEnd, .waitBody(at: 2), .bodyEnd(at: 3),
                .respond(), .finish(at: 3),
            ],
            expected: ["dispatch(keepAlive: true)", "sendContinue", "none", "keepAlive=true", "readNext"]
        ),
        Story(
            name: "a final answer before the body of an Expect request closes the connection",
            events: [.head(body: true, expect: true), .respond(), .waitBody(at: 1), .finish(at: 1)],
            expected: ["dispatch(keepAlive: true)", "keepAlive=false", "none", "close"]
        ),
        Story(
            name: "a broken head is answered with its status, then the connection closes",
            events: [.bytes(at: 1), .parseError(.requestLineTooLong), .timer(at: 100)],
            expected: ["respondAndClose(status: 414)", "none"]
        ),
        Story(
            name: "a broken body fails the body stream and the response closes",
            events: [.head(body: true), .parseError(.invalidChunkSize), .respond(), .finish(at: 1)],
            expected: ["dispatch(keepAlive: true)", "failBody", "keepAlive=false", "close"]
        ),
        Story(
            name: "garbage pipelined after a whole request: that request is answered, then close",
            events: [.head(), .parseError(.invalidMethod), .respond(), .finish(at: 1)],
            expected: ["dispatch(keepAlive: true)", "failBody", "keepAlive=false", "close"]
        ),
        Story(
            name: "EOF while idle closes",
            events: [.head(), .respond(), .finish(at: 1), .eof],
            expected: ["dispatch(keepAlive: true)", "keepAlive=true", "readNext", "close"]
        ),
        Story(
            name: "EOF in the middle of a body fails it",
            events: [.head(body: true), .eof, .respond(), .finish(at: 1)],
            expected: ["dispatch(keepAlive: true)", "failBody", "keepAlive=false", "close"]
        ),
        Story(
            name: "EOF after a whole request: answer it, then close (a half-closed client reads)",
            events: [.head(), .eof, .respond(), .finish(at: 1)],
            expected: ["dispatch(keepAlive: true)", "finishThenClose", "keepAlive=false", "close"]
        ),
        Story(
            name: "the first request's head is timed from the connection",
            events: [.timer(at: 9), .timer(at: 10)],
            expected: ["none", "close"]
        ),
        Story(
            name: "a head that trickles in is cut off with 408",
            events: [.head(), .respond(), .finish(at: 5), .bytes(at: 50), .timer(at: 59), .timer(at: 60)],
            expected: [
                "dispatch(keepAlive: true)", "keepAlive=true", "readNext", "none", "respondAndClose(status: 408)",
            ]
        ),
        Story(
            name: "an idle keep-alive connection closes after idleTimeout; its task goes after the linger",
            events: [
                .head(), .respond(), .finish(at: 5), .parked(true), .timer(at: 6), .timer(at: 7), .timer(at: 79),
                .timer(at: 80),
            ],
            expected: [
                "dispatch(keepAlive: true)", "keepAlive=true", "readNext", "none", "releaseHandlerTask", "none",
                "close",
            ]
        ),
        Story(
            name: "a handler waiting for body bytes times out; arriving bytes reset the clock",
            events: [.head(body: true), .waitBody(at: 1), .bodyBytes(at: 20), .timer(at: 31), .timer(at: 50)],
            expected: ["dispatch(keepAlive: true)", "none", "none", "failBody"]
        ),
        Story(
            name: "a peer that reads nothing is dropped after writeTimeout",
            events: [.head(), .respond(), .pauseWrites(at: 1), .timer(at: 60), .timer(at: 61)],
            expected: ["dispatch(keepAlive: true)", "keepAlive=true", "none", "abort"]
        ),
        Story(
            name: "writes that resume stop the write deadline",
            events: [.head(), .respond(), .pauseWrites(at: 1), .resumeWrites, .timer(at: 100)],
            expected: ["dispatch(keepAlive: true)", "keepAlive=true", "none"]
        ),
        Story(
            name: "shutdown closes an idle connection at once",
            events: [.head(), .respond(), .finish(at: 1), .shutdown],
            expected: ["dispatch(keepAlive: true)", "keepAlive=true", "readNext", "close"]
        ),
        Story(
            name: "shutdown lets a request in progress finish with Connection: close",
            events: [.head(), .shutdown, .respond(), .finish(at: 1)],
            expected: ["dispatch(keepAlive: true)", "finishThenClose", "keepAlive=false", "close"]
        ),
        Story(
            name: "shutdown after the head announced keep-alive still closes after the response",
            events: [.head(), .respond(), .shutdown, .finish(at: 1)],
            expected: ["dispatch(keepAlive: true)", "keepAlive=true", "finishThenClose", "close"]
        ),
        Story(
            name: "a client gone during a request cancels its handler",
            events: [.head(), .lost],
            expected: ["dispatch(keepAlive: true)", "cancel=true"]
        ),
        Story(
            name: "a client gone while idle cancels nothing",
            events: [.head(), .respond(), .finish(at: 1), .lost],
            expected: ["dispatch(keepAlive: true)", "keepAlive=true", "readNext", "cancel=false"]
        ),
    ]

    @Test(arguments: stories)
    func story(_ story: Story) {
        #expect(Self.story(story.events).actions == story.expected)
    }

    @Test func maxRequestsPerConnectionClosesAfterTheLast() {
        var configuration = Self.configuration
        configuration.maxRequestsPerConnection = 2
        let (actions, _) = Self.story(
            [.head(), .respond(), .finish(at: 1), .head(), .respond(), .finish(at: 2)],
            configuration: configuration
        )
        #expect(
            actions == [
                "dispatch(keepAlive: true)", "keepAlive=true", "readNext", "dispatch(keepAlive: false)",
                "keepAlive=false", "close",
            ]
        )
    }

    @Test(arguments: [
        (HTTPParseError.requestLineTooLong, 414), (.headTooLarge, 431), (.tooManyFields, 431),
        (.fieldLineTooLong, 431), (.bodyTooLarge, 413), (.unsupportedTransferCoding, 501),
        (.unsupportedVersion, 505), (.bareLF, 400), (.contentLengthWithTransferEncoding, 400),
        (.duplicateContentLength, 400), (.missingHost, 400),
    ])
    func aBrokenHeadIsAnsweredWithItsStatus(error: HTTPParseError, status: Int) {
        let (actions, machine) = Self.story([.bytes(at: 0), .parseError(error)])
        #expect(actions == ["respondAndClose(status: \(status))"])
        #expect(machine.phase == .closed)
        #expect(machine.deadline == nil)
    }

    @Test func deadlinesFollowThePhase() {
        var machine = HTTPConnectionStateMachine(configuration: Self.configuration, now: Self.instant(0))
        #expect(machine.deadline == Self.instant(10))  // the first head, from the connection
        machine.bytesArrived(now: Self.instant(3))
        #expect(machine.deadline == Self.instant(13))
        _ = machine.headReceived(keepAlive: true, hasBody: true, expectsContinue: false)
        #expect(machine.deadline == nil)  // the handler runs: no deadline of ours
        _ = machine.bodyWaitStarted(now: Self.instant(4))
        #expect(machine.deadline == Self.instant(34))
        machine.writingPaused(now: Self.instant(5))
        #expect(machine.deadline == Self.instant(34))
        machine.bodyFinished(now: Self.instant(6))
        #expect(machine.deadline == Self.instant(65))
        machine.writingResumed()
        _ = machine.responseStarted(close: false)
        _ = machine.exchangeFinished(now: Self.instant(7), complete: true)
        #expect(machine.deadline == Self.instant(82))  // keep-alive idle
        machine.handlerTaskParked(true)
        #expect(machine.deadline == Self.instant(9))  // the linger comes first
    }

    @Test func readingPausesWhileTheBodyBufferIsFullOrPipelinedBytesPileUp() {
        var machine = HTTPConnectionStateMachine(configuration: Self.configuration, now: Self.instant(0))
        #expect(machine.shouldRead(bodyBuffered: 0, pendingInput: 0))
        _ = machine.headReceived(keepAlive: true, hasBody: true, expectsContinue: false)
        #expect(machine.shouldRead(bodyBuffered: 999, pendingInput: 0))
        #expect(!machine.shouldRead(bodyBuffered: 1000, pendingInput: 0))
        machine.bodyFinished(now: Self.instant(1))
        #expect(machine.shouldRead(bodyBuffered: 0, pendingInput: 499))
        #expect(!machine.shouldRead(bodyBuffered: 0, pendingInput: 500))
        machine.switchedProtocols()
        #expect(!machine.shouldRead(bodyBuffered: 0, pendingInput: 0))
        #expect(machine.deadline == nil)
        #expect(machine.peerClosed() == .finishThenClose)
    }
}

import Testing

@testable import ChatCore

@Suite struct ClientCommandTests {
    @Test(arguments: [
        ("/nick ann", ClientCommand.nick("ann")),
        ("/NICK  ann ", .nick("ann")),
        ("/join #Lobby", .join("#Lobby")),
        ("/join", .join("")),
        ("/leave", .leave(nil)),
        ("/part red", .leave("red")),
        ("/who", .who(nil)),
        ("/who red", .who("red")),
        ("/rooms", .rooms),
        ("/quit", .quit),
        ("/help", .help),
        ("hello world", .say(room: nil, text: "hello world")),
        ("//slash", .say(room: nil, text: "/slash")),
        ("/x y", .unknown("/x")),
    ])
    func lines(line: String, command: ClientCommand) {
        #expect(ClientCommand(line: line) == command)
    }

    @Test func json() {
        #expect(ClientCommand(json: Array(#"{"type":"join","room":"lobby"}"#.utf8)) == .join("lobby"))
        #expect(
            ClientCommand(json: Array(#"{"type":"message","room":"a","text":"<b>"}"#.utf8))
                == .say(room: "a", text: "<b>")
        )
        #expect(ClientCommand(json: Array(#"{"type":"nick","nick":"ann"}"#.utf8)) == .nick("ann"))
        #expect(ClientCommand(json: Array(#"{"type":"dance"}"#.utf8)) == .unknown("dance"))
        #expect(ClientCommand(json: Array("not json".utf8)) == nil)
        #expect(ClientCommand(json: Array(#"{"room":"x"}"#.utf8)) == nil)
    }
}

@Suite struct ValidationTests {
    @Test func nicknames() throws {
        #expect(try Validation.nick("ann") == "ann")
        #expect(try Validation.nick("A.n-n_1") == "A.n-n_1")
        for bad in ["", "-ann", "a b", "<b>", String(repeating: "a", count: 25), "anné"] {
            #expect(throws: ValidationError.badNick(bad)) { try Validation.nick(bad) }
        }
    }

    @Test func rooms() throws {
        #expect(try Validation.room("#Lobby") == "lobby")
        #expect(try Validation.room("dev-ops_2") == "dev-ops_2")
        for bad in ["", "#", "a b", "a.b", String(repeating: "r", count: 33)] {
            #expect(throws: ValidationError.badRoom(bad)) { try Validation.room(bad) }
        }
    }

    @Test func messages() throws {
        #expect(try Validation.message("  hi <script>  ", limit: 20) == "hi <script>")
        #expect(try Validation.message("a\u{1B}[2Jb\u{7}", limit: 100) == "a [2Jb")
        #expect(throws: ValidationError.emptyMessage) { try Validation.message(" \t ", limit: 10) }
        #expect(throws: ValidationError.messageTooLong(bytes: 6, limit: 5)) { try Validation.message("ééé", limit: 5) }
    }
}

@Suite struct RateLimiterTests {
    @Test func burstThenRate() {
        var limiter = RateLimiter(burst: 3, perSecond: 2)
        var answers: [Bool] = []
        for _ in 0..<5 { answers.append(limiter.allow("a", now: 0)) }
        answers.append(limiter.allow("b", now: 0))
        answers.append(limiter.allow("a", now: 0.25))
        answers.append(limiter.allow("a", now: 0.5))
        answers.append(limiter.allow("a", now: 0.5))
        #expect(answers == [true, true, true, false, false, true, false, true, false])
    }

    @Test func memoryIsBounded() {
        var limiter = RateLimiter(burst: 2, perSecond: 1, maxAddresses: 100)
        for n in 0..<1_000 { _ = limiter.allow("10.0.0.\(n)", now: Double(n) / 1000) }
        #expect(limiter.count <= 100)
    }
}

@Suite struct EventTests {
    @Test func roundTripAndLines() {
        let event = ChatEvent(type: .message, room: "lobby", nick: "ann", text: "<i>hi</i>", ts: 42, origin: "a")
        #expect(ChatEvent.parse(event.json()) == event)
        #expect(event.line == "[lobby] ann: <i>hi</i>")
        #expect(ChatEvent(type: .leave, room: "r", nick: "bob", text: "too slow").line == "* bob left r (too slow)")
        #expect(ChatEvent.parse(Array("garbage".utf8)) == nil)
    }
}

// The talk's "asyncio 101": a coroutine that prints "hello!" every second, forever, until Ctrl-C.
//
//     loop = asyncio.get_event_loop()
//     @asyncio.coroutine
//     def infinity():
//         while True:
//             print("hello!")
//             yield from asyncio.sleep(1)
//     loop.run_until_complete(infinity())
//
// Today's asyncio writes `asyncio.run(infinity())`, and so do we: `run` is what ends the program
// cleanly on Ctrl-C (one line, "KeyboardInterrupt", on stderr; exit status 130) and here on SIGTERM
// too ("Terminated"; 143), with everything printed before flushed, even to a pipe
// (`swift run Hello | cat`), where stdout is block-buffered.
//
// Usage: swift run Hello [COUNT]   (COUNT: stop after that many lines; default: forever)
import AsyncIO
import Glibc  // SIGINT, SIGTERM

let count = CommandLine.arguments.dropFirst().first.flatMap { Int($0) }

do {
    try run(interruptSignals: [SIGINT, SIGTERM]) { _ in
        var printed = 0
        while count.map({ printed < $0 }) ?? true {
            print("hello!")
            printed += 1
            if count.map({ printed < $0 }) ?? true {
                try await sleep(seconds: 1)
            }
        }
    }
} catch {
    // An error escaping `run` ends the program with its message on stderr and status 1, as an
    // uncaught Python exception does; a top-level `try` would crash instead.
    exitProgram(reporting: error)
}

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
// Usage: swift run Hello [COUNT]   (COUNT: stop after that many lines; default: forever)
import AsyncIO

let count = CommandLine.arguments.dropFirst().first.flatMap { Int($0) }

let loop = try getEventLoop()
try loop.runUntilComplete { _ in
    var printed = 0
    while count.map({ printed < $0 }) ?? true {
        print("hello!")
        printed += 1
        if count.map({ printed < $0 }) ?? true {
            try await sleep(seconds: 1)
        }
    }
}

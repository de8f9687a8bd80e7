// A program that hangs on purpose, to show how to find out what it waits for: run it, then send
// it SIGUSR1 from another terminal, and it prints its task tree to stderr (each task's name and
// state, the frame it is suspended in, the tasks and Futures it awaits below it), as
// `python -m asyncio pstree PID` does for a Python program. See README.md.
//
// Ctrl-C (or SIGTERM) ends it. `printTaskTreeOnSignal` is opt-in; a program that does not call it
// keeps SIGUSR1's default action.
import AsyncIO
import Glibc  // SIGINT, SIGTERM, SIGUSR1, getpid, fflush

try run(interruptSignals: [SIGINT, SIGTERM]) { loop in
    try loop.printTaskTreeOnSignal(SIGUSR1)
    currentTask()?.setName("main")
    let reply = loop.createFuture(of: Int.self)  // nobody ever sets it: the bug to find
    let started = Event()
    let fetch = loop.createTask(name: "fetch") { try await shield(reply).value }
    let workers = loop.createTask(name: "workers") {
        try await withLoopTaskGroup { group in
            for number in 1...2 {
                try group.createTask(name: "worker-\(number)") {
                    started.set()
                    try await loop.createFuture(of: Void.self).value
                }
            }
        }
    }
    try await started.wait()
    print("ready: send SIGUSR1 to pid \(getpid()) for the task tree")
    fflush(nil)  // every output stream (stdout is a shared mutable global under Swift 6): a pipe reads it
    _ = try await gather(fetch, workers)
}

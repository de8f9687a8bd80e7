// The talk's "Undoing callbacks" slide, done right: wrap a callback API into an awaitable Future.
//
//     @asyncio.coroutine
//     def sync_looking_function(*args):
//         fut = asyncio.Future()
//         def cb(result, error):
//             if error is not None:          # the slide has these two branches swapped:
//                 fut.set_result(result)     # it sets the result when there IS an error
//             else:
//                 fut.set_exception(Exception(error))
//         async_function(cb, *args)
//         return (yield from fut)
//
// Two cases, because a callback can arrive on two kinds of thread:
// 1. on the loop thread (an API built on the loop's own callbacks): complete the Future directly
//    with setResult/setException;
// 2. on a thread of its own (a DispatchQueue, a C library's worker thread): a Future belongs to its
//    loop and is not Sendable, so hand the callback the Future's `resolver`, which hops to the loop.
//
// Ctrl-C or SIGTERM ends it cleanly (output flushed, one line on stderr, status 130 or 143).
//
// Usage: swift run UndoingCallbacks
import AsyncIO
import Dispatch
import Glibc  // SIGINT, SIGTERM

struct LookupError: Error, CustomStringConvertible {
    var name: String
    var description: String { "no such user: \(name)" }
}

let users = ["ada": 1815, "grace": 1906]

// MARK: - Callback APIs, as a legacy library would offer them

/// Calls back on the loop thread, a moment later (built on `callLater`).
func lookupOnLoop(
    _ name: String,
    loop: isolated EventLoop,
    completion: @escaping (Int?, (any Error)?) -> Void
) {
    loop.callLater(.milliseconds(100)) {
        if let year = users[name] { completion(year, nil) } else { completion(nil, LookupError(name: name)) }
    }
}

/// Calls back on a DispatchQueue thread, never on the loop.
func lookupOnItsOwnThread(_ name: String, completion: @escaping @Sendable (Int?, (any Error)?) -> Void) {
    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) {
        if let year = users[name] { completion(year, nil) } else { completion(nil, LookupError(name: name)) }
    }
}

// MARK: - The same APIs, undone: each returns an awaitable value

/// Case 1: the callback runs on the loop, so it may touch the Future itself.
func birthYear(of name: String, loop: isolated EventLoop) async throws -> Int {
    let future = loop.createFuture(of: Int.self)
    lookupOnLoop(name, loop: loop) { year, error in
        // Success when there is NO error (the slide's branches, put right). A Future that was
        // cancelled meanwhile (its awaiting task was) refuses both calls, so ignore that.
        if let error {
            try? future.setException(error)
        } else {
            try? future.setResult(year!)
        }
    }
    return try await future.value
}

/// Case 2: the callback runs on another thread, so it only gets the Sendable resolver.
func birthYearFromAnotherThread(of name: String, loop: isolated EventLoop) async throws -> Int {
    let future = loop.createFuture(of: Int.self)
    let resolver = future.resolver
    lookupOnItsOwnThread(name) { year, error in
        if let error {
            resolver.resolve(.failure(error))
        } else {
            resolver.resolve(.success(year!))
        }
    }
    return try await future.value
}

// MARK: - Main

do {
    try run(interruptSignals: [SIGINT, SIGTERM]) { loop in
        for name in ["ada", "bob"] {
            do {
                print("on the loop:        \(name) was born in \(try await birthYear(of: name, loop: loop))")
            } catch {
                print("on the loop:        \(name): \(error)")
            }
            do {
                print(
                    "from a thread:      \(name) was born in \(try await birthYearFromAnotherThread(of: name, loop: loop))"
                )
            } catch {
                print("from a thread:      \(name): \(error)")
            }
        }
        // Wrapped, they compose like any coroutine: both lookups run at once.
        let ada = loop.createTask { try await birthYear(of: "ada", loop: loop) }
        let grace = loop.createTask { try await birthYearFromAnotherThread(of: "grace", loop: loop) }
        print("concurrently:       ada \(try await ada.value), grace \(try await grace.value)")
    }
} catch {
    // An error escaping `run` (a port in use, say) ends the program with its message on stderr
    // and status 1, as an uncaught Python exception does; a top-level `try` would crash.
    exitProgram(reporting: error)
}

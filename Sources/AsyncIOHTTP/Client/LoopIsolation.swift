@_spi(Transports) import AsyncIO

/// A holder for what a loop-isolated body hands back to its nonisolated caller.
final class IsolatedResult<Object: AnyObject, Value> {
    let object: Object
    var value: Value?

    init(_ object: Object) {
        self.object = object
    }
}

extension EventLoop {
    /// Runs `body` isolated to this loop and returns what it returns; the caller runs on the
    /// loop's thread (the session's methods do: they are awaited from code on the loop).
    nonisolated func withIsolation<Object: AnyObject, Value>(
        _ object: Object,
        _ body: (Object, isolated EventLoop) -> Value
    ) -> Value {
        let result = IsolatedResult<Object, Value>(object)
        // The body is handed over as the argument, not captured, so that it lands in the loop's region.
        withoutActuallyEscaping(body) { body in
            runIsolated(result, body) { result, body, loop in
                result.value = body(result.object, loop)
            }
        }
        return result.value!
    }
}

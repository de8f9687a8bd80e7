/// The loop a synchronization primitive or queue belongs to, fixed the first time it must wait.
///
/// Primitives are created without a loop (as in asyncio 3.10+) and bind to the running loop the
/// first time a caller has to suspend on them; the fast paths (an uncontended `acquire`, `set`,
/// `putNowait`) need no loop and do not bind. Using a bound primitive from another loop is an error,
/// because its waiters are Futures of the first loop.
///
/// Mirrors asyncio's `mixins._LoopBoundMixin` (`_get_loop()`).
struct LoopBinding {
    private var core: LoopCore?

    /// The running loop's core, binding to it on the first call.
    ///
    /// - Parameter owner: what to call the primitive in the error message.
    /// - Throws: `AsyncIOError.loopState` if no loop runs on this thread, or if the primitive is
    ///   already bound to another loop.
    mutating func core(for owner: @autoclosure () -> String) throws(AsyncIOError) -> LoopCore {
        let running = try loopForAwait().core
        guard let core else {
            core = running
            return running
        }
        guard core === running else {
            throw AsyncIOError.loopState("\(owner()) is bound to a different event loop")
        }
        return core
    }
}

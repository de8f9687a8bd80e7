/// The loop of the calling code, which must run on a loop thread.
func loopForAwait() throws(AsyncIOError) -> EventLoop {
    guard let loop = runningLoopIfAny() else {
        throw AsyncIOError.loopState("no running event loop: await this from code running on an EventLoop")
    }
    return loop
}

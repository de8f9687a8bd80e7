import CAsyncIOShims
import Glibc

/// How another thread wakes a loop that may be blocked in its selector: an eventfd the selector
/// watches under a token of its own and drains when it is reported.
///
/// The loop writes it only when its inbox goes from empty to non-empty (`LoopCore.pushThreadSafe`),
/// so a burst of cross-thread work costs one write and one read.
struct Wakeup {
    let fd: Int32

    init() throws(SystemError) {
        fd = casyncio_eventfd()
        guard fd >= 0 else { throw SystemError(call: "eventfd") }
    }

    /// Makes the selector report the wake-up. Any thread.
    @inline(__always)
    func wake() {
        _ = casyncio_eventfd_write(fd)
    }

    /// Resets the counter, so level-triggered epoll stops reporting it. Loop thread.
    @inline(__always)
    func drain() {
        _ = casyncio_eventfd_drain(fd)
    }

    func close() {
        _ = Glibc.close(fd)
    }
}

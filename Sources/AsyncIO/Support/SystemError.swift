import Glibc

/// A failed system call, carrying errno: asyncio's `OSError`.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call that failed, e.g. `"connect"`.
    public var call: String
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// Captures the calling thread's current errno.
    init(call: String) { self.init(call: call, errno: Glibc.errno) }

    public var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Readiness a selector reports or is asked to watch for.
public struct SelectorEvents: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let readable = SelectorEvents(rawValue: 1 << 0)
    public static let writable = SelectorEvents(rawValue: 1 << 1)
    /// The peer closed its write side (EPOLLRDHUP); reported alongside `.readable`.
    public static let readHangup = SelectorEvents(rawValue: 1 << 2)
    /// An error or full hang-up is pending on the descriptor (EPOLLERR / EPOLLHUP).
    public static let error = SelectorEvents(rawValue: 1 << 3)
}

/// An object the loop calls when a registered descriptor is ready.
///
/// Transports conform; the loop dispatches to them inline while it walks the readiness list,
/// as libuv and SwiftNIO do, so a transport reads and calls its protocol with no queueing.
/// `ioReady` runs on the loop thread.
protocol IOHandler: AnyObject {
    func ioReady(_ events: SelectorEvents)
}

/// The operating system's readiness notification, as the loop uses it.
///
/// One backend per OS, added by conformance (epoll now; io_uring later as another one).
protocol Selector: AnyObject {
    /// Starts watching `fd`; `token` comes back with each of its events.
    func register(fd: Int32, interest: SelectorEvents, token: UInt64) throws(SystemError)
    func modify(fd: Int32, interest: SelectorEvents, token: UInt64) throws(SystemError)
    func deregister(fd: Int32) throws(SystemError)
    /// Waits until a descriptor is ready or `timeoutNanoseconds` pass (negative: forever, 0: poll),
    /// then calls `body` with each (token, events) pair.
    func wait(timeoutNanoseconds: Int64, _ body: (UInt64, SelectorEvents) -> Void) throws(SystemError)
    func close()
}

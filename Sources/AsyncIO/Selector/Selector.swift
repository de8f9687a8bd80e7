// Theory of operation
//
// The selector is two parts, as SwiftNIO's `SelectorGeneric.swift` is:
// - `Selector` (this file) owns the registration table: one `IORegistration` per watched
//   descriptor, indexed by the descriptor's number, each with a generation. What it hands the
//   backend is a token, the number plus the generation, and what comes back with an event is that
//   token: an event for a descriptor closed and reused within one batch of events carries the old
//   generation, finds a newer registration (or none) at that number, and is dropped.
// - A `SelectorBackend` (one per OS facility, one file each: `Selector+Epoll.swift` now, io_uring
//   later) only talks to the kernel: add, change and remove a descriptor's interest under a token,
//   wait and report (token, events) pairs. The backend file names the one this platform uses (`PlatformSelectorBackend`), and the selector
//   holds it by that concrete type, not as a generic parameter or an existential: every call to it,
//   `wait` with its per-event closure above all, is then a direct call the optimizer inlines (as a
//   generic parameter, `wait` went through the witness table, and each event through two closures).
//
// The loop asks the selector, never the backend, for a descriptor's registration, and gets back
// from `wait` the live registration each event is for. The loop's `Wakeup` (an eventfd other
// threads write) is watched under a token of its own, `UInt64.max`, which no registration's token
// equals (a descriptor number fills only the low 31 bits); the selector drains it and reports
// nothing. Everything here runs on the loop thread.

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

/// The operating system's readiness notification, as the selector uses it: one conformance per
/// facility (epoll now; io_uring later as another one), which knows nothing of registrations.
///
/// Tokens are opaque to the backend: it stores the one it is given with the descriptor and reports
/// it back with each event.
protocol SelectorBackend: AnyObject {
    init() throws(SystemError)
    /// Starts watching `fd`; `token` comes back with each of its events.
    func register(fd: Int32, interest: SelectorEvents, token: UInt64) throws(SystemError)
    func modify(fd: Int32, interest: SelectorEvents, token: UInt64) throws(SystemError)
    func deregister(fd: Int32) throws(SystemError)
    /// Waits until a descriptor is ready or `timeoutNanoseconds` pass (negative: forever, 0: poll),
    /// then calls `body` with each (token, events) pair.
    func wait(timeoutNanoseconds: Int64, _ body: (UInt64, SelectorEvents) -> Void) throws(SystemError)
    /// Releases the kernel object that watches descriptors.
    func close()
}

/// One registered file descriptor: either a handler object (a transport) or reader/writer callbacks.
final class IORegistration {
    let fd: Int32
    let generation: UInt32
    var interest: SelectorEvents = []
    var handler: (any IOHandler)?
    var reader: Handle?
    var writer: Handle?

    init(fd: Int32, generation: UInt32) {
        self.fd = fd
        self.generation = generation
    }

    /// What the backend stores with the descriptor: its number in the low half, the generation in
    /// the high half.
    var token: UInt64 { UInt64(UInt32(bitPattern: fd)) | UInt64(generation) << 32 }

    /// Watched, with nothing to call: the interest a socket's finished wait leaves armed.
    var isLeftOver: Bool { handler == nil && reader == nil && writer == nil && !interest.isEmpty }
}

/// The loop's selector: the registration table, over this platform's backend. Loop thread only.
final class Selector {
    let backend: PlatformSelectorBackend
    /// Watched under `wakeToken`; drained when reported.
    private let wakeup: Wakeup
    private static let wakeToken = UInt64.max
    /// Indexed by descriptor number.
    /// SAFETY (for `@exclusivity(unchecked)`): loop thread only, and every access is a plain load or
    /// store that calls nothing back (what `close` drops, it drops after the access ended). A
    /// checked access costs a thread-local lookup each time, on every event.
    @exclusivity(unchecked) private var registrations: [IORegistration?] = []
    private var nextGeneration: UInt32 = 1

    /// Makes the backend and watches `wakeup` with it.
    init(wakeup: Wakeup) throws(SystemError) {
        backend = try PlatformSelectorBackend()
        self.wakeup = wakeup
        do {
            try backend.register(fd: wakeup.fd, interest: .readable, token: Self.wakeToken)
        } catch {
            backend.close()
            throw error
        }
    }

    // MARK: - Waiting

    /// Waits as `SelectorBackend.wait` does, then calls `body` with each event's registration, if it
    /// is still the one the event was for. A wake-up is drained, not reported.
    @inline(__always)
    func wait(timeoutNanoseconds: Int64, _ body: (IORegistration, SelectorEvents) -> Void) throws(SystemError) {
        try backend.wait(timeoutNanoseconds: timeoutNanoseconds) { token, events in
            if token == Self.wakeToken {
                wakeup.drain()
                return
            }
            let fd = Int(UInt32(truncatingIfNeeded: token))
            guard fd < registrations.count, let registration = registrations[fd],
                registration.generation == UInt32(truncatingIfNeeded: token >> 32)
            else { return }
            body(registration, events)
        }
    }

    // MARK: - Registrations

    /// The registration for `fd`, made if absent.
    func registration(for fd: Int32) -> IORegistration {
        let index = Int(fd)
        if index >= registrations.count {
            registrations.append(
                contentsOf: repeatElement(nil, count: max(index + 1, registrations.count * 2) - registrations.count)
            )
        }
        if let existing = registrations[index] {
            // Armed with nothing attached: what a socket's finished wait left (EventLoop+SocketWaits.swift).
            // Whoever asks is not that socket, and the number may have been reused: start afresh.
            guard existing.isLeftOver else { return existing }
            try? backend.deregister(fd: fd)
        }
        let registration = IORegistration(fd: fd, generation: nextGeneration)
        nextGeneration &+= 1
        registrations[index] = registration
        return registration
    }

    /// The registration for `fd`, if there is one.
    @inline(__always)
    func existingRegistration(for fd: Int32) -> IORegistration? {
        let index = Int(fd)
        return index < registrations.count ? registrations[index] : nil
    }

    /// Makes the backend watch `interest` for the registration, adding or removing it as needed.
    /// The empty interest removes the registration from the table.
    func updateInterest(_ registration: IORegistration, to interest: SelectorEvents) throws(SystemError) {
        let old = registration.interest
        guard old != interest else { return }
        if interest.isEmpty {
            registration.interest = []
            try? backend.deregister(fd: registration.fd)
            registrations[Int(registration.fd)] = nil
            return
        }
        if old.isEmpty {
            try backend.register(fd: registration.fd, interest: interest, token: registration.token)
        } else {
            try backend.modify(fd: registration.fd, interest: interest, token: registration.token)
        }
        registration.interest = interest
    }

    /// Forgets what the table remembers about `fd` from a previous owner of the number.
    ///
    /// A descriptor closed while a reader or writer was registered for it (a `Socket` closed
    /// during `sockRecv`, say) leaves its registration behind; epoll dropped the descriptor when it
    /// was closed, but the table still claims the old interest, so a new descriptor with the same
    /// number would never be added to epoll. A transport adopting a fresh descriptor calls this
    /// first.
    func dropStaleRegistration(for fd: Int32) {
        guard let stale = existingRegistration(for: fd) else { return }
        stale.reader?.cancel()
        stale.writer?.cancel()
        stale.reader = nil
        stale.writer = nil
        stale.handler = nil
        try? updateInterest(stale, to: [])
    }

    /// Stops watching `fd` for `handler`, if it is still the descriptor's handler.
    func deregister(_ fd: Int32, ownedBy handler: any IOHandler) {
        guard let registration = existingRegistration(for: fd), registration.handler === handler else { return }
        registration.handler = nil
        try? updateInterest(registration, to: [])
    }

    // MARK: - Closing

    /// Detaches every registration from what it would call and releases the backend's watcher.
    func close() {
        for case let registration? in registrations {
            registration.handler = nil
            registration.reader = nil
            registration.writer = nil
        }
        registrations.removeAll()
        backend.close()
    }
}

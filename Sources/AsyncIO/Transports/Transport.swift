// Theory of operation
//
// A transport owns a connection (a socket, a pipe, an in-memory pair) and moves bytes; a protocol
// (see Protocols.swift) is the user's object the transport calls when something happens. This is
// asyncio's split (PEP 3156): transports are the library's, protocols are the user's.
//
// Transports are NOT Sendable. A transport is created on its loop's thread and handed to the
// protocol's `connectionMade(_:loop:)`, which is isolated to that loop, so the compiler keeps the
// transport there: it can be stored in the protocol, captured by tasks the protocol creates on the
// loop, returned from `createConnection` to loop-isolated code, and never sent elsewhere.
//
// Bytes in: the transport hands the protocol a `Span<UInt8>` borrowed from a loop-owned buffer,
// valid for the duration of the call (DESIGN §3: zero-copy); a protocol that keeps bytes copies them
// (`Array(data)`). Bytes out: `write` borrows a `Span<UInt8>` too, tries the system call at once and
// copies only what the kernel did not take. `[UInt8]`, `String`, any `Collection<UInt8>` and
// `UnsafeRawBufferPointer` are accepted by the extensions below.
/// The base of every transport: close it, ask whether it closes, and learn about its endpoints.
///
/// Mirrors `asyncio.BaseTransport`. Deviation: `get_extra_info(name)` is the typed `extraInfo`
/// struct; `get_protocol` is not offered, and `set_protocol` only on stream transports
/// (`Transport.setProtocol(_:)`).
public protocol BaseTransport: AnyObject {
    /// The loop this transport belongs to; every call on it must be made on that loop's thread.
    var loop: EventLoop { get }

    /// What is known about the connection: peer and socket names, the file descriptor.
    ///
    /// Mirrors `get_extra_info('peername' | 'sockname' | 'socket')`.
    var extraInfo: TransportExtraInfo { get }

    /// True once the transport is closing or closed. Mirrors `is_closing()`.
    var isClosing: Bool { get }

    /// Closes the transport: buffered data is flushed first (asynchronously), then the protocol's
    /// `connectionLost(nil)` is called once, in a later iteration. Closing twice does nothing.
    ///
    /// Mirrors `BaseTransport.close()`.
    func close()
}

/// A transport that reads: flow control on the receiving side.
///
/// Mirrors `asyncio.ReadTransport`.
public protocol ReadTransport: BaseTransport {
    /// True unless reading was paused. Mirrors `is_reading()`.
    var isReading: Bool { get }

    /// Stops calling `dataReceived` until `resumeReading`. Does nothing if paused or closing.
    ///
    /// Mirrors `pause_reading()`.
    func pauseReading()

    /// Starts calling `dataReceived` again. Does nothing if not paused or closing.
    ///
    /// Mirrors `resume_reading()`.
    func resumeReading()
}

/// A transport that writes, with write-buffer flow control (water marks).
///
/// Flow control: when the write buffer grows strictly over the high-water mark the protocol's
/// `pauseWriting` is called; once it drains to the low-water mark or below, `resumeWriting`.
/// Defaults: 64 KiB high, 16 KiB low (asyncio's: high = 4 × low, low = 16 KiB).
///
/// Mirrors `asyncio.WriteTransport`.
public protocol WriteTransport: BaseTransport {
    /// Sends `data`: written to the kernel at once if nothing is queued, the rest is queued.
    ///
    /// Once the connection is lost (after `abort`, a fatal error such as a reset peer, or the end
    /// of `close`), writes are dropped without an error — a warning is logged at the 5th such
    /// attempt (asyncio logs from the 5th on) — so a protocol racing with a peer reset never
    /// crashes. While `close()` is still flushing, a socket transport queues writes as asyncio does.
    /// - Throws: `TransportError.writeAfterEOF` after `writeEOF()`. Mirrors `write(data)`.
    func write(_ data: Span<UInt8>) throws(TransportError)

    /// Sends each chunk in order, queueing them together (one `writev`).
    ///
    /// - Throws: as `write`. Mirrors `writelines(list_of_data)`.
    func writeLines(_ chunks: [[UInt8]]) throws(TransportError)

    /// Closes the write side after the buffered data is flushed (`shutdown(SHUT_WR)` for sockets);
    /// reading goes on. Calling it twice does nothing.
    ///
    /// - Throws: `TransportError.notSupported` where `canWriteEOF` is false. Mirrors `write_eof()`.
    func writeEOF() throws(TransportError)

    /// True if `writeEOF` is supported. Mirrors `can_write_eof()`.
    var canWriteEOF: Bool { get }

    /// Closes at once, dropping buffered data; `connectionLost(nil)` follows in a later iteration.
    ///
    /// Mirrors `abort()`.
    func abort()

    /// Sets the water marks; nil picks asyncio's defaults (high from low, or 64 KiB; low = high / 4).
    ///
    /// May call `pauseWriting`/`resumeWriting` at once if the buffer is now over/under the marks.
    /// - Throws: `TransportError.invalidValue` unless `high >= low >= 0`.
    ///   Mirrors `set_write_buffer_limits(high=None, low=None)`.
    func setWriteBufferLimits(high: Int?, low: Int?) throws(TransportError)

    /// The number of bytes queued and not yet written. Mirrors `get_write_buffer_size()`.
    var writeBufferSize: Int { get }

    /// The current water marks. Mirrors `get_write_buffer_limits()`.
    var writeBufferLimits: (low: Int, high: Int) { get }
}

/// A bidirectional stream transport (a TCP or Unix socket connection). Mirrors `asyncio.Transport`.
public protocol Transport: ReadTransport, WriteTransport {
    /// Hands the connection to another protocol: from now on `protocol` gets every callback
    /// (`dataReceived`, `eofReceived`, `pauseWriting`/`resumeWriting`, `connectionLost`); the old
    /// one gets none. `connectionMade` is not called: the caller does that if the new protocol
    /// needs it.
    ///
    /// What STARTTLS is built on: `AsyncIOTLS`'s `startTLS` puts its TLS protocol between this
    /// transport and the application's protocol. Call it on the loop thread, between callbacks or
    /// inside one (the next callback goes to the new protocol).
    ///
    /// - Throws: `TransportError.notSupported` for a transport that cannot switch (the default);
    ///   `TransportError.closed` once the connection is lost; `TransportError.invalidValue` for a
    ///   protocol that is neither a `ConnectionProtocol` nor a `BufferedConnectionProtocol`.
    ///   Mirrors `BaseTransport.set_protocol(protocol)`.
    func setProtocol(_ protocol: any StreamingProtocol) throws(TransportError)
}

extension Transport {
    /// Refuses: a transport written outside this module switches protocols only if it says so.
    public func setProtocol(_ protocol: any StreamingProtocol) throws(TransportError) {
        throw TransportError.notSupported("\(type(of: self)) cannot switch protocols")
    }
}

/// A transport for datagrams (UDP, Unix datagram sockets).
///
/// Mirrors `asyncio.DatagramTransport`.
public protocol DatagramTransport: BaseTransport {
    /// Sends one datagram to `address`, or to the connected remote address when nil.
    ///
    /// Errors from the kernel go to the protocol's `errorReceived`, as in asyncio.
    /// - Throws: `TransportError.invalidValue` if `address` is given on a connected endpoint (and
    ///   differs) or missing on an unconnected one. Mirrors `sendto(data, addr=None)`.
    func sendTo(_ data: Span<UInt8>, address: SocketAddress?) throws(TransportError)

    /// Closes at once, dropping queued datagrams. Mirrors `abort()`.
    func abort()

    /// Bytes of datagrams queued and not yet sent. Mirrors `get_write_buffer_size()`.
    var writeBufferSize: Int { get }
}

/// What a transport knows about its connection: asyncio's `get_extra_info()` keys, typed.
public struct TransportExtraInfo: Sendable, Equatable {
    /// The remote address (`'peername'`); nil for unconnected datagram endpoints and in-memory pairs.
    public var peerName: SocketAddress?
    /// The local address (`'sockname'`).
    public var socketName: SocketAddress?
    /// The socket's file descriptor (`'socket'`); nil where there is none, and once the transport
    /// has closed it. Do not close it.
    public var fileDescriptor: Int32?

    /// Creates the info of a transport (for transports written outside this module).
    public init(peerName: SocketAddress? = nil, socketName: SocketAddress? = nil, fileDescriptor: Int32? = nil) {
        self.peerName = peerName
        self.socketName = socketName
        self.fileDescriptor = fileDescriptor
    }
}

/// A transport used the wrong way, or a value out of range: asyncio's RuntimeError/ValueError cases.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `write` after `writeEOF`. asyncio raises `RuntimeError('Cannot call write() after write_eof()')`.
    case writeAfterEOF
    /// The operation is not supported by this transport (asyncio's `NotImplementedError`).
    case notSupported(String)
    /// An argument is out of range (asyncio's `ValueError`).
    case invalidValue(String)
    /// The transport is closed (for calls that cannot just be ignored).
    case closed
    /// `write` while `loop.sendfile` owns the transport. asyncio raises
    /// `RuntimeError('unable to write; sendfile is in progress')`.
    case sendfileInProgress

    public var description: String {
        switch self {
        case .writeAfterEOF: "RuntimeError: Cannot call write() after write_eof()"
        case .notSupported(let what): "NotImplementedError: \(what)"
        case .invalidValue(let what): "ValueError: \(what)"
        case .closed: "RuntimeError: transport is closed"
        case .sendfileInProgress: "RuntimeError: unable to write; sendfile is in progress"
        }
    }
}

// MARK: - Writing conveniences

extension WriteTransport {
    /// Sends `bytes`; see `write(_: Span<UInt8>)`.
    @inlinable
    public func write(_ bytes: [UInt8]) throws(TransportError) {
        try write(bytes.span)
    }

    /// Sends `string` as UTF-8; see `write(_: Span<UInt8>)`.
    @inlinable
    public func write(_ string: String) throws(TransportError) {
        try write(string.utf8.span)
    }

    /// Sends the bytes in `buffer`; see `write(_: Span<UInt8>)`.
    @inlinable
    public func write(_ buffer: UnsafeRawBufferPointer) throws(TransportError) {
        try write(buffer.bindMemory(to: UInt8.self).span)
    }

    /// Sends any collection of bytes (copied once if it is not contiguous).
    @inlinable
    public func write(_ bytes: some Collection<UInt8>) throws(TransportError) {
        let outcome = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(TransportError) in try write(buffer.span) }
        }
        if let outcome { return try outcome.get() }
        try write(Array(bytes).span)
    }

    /// Sends each chunk in order with one `write` each (transports override this to batch them).
    public func writeLines(_ chunks: [[UInt8]]) throws(TransportError) {
        for chunk in chunks { try write(chunk.span) }
    }
}

extension DatagramTransport {
    /// Sends `bytes` as one datagram; see `sendTo(_: Span<UInt8>, address:)`.
    @inlinable
    public func sendTo(_ bytes: [UInt8], address: SocketAddress? = nil) throws(TransportError) {
        try sendTo(bytes.span, address: address)
    }

    /// Sends `string` (UTF-8) as one datagram; see `sendTo(_: Span<UInt8>, address:)`.
    @inlinable
    public func sendTo(_ string: String, address: SocketAddress? = nil) throws(TransportError) {
        try sendTo(string.utf8.span, address: address)
    }
}

// MARK: - Copying borrowed bytes

extension Array where Element == UInt8 {
    /// Copies the bytes of a borrowed view, e.g. the `data` given to `dataReceived`.
    @inlinable
    public init(_ span: Span<UInt8>) {
        self = span.withUnsafeBufferPointer { Array($0) }
    }

    /// Appends the bytes of a borrowed view.
    @inlinable
    public mutating func append(contentsOf span: Span<UInt8>) {
        span.withUnsafeBufferPointer { append(contentsOf: $0) }
    }
}

extension String {
    /// Decodes a borrowed view of bytes as UTF-8 (invalid sequences become U+FFFD), as
    /// `String(decoding:as:)` does for collections.
    @inlinable
    public init(decoding span: Span<UInt8>, as encoding: UTF8.Type) {
        self = span.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
    }
}

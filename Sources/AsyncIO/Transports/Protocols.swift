// Theory of operation
//
// Protocols are the user's objects; transports call them. Every callback runs on the loop thread
// and is ISOLATED TO THE LOOP: it receives the loop as `loop: isolated EventLoop`. That is the one
// deliberate change to asyncio's signatures, and it is what makes a protocol pleasant and sound in
// Swift: inside a callback the protocol may call the loop's API directly (`loop.createTask { … }`,
// `loop.callLater(…) { … }`, `loop.createFuture()`) and capture `self` and the transport in those
// closures, because the compiler knows all of them belong to the loop. (Had the callbacks been
// plain nonisolated methods, `self` would be "task-isolated" and `loop.assumeIsolated { … }` could
// not capture it: the region checker rejects the capture, correctly, since nothing would prove that
// the object stays on the loop thread.) Where asyncio code calls `asyncio.get_running_loop()` in a
// callback, Swift code uses the `loop` parameter.
//
// Callback order, as CPython's protocols.py states it:
//
//   ConnectionProtocol:          start -> CM [-> DR*] [-> ER?] -> CL -> end
//   BufferedConnectionProtocol:  start -> CM [-> GB [-> BU?]]* [-> ER?] -> CL -> end
//   DatagramProtocol:            start -> CM [-> DG | -> ERR]* -> CL -> end
//
//   CM = connectionMade, DR = dataReceived, ER = eofReceived, CL = connectionLost,
//   GB = getBuffer, BU = bufferUpdated, DG = datagramReceived, ERR = errorReceived.
//
// `pauseWriting`/`resumeWriting` may come between CM and CL, strictly alternating and starting with
// pause: pause when the write buffer grows strictly over the high-water mark, resume when it drains
// to the low-water mark or below. Nothing is called after CL, and CL is called exactly once, with
// nil for a normal close or EOF and the error otherwise (a reset peer: `SystemError` ECONNRESET).
/// What every protocol handles: the connection's end and write flow control.
///
/// Mirrors `asyncio.BaseProtocol`. Deviation: each callback takes the loop, isolated (see above).
public protocol BaseProtocol: AnyObject {
    /// The connection is gone: closed (`error` nil), or failed with `error`. Called exactly once,
    /// last. Mirrors `connection_lost(exc)`.
    func connectionLost(_ error: (any Error)?, loop: isolated EventLoop)

    /// The transport's write buffer went strictly over the high-water mark: stop producing.
    ///
    /// Mirrors `pause_writing()`.
    func pauseWriting(loop: isolated EventLoop)

    /// The transport's write buffer drained to the low-water mark: produce again.
    ///
    /// Mirrors `resume_writing()`.
    func resumeWriting(loop: isolated EventLoop)
}

/// What both stream protocols share: the transport arrives, the peer may send EOF.
///
/// `createServer` and `createConnection` take a factory of any `StreamingProtocol`: either a
/// `ConnectionProtocol` (bytes are handed over) or a `BufferedConnectionProtocol` (bytes are read
/// into the protocol's own buffer). Conform to one of those two, not to this one directly.
/// asyncio has no such name: it is the common part of `asyncio.Protocol` and `BufferedProtocol`.
public protocol StreamingProtocol: BaseProtocol {
    /// The connection is up; keep `transport` to write. Mirrors `connection_made(transport)`.
    func connectionMade(_ transport: any Transport, loop: isolated EventLoop)

    /// The peer closed its write side. Return true to keep the connection half-open (you may still
    /// write, and must close the transport yourself); false closes the transport.
    ///
    /// Mirrors `eof_received()` (a falsy return closes).
    func eofReceived(loop: isolated EventLoop) -> Bool
}

/// A protocol for a stream connection (TCP, Unix sockets): asyncio's `Protocol`.
///
/// Order of calls: `start -> connectionMade [-> dataReceived*] [-> eofReceived?] -> connectionLost -> end`.
///
/// ```swift
/// final class EchoProtocol: ConnectionProtocol {
///     var transport: (any Transport)?
///     func connectionMade(_ transport: any Transport, loop: isolated EventLoop) { self.transport = transport }
///     func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) { try? transport?.write(data) }
/// }
/// ```
///
/// Mirrors `asyncio.Protocol` (renamed: `X.Protocol` is Swift's metatype syntax). Every method has
/// asyncio's default (do nothing; `eofReceived` returns false, so the transport closes).
public protocol ConnectionProtocol: StreamingProtocol {
    /// Bytes arrived. `data` is borrowed for this call only: copy what you keep (`Array(data)`).
    ///
    /// Mirrors `data_received(data)`.
    func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop)
}

/// A stream protocol that lends the transport its own buffer to read into (no copy at all).
///
/// Order of calls: `start -> connectionMade [-> getBuffer [-> bufferUpdated?]]* [-> eofReceived?]
/// -> connectionLost -> end`.
///
/// Mirrors `asyncio.BufferedProtocol`.
public protocol BufferedConnectionProtocol: StreamingProtocol {
    /// Returns memory for the next read, at least 1 byte; `sizeHint` is the size the transport would
    /// like (or -1 for no preference).
    ///
    /// The memory belongs to the protocol and must stay valid, and untouched by anyone else, until
    /// `bufferUpdated` (or, if no bytes arrive, until the next `getBuffer` or `connectionLost`).
    /// Mirrors `get_buffer(sizehint)`.
    func getBuffer(sizeHint: Int, loop: isolated EventLoop) -> UnsafeMutableRawBufferPointer

    /// The first `count` bytes of the last buffer were filled. Mirrors `buffer_updated(nbytes)`.
    func bufferUpdated(_ count: Int, loop: isolated EventLoop)
}

/// A protocol for datagram endpoints (UDP, Unix datagram sockets).
///
/// Order of calls: `start -> connectionMade [-> datagramReceived | errorReceived]* -> connectionLost -> end`.
///
/// Mirrors `asyncio.DatagramProtocol`.
public protocol DatagramProtocol: BaseProtocol {
    /// The endpoint is ready. Mirrors `connection_made(transport)`.
    func connectionMade(_ transport: any DatagramTransport, loop: isolated EventLoop)

    /// A datagram arrived from `address`; `data` is borrowed for this call only.
    ///
    /// Mirrors `datagram_received(data, addr)`.
    func datagramReceived(_ data: Span<UInt8>, from address: SocketAddress, loop: isolated EventLoop)

    /// A send or receive failed (e.g. ECONNREFUSED for a connected UDP endpoint); the endpoint stays
    /// open. Mirrors `error_received(exc)`.
    func errorReceived(_ error: any Error, loop: isolated EventLoop)
}

// MARK: - asyncio's defaults

extension BaseProtocol {
    public func connectionLost(_ error: (any Error)?, loop: isolated EventLoop) {}
    public func pauseWriting(loop: isolated EventLoop) {}
    public func resumeWriting(loop: isolated EventLoop) {}
}

extension StreamingProtocol {
    public func connectionMade(_ transport: any Transport, loop: isolated EventLoop) {}
    public func eofReceived(loop: isolated EventLoop) -> Bool { false }
}

extension ConnectionProtocol {
    public func dataReceived(_ data: Span<UInt8>, loop: isolated EventLoop) {}
}

extension DatagramProtocol {
    public func connectionMade(_ transport: any DatagramTransport, loop: isolated EventLoop) {}
    public func datagramReceived(_ data: Span<UInt8>, from address: SocketAddress, loop: isolated EventLoop) {}
    public func errorReceived(_ error: any Error, loop: isolated EventLoop) {}
}

/// The writing half of a stream connection: a transport plus `drain()`: asyncio's `StreamWriter`.
///
/// `write` never blocks: bytes the kernel does not take at once are buffered by the transport.
/// Call `drain()` after writing to wait while that buffer is over its high-water mark (the
/// transport paused the protocol), so a peer that does not read cannot make memory grow without
/// bound; `drain()` also reports the connection's error.
///
/// ```swift
/// try writer.write(line)
/// try await writer.drain()
/// ```
///
/// Not `Sendable`: used on its loop. If a writer that is not closing is released, its transport
/// is closed (as asyncio's `__del__` does, without the `ResourceWarning`).
///
/// Mirrors `asyncio.StreamWriter`. Deviations: `get_extra_info(name)` is the typed `extraInfo`;
/// `writeEOF`/`write` throw `TransportError` where asyncio raises `RuntimeError`; `start_tls` is
/// `AsyncIOTLS`'s `startTLS`, built on ``upgradeTransport(_:)``.
public final class StreamWriter: CustomStringConvertible {
    /// The underlying transport (a new one after STARTTLS). Mirrors `StreamWriter.transport`.
    public private(set) var transport: any Transport
    let streamProtocol: StreamReaderProtocol
    let reader: StreamReader?

    /// Wraps `transport`; `protocol` must be the transport's protocol, `reader` its reader.
    ///
    /// Mirrors `StreamWriter(transport, protocol, reader, loop)`.
    public init(transport: any Transport, protocol streamProtocol: StreamReaderProtocol, reader: StreamReader?) {
        self.transport = transport
        self.streamProtocol = streamProtocol
        self.reader = reader
    }

    deinit {
        if !transport.isClosing { transport.close() }
    }

    public var description: String {
        "<StreamWriter transport=\(transport)\(reader.map { " reader=\($0)" } ?? "")>"
    }

    // MARK: - Writing

    /// Writes a borrowed view of bytes. Mirrors `write(data)`.
    ///
    /// - Throws: `TransportError.writeAfterEOF` after `writeEOF()`.
    public func write(_ data: Span<UInt8>) throws(TransportError) {
        try transport.write(data)
    }

    /// Writes `bytes`. Mirrors `write(data)`.
    ///
    /// - Throws: `TransportError.writeAfterEOF` after `writeEOF()`.
    public func write(_ bytes: [UInt8]) throws(TransportError) {
        try transport.write(bytes.span)
    }

    /// Writes `string` as UTF-8. Mirrors `write(data)`.
    ///
    /// - Throws: `TransportError.writeAfterEOF` after `writeEOF()`.
    public func write(_ string: String) throws(TransportError) {
        try transport.write(string)
    }

    /// Writes each chunk in order (batched by the transport). Mirrors `writelines(data)`.
    ///
    /// - Throws: `TransportError.writeAfterEOF` after `writeEOF()`.
    public func writeLines(_ chunks: [[UInt8]]) throws(TransportError) {
        try transport.writeLines(chunks)
    }

    /// Closes the write side once the buffer is flushed. Mirrors `write_eof()`.
    ///
    /// - Throws: `TransportError.notSupported` where `canWriteEOF` is false.
    public func writeEOF() throws(TransportError) {
        try transport.writeEOF()
    }

    /// True if the transport supports `writeEOF`. Mirrors `can_write_eof()`.
    public var canWriteEOF: Bool { transport.canWriteEOF }

    // MARK: - Flow control

    /// Waits until the transport's write buffer is at or under its low-water mark.
    ///
    /// Returns at once when writing is not paused. If the transport is closing, it first lets the
    /// loop run once, so that `connectionLost` can be delivered and its error reported here
    /// (without that, a `write`/`drain` loop on a dead connection would never notice).
    ///
    /// - Throws: the reader's exception (the connection's error) if it has one; the error the
    ///   connection was lost with; `SystemError` ECONNRESET if it was lost already;
    ///   `CancelledError`. Mirrors `drain()`.
    @inlinable
    public func drain() async throws {
        // Inlined, so that a drain with nothing to wait for (nearly every one) is one synchronous
        // call: an async call allocates the callee's frame in the task, and frees it, each time.
        if try mustWaitToDrain() { try await waitToDrain() }
    }

    /// Whether `drain()` suspends: the transport is closing, or writing is paused.
    ///
    /// - Throws: the reader's exception; ECONNRESET once the connection is lost.
    @usableFromInline
    func mustWaitToDrain() throws -> Bool {
        if let error = reader?.exception() { throw error }
        return try transport.isClosing || streamProtocol.mustWaitToDrain()
    }

    /// The waiting part of `drain()`.
    @usableFromInline
    func waitToDrain() async throws {
        if transport.isClosing {
            try await sleep(.zero)
        }
        try await streamProtocol.drainHelper()
    }

    // MARK: - Closing

    /// Closes the transport (buffered data is flushed first). Mirrors `close()`.
    public func close() {
        transport.close()
    }

    /// True once the transport is closing or closed. Mirrors `is_closing()`.
    public var isClosing: Bool { transport.isClosing }

    /// Waits until the connection is closed (`connectionLost` was called).
    ///
    /// - Throws: the error the connection was lost with, if any; `CancelledError`.
    ///   Mirrors `wait_closed()`.
    public func waitClosed() async throws {
        try await streamProtocol.waitClosed()
    }

    // MARK: - Upgrading

    /// Puts a new transport under this writer and its reader: what STARTTLS is built on.
    ///
    /// Drains the writer first, then calls `upgrade` with the current transport and the stream's
    /// protocol; `upgrade` makes a transport over the current one (say, TLS), moves the current
    /// one's protocol to its own (`Transport.setProtocol(_:)`) and hands the stream's protocol the
    /// new transport. Once it returns, the writer writes to, and the reader pauses, the new
    /// transport. If it throws, nothing is replaced. `AsyncIOTLS`'s `startTLS(_:)` is the user.
    ///
    /// - Throws: what `drain()` and `upgrade` throw. Mirrors the second half of `start_tls()`
    ///   (`self._transport = new_transport; protocol._replace_transport(new_transport)`).
    public func upgradeTransport(
        _ upgrade: (any Transport, StreamReaderProtocol) async throws -> any Transport
    ) async throws {
        try await drain()
        let upgraded = try await upgrade(transport, streamProtocol)
        transport = upgraded
        streamProtocol.replaceTransport(upgraded)
    }

    /// True for the writer of a server's connection (`startServer`): STARTTLS takes the server's
    /// side of the handshake then. Mirrors `start_tls()`'s `server_side` test.
    public var isServerSide: Bool { streamProtocol.isServerSide }

    /// The transport's peer and socket names and descriptor. Mirrors `get_extra_info()`.
    public var extraInfo: TransportExtraInfo { transport.extraInfo }
}

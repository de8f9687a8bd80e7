import AsyncIO

/// The transport an application's protocol gets on a TLS connection: plaintext in and out, flow
/// control and closing as on a socket.
///
/// Made by the `tls:` variants of `createConnection`, `createServer`, `openConnection` and
/// `startServer`, and by `startTLS`. Writes are encrypted at once and queued, as ciphertext, in
/// the socket transport's buffer: `writeBufferSize`, the water marks and `pauseWriting` /
/// `resumeWriting` are the socket's. `close()` sends close_notify and waits (at most the shutdown
/// timeout) for the peer's.
///
/// Mirrors asyncio's `_SSLProtocolTransport`. Deviation: `writeEOF()` is not supported (asyncio
/// raises `NotImplementedError` too); the TLS keys of `get_extra_info` are ``tlsInfo``.
public final class TLSTransport: Transport, CustomStringConvertible {
    let tls: TLSProtocol
    public let loop: EventLoop
    private var cachedInfo: TLSInfo?

    init(_ tls: TLSProtocol, loop: EventLoop) {
        self.tls = tls
        self.loop = loop
    }

    /// What the handshake negotiated (public as `BaseTransport.tlsInfo`).
    var negotiated: TLSInfo {
        if let cachedInfo { return cachedInfo }
        let info = tls.engine?.info ?? TLSInfo()
        cachedInfo = info
        return info
    }

    /// True once the peer's close_notify was read: its data ended cleanly, not by a bare TCP EOF
    /// (which a truncating attacker can forge).
    public var receivedCloseNotify: Bool { tls.engine?.receivedCloseNotify ?? false }

    /// The transport below (the socket transport).
    public var underlyingTransport: (any Transport)? { tls.transport }

    public var description: String {
        "<TLSTransport \(tls.state)\(isClosing ? " closing" : "") over \(tls.transport.map { "\($0)" } ?? "nothing")>"
    }

    // MARK: - BaseTransport, ReadTransport

    /// The socket's peer and socket names and descriptor.
    public var extraInfo: TransportExtraInfo { tls.transport?.extraInfo ?? TransportExtraInfo() }

    public var isClosing: Bool { tls.appClosing || tls.state == .closed || tls.state == .shuttingDown }

    public func close() { tls.close() }

    public var isReading: Bool { !tls.appReadingPaused && !isClosing }

    public func pauseReading() { tls.pauseReading() }

    public func resumeReading() { tls.resumeReading() }

    public func setProtocol(_ proto: any StreamingProtocol) throws(TransportError) { try tls.setApp(proto) }

    // MARK: - WriteTransport

    public func write(_ data: Span<UInt8>) throws(TransportError) {
        guard !data.isEmpty else { return }
        data.withUnsafeBytes { tls.write($0) }
    }

    public func writeLines(_ chunks: [[UInt8]]) throws(TransportError) {
        tls.writeLines(chunks)
    }

    /// - Throws: `TransportError.notSupported`: TLS closes both directions at once (asyncio's
    ///   `NotImplementedError`).
    public func writeEOF() throws(TransportError) {
        throw TransportError.notSupported("TLS transports cannot write EOF")
    }

    public var canWriteEOF: Bool { false }

    public func abort() { tls.abort() }

    public func setWriteBufferLimits(high: Int?, low: Int?) throws(TransportError) {
        guard let transport = tls.transport else { throw TransportError.closed }
        try transport.setWriteBufferLimits(high: high, low: low)
    }

    public var writeBufferSize: Int { tls.transport?.writeBufferSize ?? 0 }

    public var writeBufferLimits: (low: Int, high: Int) {
        tls.transport?.writeBufferLimits ?? WriteFlowControl().limits
    }
}

extension BaseTransport {
    /// What TLS negotiated on this connection; nil for a transport without TLS.
    ///
    /// Mirrors `get_extra_info('ssl_object')` being None or not.
    public var tlsInfo: TLSInfo? { (self as? TLSTransport)?.negotiated }
}

extension StreamWriter {
    /// What TLS negotiated on this stream's connection; nil without TLS.
    public var tlsInfo: TLSInfo? { transport.tlsInfo }
}

// Theory of operation
//
// The sans-I/O half of TLS: an OpenSSL `SSL` whose network side is a BIO of ours instead of a
// socket (Python's `ssl.SSLObject` with its `MemoryBIO`s; asyncio's `sslproto.py` is built on
// exactly that; `CiphertextBIO` says why not OpenSSL's memory BIOs). Ciphertext from the network is
// lent to the engine (`lend`) while operations run; every operation (`handshake`, `read`, `write`,
// `shutdown`) may leave ciphertext in the outgoing buffer, which the caller takes with
// `withOutgoing` and writes to its transport. The engine never blocks and never does I/O: "want
// read" means "lend me more bytes", and "want write" cannot happen, because the BIO takes
// everything.
//
// EOF is not fed to OpenSSL. The caller knows when the network ended; the engine reports whether
// the peer's close_notify was read before (`receivedCloseNotify`), and the caller decides what a
// close_notify-less EOF means (asyncio: an ordinary EOF).
//
// OpenSSL's error queue is per thread and a failed call leaves entries in it: each operation
// clears it first and drains it into the thrown error after.
import COpenSSL
import Glibc

/// One TLS connection's state machine over memory buffers. Loop thread only (not Sendable).
final class TLSEngine {
    /// What one `read` produced.
    enum ReadOutcome: Equatable {
        /// This many plaintext bytes were written into the buffer.
        case bytes(Int)
        /// Nothing decrypted yet: feed more ciphertext.
        case wantMore
        /// The peer's close_notify was read: no more plaintext will come.
        case closed
    }

    let context: TLSContext
    private let ssl: OpaquePointer
    /// The network side (owned by `ssl` as a BIO; kept alive here as an object).
    private let network: CiphertextBIO
    /// The name the client asked for (SNI) and checks the certificate against.
    let serverHostname: String?

    /// Makes the engine of one connection.
    ///
    /// - Parameters:
    ///   - serverHostname: on a client, the name sent as SNI (unless it is an IP address) and, with
    ///     `.fullVerification`, the name (or address) the certificate must be for.
    /// - Throws: `TLSError.configuration` if OpenSSL cannot make the connection, or if a client
    ///   with full verification has no host name to check.
    init(context: TLSContext, serverHostname: String?) throws(TLSError) {
        ERR_clear_error()
        let configuration = context.configuration
        if configuration.role == .client, configuration.certificateVerification == .fullVerification,
            serverHostname?.isEmpty ?? true
        {
            throw TLSError.configuration("a server hostname is needed to check the certificate (check_hostname)")
        }
        guard let ssl = SSL_new(context.context) else {
            throw TLSError.configuration(TLSError.drainQueue(or: "SSL_new failed"))
        }
        guard let network = CiphertextBIO() else {
            SSL_free(ssl)
            throw TLSError.configuration(TLSError.drainQueue(or: "BIO_new failed"))
        }
        // The SSL owns the BIO (one reference, for both directions) from here on.
        SSL_set_bio(ssl, network.bio, network.bio)
        self.context = context
        self.ssl = ssl
        self.network = network
        self.serverHostname = serverHostname
        if configuration.role == .client {
            SSL_set_connect_state(ssl)
            if let name = serverHostname, !name.isEmpty {
                try setPeerName(name, verify: configuration.certificateVerification == .fullVerification)
            }
        } else {
            SSL_set_accept_state(ssl)
        }
    }

    deinit {
        SSL_free(ssl)
    }

    /// Sends SNI for a DNS name (RFC 6066 forbids IP literals) and sets the name or address that
    /// verification checks the certificate against.
    private func setPeerName(_ name: String, verify: Bool) throws(TLSError) {
        let isAddress = Self.isIPAddress(name)
        if !isAddress {
            guard casyncio_ssl_set_tlsext_host_name(ssl, name) == 1 else {
                throw TLSError.configuration(TLSError.drainQueue(or: "invalid server hostname \"\(name)\""))
            }
        }
        guard verify else { return }
        let parameters = SSL_get0_param(ssl)
        if isAddress {
            guard X509_VERIFY_PARAM_set1_ip_asc(parameters, name) == 1 else {
                throw TLSError.configuration(TLSError.drainQueue(or: "invalid IP address \"\(name)\""))
            }
        } else {
            // As Python: wildcards only as a whole left-most label.
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            guard SSL_set1_host(ssl, name) == 1 else {
                throw TLSError.configuration(TLSError.drainQueue(or: "invalid server hostname \"\(name)\""))
            }
        }
    }

    static func isIPAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }

    // MARK: - Ciphertext in and out

    /// Lets OpenSSL read `bytes` (ciphertext from the network) while `body` runs, and keeps what
    /// it did not read for later: call the operations inside `body`.
    func lend<R, E: Error>(_ bytes: UnsafeRawBufferPointer, _ body: () throws(E) -> R) throws(E) -> R {
        try network.lend(bytes, body)
    }

    /// True if OpenSSL produced ciphertext the network has not been given yet.
    var hasOutgoing: Bool { network.outgoingCount > 0 }

    /// Lends the pending ciphertext to `body` (without a copy), then forgets it.
    func withOutgoing(_ body: (UnsafeRawBufferPointer) -> Void) {
        network.takeOutgoing(body)
    }

    // MARK: - Operations

    /// Drives the handshake as far as the bytes fed so far allow.
    ///
    /// - Returns: true once the handshake is done.
    /// - Throws: `TLSError.certificateVerificationFailed` or `.handshakeFailed`.
    func handshake() throws(TLSError) -> Bool {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return true }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return false }
        let verify = SSL_get_verify_result(ssl)
        if verify != Int(X509_V_OK) {
            ERR_clear_error()
            let reason = String(cString: X509_verify_cert_error_string(verify))
            throw TLSError.certificateVerificationFailed(reason)
        }
        throw TLSError.handshakeFailed(TLSError.drainQueue(or: Self.describe(error)))
    }

    /// Decrypts into `buffer` as much as is available, up to its size.
    ///
    /// - Throws: `TLSError.protocolError` for a record that does not decrypt or an alert.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> ReadOutcome {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return .wantMore }
        ERR_clear_error()
        var count = 0
        let result = SSL_read_ex(ssl, base, buffer.count, &count)
        if result == 1 { return .bytes(count) }
        let error = SSL_get_error(ssl, 0)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .wantMore
        case SSL_ERROR_ZERO_RETURN: return .closed
        default: throw TLSError.protocolError(TLSError.drainQueue(or: Self.describe(error)))
        }
    }

    /// Encrypts all of `bytes` (a memory BIO takes everything, so nothing is left over).
    ///
    /// - Throws: `TLSError.protocolError` if OpenSSL refuses (the connection was shut down).
    func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        guard var base = bytes.baseAddress, !bytes.isEmpty else { return }
        var left = bytes.count
        while left > 0 {
            ERR_clear_error()
            var written = 0
            guard SSL_write_ex(ssl, base, left, &written) == 1 else {
                let error = SSL_get_error(ssl, 0)
                throw TLSError.protocolError(TLSError.drainQueue(or: Self.describe(error)))
            }
            base += written
            left -= written
        }
    }

    /// Queues our close_notify (once). Mirrors `SSLObject.unwrap()`'s first step.
    func shutdown() {
        guard SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN == 0 else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// True once the peer's close_notify was read.
    var receivedCloseNotify: Bool { SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN != 0 }

    /// True once the handshake is done.
    var isHandshakeDone: Bool { SSL_is_init_finished(ssl) == 1 }

    /// Plaintext bytes decrypted and not yet read.
    var pendingPlaintext: Int { Int(SSL_pending(ssl)) }

    private static func describe(_ error: Int32) -> String {
        switch error {
        case SSL_ERROR_SSL: "protocol error"
        case SSL_ERROR_SYSCALL: "unexpected EOF"
        default: "SSL error \(error)"
        }
    }

    // MARK: - What was negotiated

    /// The connection's negotiated parameters and the peer's certificate.
    var info: TLSInfo {
        var info = TLSInfo()
        info.version = String(cString: SSL_get_version(ssl))
        if let cipher = SSL_get_current_cipher(ssl) {
            info.cipher = String(cString: SSL_CIPHER_get_name(cipher))
            info.cipherBits = Int(SSL_CIPHER_get_bits(cipher, nil))
        }
        var alpn: UnsafePointer<UInt8>?
        var alpnLength: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &alpn, &alpnLength)
        if let alpn, alpnLength > 0 {
            info.alpnProtocol = String(
                decoding: UnsafeBufferPointer(start: alpn, count: Int(alpnLength)),
                as: UTF8.self
            )
        }
        if let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) {
            info.serverName = String(cString: name)
        }
        if let certificate = SSL_get1_peer_certificate(ssl) {
            info.peerCertificate = TLSCertificate(certificate)
            X509_free(certificate)
        }
        info.sessionReused = SSL_session_reused(ssl) == 1
        return info
    }
}

import COpenSSL

/// Why a TLS connection, or a context, failed: asyncio's `ssl.SSLError` family, typed.
///
/// Mirrors `ssl.SSLError`, `ssl.SSLCertVerificationError` (`certificateVerificationFailed`) and the
/// `TimeoutError`s of asyncio's `ssl_handshake_timeout` / `ssl_shutdown_timeout`.
public enum TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The context could not be made: a file that does not load, a key that does not match its
    /// certificate, an unknown cipher string. The reason is OpenSSL's.
    case configuration(String)
    /// The peer's certificate was refused: expired, self-signed, signed by an unknown CA, or not
    /// for the host name asked for. The reason is OpenSSL's verification message (`verify_message`).
    case certificateVerificationFailed(String)
    /// The handshake failed for another reason: no common version or cipher, an alert from the
    /// peer, bytes that are not TLS.
    case handshakeFailed(String)
    /// The peer closed the connection before the handshake was done (asyncio raises
    /// `ConnectionResetError` there).
    case closedDuringHandshake
    /// The handshake did not finish within the handshake timeout.
    case handshakeTimeout
    /// The established connection broke: a record that does not decrypt, an alert.
    case protocolError(String)

    public var description: String {
        switch self {
        case .configuration(let reason): "SSLError: \(reason)"
        case .certificateVerificationFailed(let reason):
            "SSLCertVerificationError: certificate verify failed: \(reason)"
        case .handshakeFailed(let reason): "SSLError: handshake failed: \(reason)"
        case .closedDuringHandshake: "ConnectionResetError: the peer closed the connection during the TLS handshake"
        case .handshakeTimeout: "TimeoutError: TLS handshake is taking longer than the handshake timeout"
        case .protocolError(let reason): "SSLError: \(reason)"
        }
    }

    /// OpenSSL's error queue of this thread as one message (and the queue emptied), or `fallback`.
    static func drainQueue(or fallback: String) -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            guard code != 0 else { break }
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            reasons.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons.isEmpty ? fallback : reasons.joined(separator: "; ")
    }
}

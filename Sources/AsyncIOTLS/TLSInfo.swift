import AsyncIO
import COpenSSL
import Glibc

/// What a TLS connection negotiated: asyncio's TLS `get_extra_info()` keys, typed.
///
/// Read it from any transport with `transport.tlsInfo` (nil for a transport without TLS) or from a
/// stream with `writer.tlsInfo`.
///
/// Mirrors `get_extra_info('ssl_object' | 'peercert' | 'cipher' | 'compression')` and
/// `SSLObject.version()`, `selected_alpn_protocol()`, `server_hostname`.
public struct TLSInfo: Sendable, Equatable {
    /// The protocol version: `"TLSv1.3"`, `"TLSv1.2"`. Mirrors `SSLObject.version()`.
    public var version = ""
    /// The cipher suite's OpenSSL name: `"TLS_AES_256_GCM_SHA384"`. Mirrors `cipher()[0]`.
    public var cipher = ""
    /// The cipher's secret bits. Mirrors `cipher()[2]`.
    public var cipherBits = 0
    /// The protocol ALPN chose, if any. Mirrors `selected_alpn_protocol()`.
    public var alpnProtocol: String?
    /// The host name the client asked for with SNI (on both sides). Mirrors `server_hostname` on a
    /// client and the name given to `sni_callback` on a server.
    public var serverName: String?
    /// The peer's certificate, if it sent one (a server always does; a client when asked).
    /// Mirrors `getpeercert()`; `der` mirrors `getpeercert(binary_form=True)`.
    public var peerCertificate: TLSCertificate?
    /// True if an earlier session was resumed. Mirrors `SSLObject.session_reused`.
    public var sessionReused = false
}

/// A certificate, decoded enough to log and to check by hand; `der` holds all of it.
///
/// Mirrors the dictionary of `SSLObject.getpeercert()`.
public struct TLSCertificate: Sendable, Equatable {
    /// The subject, RFC 2253 (`"CN=localhost,O=Test"`).
    public var subject: String
    /// The issuer, RFC 2253.
    public var issuer: String
    /// Valid from, as OpenSSL prints it (`"Dec  7 17:00:00 2026 GMT"`). Mirrors `notBefore`.
    public var notBefore: String
    /// Valid until. Mirrors `notAfter`.
    public var notAfter: String
    /// The serial number in hex. Mirrors `serialNumber`.
    public var serialNumber: String
    /// The DNS names and IP addresses it is for. Mirrors `subjectAltName`.
    public var subjectAlternativeNames: [String]
    /// The whole certificate, DER-encoded. Mirrors `getpeercert(binary_form=True)`.
    public var der: [UInt8]

    init(_ certificate: OpaquePointer) {
        subject = Self.text { X509_NAME_print_ex($0, X509_get_subject_name(certificate), 0, casyncio_xn_flag_rfc2253) }
        issuer = Self.text { X509_NAME_print_ex($0, X509_get_issuer_name(certificate), 0, casyncio_xn_flag_rfc2253) }
        notBefore = Self.text { ASN1_TIME_print($0, X509_get0_notBefore(certificate)) }
        notAfter = Self.text { ASN1_TIME_print($0, X509_get0_notAfter(certificate)) }
        serialNumber = Self.text { i2a_ASN1_INTEGER($0, X509_get0_serialNumber(certificate)) }
        var encoded: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(certificate, &encoded)
        if length > 0, let encoded {
            der = Array(UnsafeBufferPointer(start: encoded, count: Int(length)))
            CRYPTO_free(encoded, #fileID, #line)
        } else {
            der = []
        }
        subjectAlternativeNames = Self.alternativeNames(certificate)
    }

    /// What `print` writes to a memory BIO, as a string.
    private static func text(_ print: (OpaquePointer?) -> Int32) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard print(bio) >= 0 else { return "" }
        var data: UnsafeMutablePointer<CChar>?
        let count = casyncio_bio_get_mem_data(bio, &data)
        guard count > 0, let data else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
    }

    /// `DNS:name` and `IP Address:addr` entries, as Python and OpenSSL print them.
    private static func alternativeNames(_ certificate: OpaquePointer) -> [String] {
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return [] }
        let names = OpaquePointer(raw)
        defer { casyncio_general_names_free(names) }
        var result: [String] = []
        for index in 0..<casyncio_general_names_count(names) {
            guard let name = casyncio_general_names_value(names, index) else { continue }
            switch name.pointee.type {
            case GEN_DNS:
                if let string = name.pointee.d.dNSName {
                    result.append("DNS:" + Self.string(string))
                }
            case GEN_IPADD:
                if let string = name.pointee.d.iPAddress {
                    result.append("IP Address:" + Self.address(string))
                }
            default:
                continue
            }
        }
        return result
    }

    private static func string(_ string: UnsafeMutablePointer<ASN1_STRING>) -> String {
        let length = Int(ASN1_STRING_length(string))
        guard length > 0, let data = ASN1_STRING_get0_data(string) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: data, count: length), as: UTF8.self)
    }

    private static func address(_ string: UnsafeMutablePointer<ASN1_STRING>) -> String {
        let length = Int(ASN1_STRING_length(string))
        guard let data = ASN1_STRING_get0_data(string), length == 4 || length == 16 else { return "" }
        var text = [CChar](repeating: 0, count: 64)
        let family = length == 4 ? AF_INET : AF_INET6
        guard inet_ntop(family, data, &text, socklen_t(text.count)) != nil else { return "" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

import COpenSSL

/// The settings shared by many TLS connections: certificates, trusted roots, versions, ALPN.
///
/// Made once from a ``TLSConfiguration`` and immutable after, so one context serves every
/// connection of a server, on any number of loops (OpenSSL's `SSL_CTX` is safe to share once it
/// is no longer changed).
///
/// ```swift
/// let context = try TLSContext(.server(certificateChainFile: "cert.pem", privateKeyFile: "key.pem"))
/// let server = try await loop.startServer(host: "127.0.0.1", port: 8443, tls: context) { reader, writer in … }
/// ```
///
/// Mirrors `ssl.SSLContext`. Deviation: configured before it is made (see ``TLSConfiguration``).
public final class TLSContext: @unchecked Sendable {
    // SAFETY: `context` is configured in `init` and never changed after; OpenSSL documents an
    // `SSL_CTX` as safe to use from several threads to make connections (`SSL_new`) once it is no
    // longer being configured. `alpnWire` is written once, in `init`, and only read after.

    /// What the context was made from.
    public let configuration: TLSConfiguration
    /// The `SSL_CTX`.
    let context: OpaquePointer
    /// The ALPN list in wire format (length-prefixed names), owned here for OpenSSL's callback.
    private let alpnWire: UnsafeMutableBufferPointer<UInt8>

    /// Makes a context: loads the certificate, key and roots, and sets versions, ciphers and ALPN.
    ///
    /// - Throws: `TLSError.configuration` with OpenSSL's reason: a file that does not load, a key
    ///   that does not match the certificate, a server without a certificate, an unknown cipher,
    ///   an ALPN name that is empty or longer than 255 bytes.
    public init(_ configuration: TLSConfiguration) throws(TLSError) {
        ERR_clear_error()
        let method = configuration.role == .client ? TLS_client_method() : TLS_server_method()
        guard let context = SSL_CTX_new(method) else {
            throw TLSError.configuration(TLSError.drainQueue(or: "SSL_CTX_new failed"))
        }
        var wire: [UInt8] = []
        for name in configuration.alpnProtocols {
            let bytes = Array(name.utf8)
            guard (1...255).contains(bytes.count) else {
                SSL_CTX_free(context)
                throw TLSError.configuration("ALPN protocol name must be 1 to 255 bytes: \"\(name)\"")
            }
            wire.append(UInt8(bytes.count))
            wire += bytes
        }
        do {
            try Self.configure(context, configuration, alpnWire: wire)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.configuration = configuration
        self.context = context
        alpnWire = .allocate(capacity: wire.count)
        _ = alpnWire.initialize(from: wire)
        if configuration.role == .server && !wire.isEmpty {
            SSL_CTX_set_alpn_select_cb(context, selectALPN, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    deinit {
        SSL_CTX_free(context)
        alpnWire.deallocate()
    }

    /// The server's ALPN list in wire format, for `selectALPN`.
    fileprivate var serverALPN: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(alpnWire) }

    // MARK: - Configuring

    private static func configure(
        _ context: OpaquePointer,
        _ configuration: TLSConfiguration,
        alpnWire: [UInt8]
    ) throws(TLSError) {
        func check(_ ok: Bool, _ what: String) throws(TLSError) {
            if !ok { throw TLSError.configuration(TLSError.drainQueue(or: what)) }
        }
        _ = SSL_CTX_set_options(context, casyncio_ssl_default_options)
        try check(
            casyncio_ssl_ctx_set_min_proto_version(context, configuration.minimumVersion.openSSL) == 1,
            "cannot set the minimum version"
        )
        if let maximum = configuration.maximumVersion {
            guard maximum >= configuration.minimumVersion else {
                throw TLSError.configuration(
                    "maximum version \(maximum) is below minimum \(configuration.minimumVersion)"
                )
            }
            try check(
                casyncio_ssl_ctx_set_max_proto_version(context, maximum.openSSL) == 1,
                "cannot set the maximum version"
            )
        }
        if let cipherList = configuration.cipherList {
            try check(
                SSL_CTX_set_cipher_list(context, cipherList) == 1,
                "no cipher can be selected from \"\(cipherList)\""
            )
        }
        if let cipherSuites = configuration.cipherSuites {
            try check(
                SSL_CTX_set_ciphersuites(context, cipherSuites) == 1,
                "invalid TLS 1.3 cipher suites \"\(cipherSuites)\""
            )
        }

        // This side's certificate and key.
        if let chain = configuration.certificateChainFile {
            try check(
                SSL_CTX_use_certificate_chain_file(context, chain) == 1,
                "cannot load the certificate chain \(chain)"
            )
            let keyFile = configuration.privateKeyFile ?? chain
            try check(
                SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1,
                "cannot load the private key \(keyFile)"
            )
            try check(SSL_CTX_check_private_key(context) == 1, "the private key does not match the certificate")
        } else if configuration.role == .server {
            throw TLSError.configuration("a server needs a certificate chain and a private key")
        }

        // The peer's certificate.
        if configuration.certificateVerification != .none {
            switch configuration.trustRoots {
            case .system:
                try check(SSL_CTX_set_default_verify_paths(context) == 1, "cannot load the system's trusted roots")
            case .locations(let file, let directory):
                guard file != nil || directory != nil else {
                    throw TLSError.configuration("trust roots need a file or a directory")
                }
                try check(
                    SSL_CTX_load_verify_locations(context, file, directory) == 1,
                    "cannot load trusted roots from \(file ?? directory ?? "")"
                )
            }
            var mode = SSL_VERIFY_PEER
            if configuration.role == .server { mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT }
            SSL_CTX_set_verify(context, mode, nil)
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }

        if configuration.role == .server {
            // Resumed sessions must belong to this application (required once clients are verified).
            let sessionContext: [UInt8] = Array("swift-asyncio".utf8)
            _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
        } else if !alpnWire.isEmpty {
            // 0 is success here, unlike the rest of OpenSSL.
            try check(SSL_CTX_set_alpn_protos(context, alpnWire, UInt32(alpnWire.count)) == 0, "cannot set ALPN")
        }
    }
}

extension TLSVersion {
    var openSSL: Int32 {
        switch self {
        case .v1_2: TLS1_2_VERSION
        case .v1_3: TLS1_3_VERSION
        }
    }
}

/// OpenSSL's ALPN callback on a server: the first of the server's protocols the client offers, or
/// no ALPN at all when none matches (RFC 7301 allows a `no_application_protocol` alert; like
/// Python's servers, we go on and let the application protocol decide).
private func selectALPN(
    _ ssl: OpaquePointer?,
    _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ outLength: UnsafeMutablePointer<UInt8>?,
    _ offered: UnsafePointer<UInt8>?,
    _ offeredLength: UInt32,
    _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let argument, let out, let outLength, let offered else { return SSL_TLSEXT_ERR_NOACK }
    // SAFETY: the argument is the context, which the connection's engine keeps alive for as long
    // as its `SSL` exists, and the callback only runs inside that `SSL`'s handshake.
    let context = Unmanaged<TLSContext>.fromOpaque(argument).takeUnretainedValue()
    let ours = context.serverALPN
    var chosen: UnsafeMutablePointer<UInt8>?
    let outcome = SSL_select_next_proto(
        &chosen,
        outLength,
        ours.baseAddress,
        UInt32(ours.count),
        offered,
        offeredLength
    )
    guard outcome == OPENSSL_NPN_NEGOTIATED, let chosen else { return SSL_TLSEXT_ERR_NOACK }
    out.pointee = UnsafePointer(chosen)
    return SSL_TLSEXT_ERR_OK
}

extension TLSContext: Hashable {
    /// Contexts are equal when they are the same object (a configuration made twice is two
    /// contexts, with two session caches), so that a value holding one (a Redis `Configuration`)
    /// can be hashed.
    public static func == (lhs: TLSContext, rhs: TLSContext) -> Bool { lhs === rhs }

    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// A TLS protocol version, for a context's minimum and maximum.
public enum TLSVersion: Sendable, Comparable, CustomStringConvertible {
    case v1_2
    case v1_3

    public var description: String {
        switch self {
        case .v1_2: "TLSv1.2"
        case .v1_3: "TLSv1.3"
        }
    }
}

/// How a side checks its peer's certificate.
public enum CertificateVerification: Sendable, Equatable {
    /// No check: any certificate, or none, is accepted. For tests and for servers that do not ask
    /// clients for certificates. Python's `CERT_NONE` with `check_hostname = False`.
    case none
    /// The chain must lead to a trusted root, but the name is not checked. Python's
    /// `CERT_REQUIRED` with `check_hostname = False`.
    case noHostnameVerification
    /// The chain must lead to a trusted root and the certificate must be for the host name (or IP
    /// address) connected to. Python's `CERT_REQUIRED` with `check_hostname = True`: the client's
    /// default. On a server it asks for, and requires, a client certificate (the host is not checked).
    case fullVerification
}

/// Where trusted root certificates come from.
public enum TrustRoots: Sendable, Equatable {
    /// The system's store (Debian: `/etc/ssl/certs`, from the `ca-certificates` package), as
    /// Python's `load_default_certs()`.
    case system
    /// The PEM certificates in a file (`cafile=`) and/or a hashed directory (`capath=`).
    case locations(file: String?, directory: String?)

    /// The PEM certificates in one file. Mirrors `load_verify_locations(cafile=path)`.
    public static func file(_ path: String) -> TrustRoots { .locations(file: path, directory: nil) }
}

/// What a ``TLSContext`` is made of: role, certificates, trust, versions, ALPN.
///
/// Start from ``client(trustRoots:verification:alpnProtocols:)`` or
/// ``server(certificateChainFile:privateKeyFile:alpnProtocols:)``, which give Python's
/// `ssl.create_default_context()` defaults (verification on with host-name checks for clients,
/// TLS 1.2 at least), then change fields as needed:
///
/// ```swift
/// var configuration = TLSConfiguration.client(trustRoots: .file("ca.pem"))
/// configuration.alpnProtocols = ["http/1.1"]
/// let context = try TLSContext(configuration)
/// ```
///
/// Mirrors the settings of `ssl.SSLContext`. Deviation: a value, turned into an immutable context
/// once, instead of a mutable context (a context shared by the connections of several loops must
/// not change under them).
public struct TLSConfiguration: Sendable {
    /// The side of the handshake a context is for.
    public enum Role: Sendable, Equatable {
        case client
        case server
    }

    /// Client or server. Mirrors `PROTOCOL_TLS_CLIENT` / `PROTOCOL_TLS_SERVER`.
    public var role: Role
    /// The PEM file with this side's certificate, then its intermediates. Required on a server.
    /// Mirrors `load_cert_chain(certfile)`.
    public var certificateChainFile: String?
    /// The PEM file with the private key of the certificate (nil: in `certificateChainFile`).
    /// Mirrors `load_cert_chain(certfile, keyfile)`.
    public var privateKeyFile: String?
    /// How the peer's certificate is checked. Mirrors `verify_mode` + `check_hostname`.
    public var certificateVerification: CertificateVerification
    /// The roots a peer's chain must lead to. Mirrors `load_verify_locations` / `load_default_certs`.
    public var trustRoots: TrustRoots
    /// The lowest version offered or accepted (TLS 1.2: older ones are broken). Mirrors `minimum_version`.
    public var minimumVersion: TLSVersion = .v1_2
    /// The highest version (nil: the highest OpenSSL knows, TLS 1.3). Mirrors `maximum_version`.
    public var maximumVersion: TLSVersion?
    /// The ALPN protocols, in order of preference (`["h2", "http/1.1"]`); empty for no ALPN.
    /// A server picks the first of its own that the client offers, and goes on without ALPN when
    /// none matches (as Python's servers do). Mirrors `set_alpn_protocols`.
    public var alpnProtocols: [String] = []
    /// The TLS 1.2 cipher list in OpenSSL's syntax (nil: OpenSSL's secure default). Mirrors `set_ciphers`.
    public var cipherList: String?
    /// The TLS 1.3 cipher suites, colon-separated (nil: OpenSSL's default, AES-GCM and ChaCha20).
    public var cipherSuites: String?

    /// Creates a configuration; prefer ``client(trustRoots:verification:alpnProtocols:)`` and
    /// ``server(certificateChainFile:privateKeyFile:alpnProtocols:)``.
    public init(
        role: Role,
        certificateChainFile: String? = nil,
        privateKeyFile: String? = nil,
        certificateVerification: CertificateVerification,
        trustRoots: TrustRoots = .system
    ) {
        self.role = role
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.certificateVerification = certificateVerification
        self.trustRoots = trustRoots
    }

    /// A client's configuration: the system's roots (or `trustRoots`), full verification,
    /// TLS 1.2 at least. Mirrors `ssl.create_default_context(Purpose.SERVER_AUTH, cafile=…)`.
    public static func client(
        trustRoots: TrustRoots = .system,
        verification: CertificateVerification = .fullVerification,
        alpnProtocols: [String] = []
    ) -> TLSConfiguration {
        var configuration = TLSConfiguration(
            role: .client,
            certificateVerification: verification,
            trustRoots: trustRoots
        )
        configuration.alpnProtocols = alpnProtocols
        return configuration
    }

    /// A server's configuration: its certificate chain and key, no client certificates asked for,
    /// TLS 1.2 at least. Mirrors `ssl.create_default_context(Purpose.CLIENT_AUTH)` +
    /// `load_cert_chain(certfile, keyfile)`.
    public static func server(
        certificateChainFile: String,
        privateKeyFile: String? = nil,
        alpnProtocols: [String] = []
    ) -> TLSConfiguration {
        var configuration = TLSConfiguration(
            role: .server,
            certificateChainFile: certificateChainFile,
            privateKeyFile: privateKeyFile,
            certificateVerification: .none
        )
        configuration.alpnProtocols = alpnProtocols
        return configuration
    }
}

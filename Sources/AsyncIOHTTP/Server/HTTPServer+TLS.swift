import AsyncIOTLS

extension TLSConfiguration {
    /// A server configuration for HTTPS: the certificate chain and key, ALPN `http/1.1` (so that
    /// clients that offer `h2` too settle on HTTP/1.1), TLS 1.2 at least.
    ///
    /// ```swift
    /// let context = try TLSContext(.httpServer(certificateChainFile: "cert.pem", privateKeyFile: "key.pem"))
    /// let server = try await HTTPServer.start(host: "0.0.0.0", port: 8443, tls: context, loop: loop) { request in … }
    /// ```
    public static func httpServer(certificateChainFile: String, privateKeyFile: String? = nil) -> TLSConfiguration {
        .server(certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile, alpnProtocols: ["http/1.1"])
    }
}

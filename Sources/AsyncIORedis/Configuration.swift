import AsyncIOTLS
import RESPCodec

/// How to reach a Redis server and what to say first: the options of redis-py's `Redis(...)` and
/// asyncio_redis's `Connection.create(...)`, gathered so a ``Pool`` and a reconnecting
/// ``Subscriber`` can open the same connection again.
public struct Configuration: Sendable, Hashable {
    /// Where the server listens.
    public enum Endpoint: Sendable, Hashable {
        /// A TCP host and port.
        case tcp(host: String, port: Int)
        /// A Unix domain socket path.
        case unix(path: String)
    }

    public var endpoint: Endpoint
    /// The ACL user for `AUTH user password` (nil: `AUTH password`, the `default` user).
    public var username: String?
    /// The password; nil sends no `AUTH`.
    public var password: String?
    /// The database `SELECT`ed after connecting (0 sends nothing).
    public var database: Int
    /// A name shown by `CLIENT LIST` (`CLIENT SETNAME`, or `HELLO … SETNAME`).
    public var clientName: String?
    /// 3 asks for RESP3 with `HELLO 3` and falls back to RESP2 when the server refuses it; 2 never asks.
    public var protocolVersion: Int
    /// The longest the TCP connect and the handshake may take together (nil: no limit).
    public var connectTimeout: Duration?
    /// The longest one command may wait for its reply (nil: no limit). A command that times out
    /// closes its connection, as a cancelled one does.
    public var commandTimeout: Duration?
    /// The parser's limits for what the server sends.
    public var limits: RESPLimits
    /// TLS for a TCP endpoint (`rediss://`); nil: plain TCP. The server's name for SNI and the
    /// certificate check is the endpoint's host. redis-py's `ssl=True` with its `ssl_*` options.
    public var tls: TLSContext?

    /// Creates a configuration for a TCP server.
    public init(
        host: String = "localhost",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        clientName: String? = nil,
        protocolVersion: Int = 3,
        connectTimeout: Duration? = .seconds(10),
        commandTimeout: Duration? = nil,
        limits: RESPLimits = RESPLimits(),
        tls: TLSContext? = nil
    ) {
        endpoint = .tcp(host: host, port: port)
        self.username = username
        self.password = password
        self.database = database
        self.clientName = clientName
        self.protocolVersion = protocolVersion
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.limits = limits
        self.tls = tls
    }

    /// Parses a URL as redis-py's `from_url` does.
    ///
    /// - `redis://[[user]:password@]host[:port][/db][?db=N&protocol=2&client_name=…]`
    /// - `unix:///path/to/redis.sock[?db=N&password=…&username=…]`
    /// - `rediss://…` is `redis://` over TLS: the system's trusted roots and a host-name check
    ///   unless `ssl_ca_certs=PEM` (trust these roots), `ssl_cert_reqs=none` (no check at all),
    ///   `ssl_check_hostname=false`; `ssl_certfile=PEM&ssl_keyfile=PEM` present a client certificate.
    ///
    /// User and password are percent-decoded; a bracketed IPv6 host (`[::1]`) is accepted.
    /// - Throws: ``RedisError/invalidConfiguration(_:)``, also for a TLS option that does not load.
    public init(url: String) throws(RedisError) {
        self.init()
        guard let schemeEnd = url.range(of: "://") else {
            throw .invalidConfiguration("\(url): no scheme (redis://, unix://)")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(url[schemeEnd.upperBound...])
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        switch scheme {
        case "unix":
            guard !rest.isEmpty else { throw .invalidConfiguration("\(url): no socket path") }
            endpoint = .unix(path: try Self.percentDecoded(rest))
        case "redis", "rediss":
            var hostPart = rest
            if let slash = rest.firstIndex(of: "/") {
                hostPart = rest[..<slash]
                let path = rest[rest.index(after: slash)...]
                if !path.isEmpty {
                    guard let db = Int(path), db >= 0 else {
                        throw .invalidConfiguration("\(url): bad database \(path)")
                    }
                    database = db
                }
            }
            if let at = hostPart.lastIndex(of: "@") {
                let credentials = hostPart[..<at]
                hostPart = hostPart[hostPart.index(after: at)...]
                if let colon = credentials.firstIndex(of: ":") {
                    let user = credentials[..<colon]
                    if !user.isEmpty { username = try Self.percentDecoded(user) }
                    password = try Self.percentDecoded(credentials[credentials.index(after: colon)...])
                } else if !credentials.isEmpty {
                    // redis-py reads a lone `redis://secret@host` as the password.
                    password = try Self.percentDecoded(credentials)
                }
            }
            var host = "localhost"
            var port = 6379
            if hostPart.hasPrefix("[") {
                guard let close = hostPart.firstIndex(of: "]") else {
                    throw .invalidConfiguration("\(url): unclosed [")
                }
                host = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
                let after = hostPart[hostPart.index(after: close)...]
                if after.hasPrefix(":") { port = try Self.port(after.dropFirst(), url) }
            } else if let colon = hostPart.lastIndex(of: ":") {
                if colon != hostPart.startIndex { host = String(hostPart[..<colon]) }
                port = try Self.port(hostPart[hostPart.index(after: colon)...], url)
            } else if !hostPart.isEmpty {
                host = String(hostPart)
            }
            endpoint = .tcp(host: host, port: port)
        default:
            throw .invalidConfiguration("\(url): unsupported scheme \(scheme) (redis://, rediss://, unix://)")
        }
        var tlsOptions: [Substring: String] = [:]
        for item in query.split(separator: "&") where !item.isEmpty {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = pair[0]
            let value = pair.count > 1 ? try Self.percentDecoded(pair[1]) : ""
            switch name {
            case "db":
                guard let db = Int(value), db >= 0 else { throw .invalidConfiguration("\(url): bad db=\(value)") }
                database = db
            case "password": password = value
            case "username": username = value
            case "client_name": clientName = value
            case "ssl_ca_certs", "ssl_cert_reqs", "ssl_check_hostname", "ssl_certfile", "ssl_keyfile":
                tlsOptions[name] = value
            case "protocol":
                guard value == "2" || value == "3" else { throw .invalidConfiguration("\(url): protocol is 2 or 3") }
                protocolVersion = Int(value)!
            default:
                throw .invalidConfiguration("\(url): unknown option \(name)")
            }
        }
        if scheme == "rediss" {
            tls = try Self.tlsContext(tlsOptions, url)
        } else if !tlsOptions.isEmpty {
            throw .invalidConfiguration("\(url): ssl_ options need rediss://")
        }
    }

    /// The client context the `ssl_*` options of a `rediss://` URL ask for (redis-py's names).
    private static func tlsContext(_ options: [Substring: String], _ url: String) throws(RedisError) -> TLSContext {
        var verification = CertificateVerification.fullVerification
        switch options["ssl_cert_reqs"]?.lowercased() {
        case nil, "required": break
        case "none": verification = .none
        case let other?: throw .invalidConfiguration("\(url): ssl_cert_reqs is none or required, not \(other)")
        }
        if verification == .fullVerification, let check = options["ssl_check_hostname"]?.lowercased() {
            guard ["true", "false"].contains(check) else {
                throw .invalidConfiguration("\(url): ssl_check_hostname is true or false")
            }
            if check == "false" { verification = .noHostnameVerification }
        }
        var configuration = TLSConfiguration.client(
            trustRoots: options["ssl_ca_certs"].map { .file($0) } ?? .system,
            verification: verification
        )
        configuration.certificateChainFile = options["ssl_certfile"]
        configuration.privateKeyFile = options["ssl_keyfile"]
        do {
            return try TLSContext(configuration)
        } catch {
            throw .invalidConfiguration("\(url): \(error)")
        }
    }

    private static func port(_ text: Substring, _ url: String) throws(RedisError) -> Int {
        guard let port = Int(text), (1...65_535).contains(port) else {
            throw .invalidConfiguration("\(url): bad port \(text)")
        }
        return port
    }

    /// `%XX` escapes decoded as UTF-8; a malformed escape is an error rather than a guess.
    static func percentDecoded(_ text: Substring) throws(RedisError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw .invalidConfiguration("bad percent escape in \(text)")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// The time limits of a request: aiohttp's `ClientTimeout`.
///
/// nil means no limit. `total` bounds the whole operation: waiting for a pooled connection,
/// connecting, sending, the response head and reading the body (until it was read to the end or
/// released), redirects included. `connect` bounds getting a connection (waiting for the pool
/// plus connecting); `sockConnect` bounds one connection attempt; `sockRead` bounds each wait for
/// bytes from the server (it runs only while the client waits for the server, not while a slow
/// consumer leaves the body unread).
///
/// Mirrors `aiohttp.ClientTimeout(total=300, connect=None, sock_read=None, sock_connect=30)`,
/// aiohttp's default. Deviation: `ceil_threshold` is not offered (our timers have nanosecond
/// precision and nothing is rounded).
public struct ClientTimeout: Sendable, Hashable {
    /// Which limit expired.
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
        /// ``ClientTimeout/total``.
        case total
        /// ``ClientTimeout/connect``.
        case connect
        /// ``ClientTimeout/sockConnect``.
        case sockConnect
        /// ``ClientTimeout/sockRead``.
        case sockRead

        public var description: String {
            switch self {
            case .total: "total"
            case .connect: "connect"
            case .sockConnect: "sock_connect"
            case .sockRead: "sock_read"
            }
        }
    }

    /// The whole request, redirects and body included.
    public var total: Duration?
    /// Getting a connection: waiting for a free one in the pool plus connecting.
    public var connect: Duration?
    /// One connection attempt to the server.
    public var sockConnect: Duration?
    /// Each wait for bytes from the server.
    public var sockRead: Duration?

    /// Creates limits; every argument defaults to aiohttp's default.
    public init(
        total: Duration? = .seconds(300),
        connect: Duration? = nil,
        sockConnect: Duration? = .seconds(30),
        sockRead: Duration? = nil
    ) {
        self.total = total
        self.connect = connect
        self.sockConnect = sockConnect
        self.sockRead = sockRead
    }

    /// aiohttp's `DEFAULT_TIMEOUT`: 5 minutes in total, 30 seconds per connection attempt.
    public static let `default` = ClientTimeout()

    /// No limit at all.
    public static let none = ClientTimeout(total: nil, connect: nil, sockConnect: nil, sockRead: nil)
}

import HTTP1Codec
import HTTPTypes

/// A parsed request head, as the talk's `handle_request(message, payload)` receives it.
///
/// It keeps the bytes the head arrived in and reads them lazily: nothing is decoded until asked
/// for, so a handler that looks only at the path pays for no field it ignores. ``headers`` builds
/// swift-http-types' `HTTPFields` on each access; keep the value if you use it more than once.
///
/// Mirrors aiohttp's `RawRequestMessage` (`method`, `path`, `version`, `headers`, `raw_headers`,
/// `should_close`, `upgrade`, `chunked`). Deviations: `version` is `HTTP1Codec`'s `HTTPVersion`
/// (with `major` and `minor`, as aiohttp's `HttpVersion` tuple); no `compression` (we decode no
/// content coding).
public struct RawRequestMessage: Sendable {
    /// The parsed head.
    public let head: RequestHead

    /// Wraps a head from `HTTP1Codec`'s parser.
    public init(head: RequestHead) {
        self.head = head
    }

    /// The method as it was sent, e.g. `GET`.
    public var method: String { String(decoding: head.methodBytes, as: UTF8.self) }

    /// The method as swift-http-types' type.
    public var httpMethod: HTTPRequest.Method { head.method }

    /// The request-target as sent: path and query (`/search?q=1`), undecoded.
    public var path: String { head.target }

    /// The request-target's bytes, for comparing without making a `String`.
    public var pathBytes: ArraySlice<UInt8> { head.targetBytes }

    /// The HTTP version.
    public var version: HTTPVersion { head.version }

    /// The header fields, converted to swift-http-types' `HTTPFields` (Host included).
    public var headers: HTTPFields { head.fields.makeHTTPFields() }

    /// The header fields as they arrived, names in their original case.
    public var rawHeaders: HTTPFieldLines { head.fields }

    /// Whether the connection closes after this request (version and `Connection`).
    public var shouldClose: Bool { !head.keepAlive }

    /// Whether the client asks to switch protocols (`Connection: upgrade` with `Upgrade`).
    public var upgrade: Bool { head.isUpgrade }

    /// Whether the body is chunked.
    public var chunked: Bool { head.framing == .chunked }

    /// Whether the client waits for `100 Continue` before sending the body.
    public var expectsContinue: Bool { head.expectsContinue }

    /// swift-http-types' request: method, scheme, authority (from Host), path, fields.
    public func makeHTTPRequest(scheme: String = "http") -> HTTPRequest { head.makeHTTPRequest(scheme: scheme) }
}

extension HTTPVersion {
    /// The major version: 1. Mirrors `HttpVersion.major`.
    public var major: Int { 1 }

    /// The minor version: 0 or 1. Mirrors `HttpVersion.minor`.
    public var minor: Int { self == .http1_1 ? 1 : 0 }
}

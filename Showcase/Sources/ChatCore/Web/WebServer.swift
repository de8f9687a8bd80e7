import AsyncIO
import AsyncIOHTTP
import FoundationEssentials
import HTTPTypes
import Logging

/// The HTTP side: the page (`/`, `/chat.css`, `/chat.js`), `/healthz`, `/metrics`, and the page's
/// WebSocket (`/ws`).
public final class WebServer {
    let hub: ChatHub
    let logger: Logger
    private var server: HTTPServer?

    public init(hub: ChatHub, logger: Logger) {
        self.hub = hub
        self.logger = logger
    }

    /// The port it listens on (0 before `start`).
    public var port: Int { server?.port ?? 0 }

    /// Starts listening on `host`:`port`.
    public func start(host: String?, port: Int, reusePort: Bool, loop: isolated EventLoop) async throws {
        let configuration = HTTPServerConfiguration(serverName: "swift-asyncio-chat")
        server = try await HTTPServer.start(
            host: host,
            port: port,
            configuration: configuration,
            logger: logger,
            reusePort: reusePort,
            loop: loop
        ) { [self] request in try await respond(to: request, loop: loop) }
    }

    /// Stops accepting, lets requests in progress finish for up to `timeout`.
    public func shutdown(timeout: Duration) async {
        await server?.shutdown(timeout: timeout)
    }

    private func respond(to request: Request, loop: isolated EventLoop) async throws -> StreamResponse {
        let path = request.rawPath.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard request.method == .get || request.method == .head else {
            throw HTTPError.methodNotAllowed(allowed: [.get, .head])
        }
        switch path {
        case "/", "/index.html": return page(Page.html, type: "text/html")
        case "/chat.css": return page(Page.css, type: "text/css")
        case "/chat.js": return page(Page.javascript, type: "text/javascript")
        case "/favicon.svg", "/favicon.ico": return page(Page.favicon, type: "image/svg+xml")
        case "/ws": return try await socket(request, loop: loop)
        case "/healthz": return health()
        case "/metrics":
            return Response(body: hub.metrics.exposition(), contentType: "text/plain; version=0.0.4", charset: "utf-8")
        default: throw HTTPError.notFound()
        }
    }

    private func page(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'self'; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
        return Response(text: text, headers: headers, contentType: type)
    }

    private func health() -> Response {
        struct Health: Encodable {
            var status: String
            var broker: String
            var degraded: Bool
            var clients: Int
            var rooms: Int
            /// With several loops: which one answered, and the clients of each.
            var loop: Int?
            var loops: [Int]?
        }
        let perLoop = hub.metrics.clientsPerLoop
        let health = Health(
            status: hub.isDegraded ? "degraded" : "ok",
            broker: hub.broker.name,
            degraded: hub.isDegraded,
            clients: perLoop.reduce(0, +),
            rooms: hub.metrics.roomCount,
            loop: perLoop.count > 1 ? hub.loopIndex : nil,
            loops: perLoop.count > 1 ? perLoop : nil
        )
        return (try? Response.json(health)) ?? Response(text: "ok")
    }
}

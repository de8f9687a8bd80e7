// `hummingbird-server PORT`: Hummingbird 2 answering `GET /` with `200 text/plain "Hello world!\r\n"`
// (its router's 404 for anything else), on one NIO event loop: the Hummingbird peer of
// Scripts/http-server.py. Route handlers run as Swift tasks, as Hummingbird runs them by default.
import Hummingbird
import Logging
import NIOCore
import NIOPosix

let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 8080
let router = Router()
let hello = ByteBuffer(string: "Hello world!\r\n")
router.get("/") { _, _ -> Response in
    Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: hello))
}
var logger = Logger(label: "hummingbird-server")
logger.logLevel = .warning
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), backlog: 4096),
    eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup(numberOfThreads: 1)),
    logger: logger
)
print("hummingbird-server listening on 127.0.0.1:\(port)")
try await app.runService()

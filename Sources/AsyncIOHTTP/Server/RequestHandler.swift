import AsyncIO
import HTTPTypes

/// What answers a request in the application API: a function from a request to a response.
///
/// Mirrors aiohttp's handler coroutines, `async def handler(request) -> web.StreamResponse`.
public typealias Handler = (Request) async throws -> StreamResponse

/// The connection protocol of a server with a handler function: aiohttp's
/// `web_protocol.RequestHandler`, made by ``HTTPServer`` and ``Application``.
///
/// For each request it makes a ``Request``, calls the handler, and sends the response it returns
/// (prepared and ended for it if the handler did not). An ``HTTPError`` thrown by the handler is
/// sent as its answer; any other error becomes a `500` and is logged.
final class RequestHandler: ServerHTTPProtocol {
    let pipeline: Pipeline

    init(context: HTTPServerContext, pipeline: Pipeline) {
        self.pipeline = pipeline
        super.init(context: context)
    }

    override func handleRequest(_ message: RawRequestMessage, _ payload: RequestBody) async throws {
        let request = Request(message: message, body: payload, connection: self)
        request.app = pipeline.app
        let response: StreamResponse
        do {
            response = try await pipeline.respond(to: request)
        } catch let error as HTTPError {
            response = Response(error)
        }
        if !response.isPrepared, let whole = response as? Response {
            // The usual answer, a whole body: committed, framed and flushed without the async
            // calls of `prepare` and `writeEOF` (the same steps, in the same order).
            whole.bind(to: self, exchange: request.exchangeNumber)
            _ = try whole.end(with: [])
            if writingPaused { try await waitForDrain() }
            return
        }
        if !response.isPrepared { try await response.prepare(request) }
        if !response.isFinished { try await response.writeEOF() }
    }
}

extension Response {
    /// The answer for an ``HTTPError``: its status, fields and text.
    convenience init(_ error: HTTPError) {
        self.init(
            text: error.body,
            status: error.status,
            reason: error.reason,
            headers: error.headers
        )
    }
}

/// AsyncIOHTTP: an HTTP/1.1 server (and client) on AsyncIO's loop — aiohttp's job.
///
/// Table of contents:
/// - `Connection/`: one connection. `HTTPConnectionStateMachine` makes every decision (keep-alive,
///   draining, closing, pausing, deadlines) with no I/O; `ServerHTTPProtocol` is the
///   `ConnectionProtocol` that drives `HTTP1Codec`'s parser with it and runs the handler task;
///   `RequestBody` is the request body stream; `ResponseWriter` frames responses into the
///   connection's output buffer; `RawRequestMessage` is the talk's `message`.
/// - `Server/`: `HTTPServer` (listening, graceful shutdown), `RequestHandler` (a handler function
///   as a connection protocol: aiohttp's `web.Server`), `HTTPError`, `AccessLogger`, `DateCache`.
/// - `Router/`: the application API — `Request`, `Response`, `StreamResponse`, `Cookie`.
/// - `Client/`: `ClientSession` and its connection pool.

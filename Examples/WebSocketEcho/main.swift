// A page that echoes what you type over a WebSocket, and a clock over server-sent events, served
// by the same program on the application API:
//
//   GET /        the page (a text field, a log, a few lines of JavaScript)
//   GET /ws      WebSocket: every text or binary message comes back as it was sent
//   GET /events  server-sent events: `tick` every second, resuming from Last-Event-ID
//
// It listens on 127.0.0.1, prints the bound address, and exits cleanly on SIGTERM or SIGINT.
//
// Usage: swift run WebSocketEcho [--port N]   (default 8080; 0 picks a free port)
import AsyncIO
import AsyncIOHTTP
import Glibc

/// Writes a line to stdout at once, so that a test reading the pipe sees it.
func say(_ line: String, fd: Int32 = 1) {
    let text = line + "\n"
    _ = text.withCString { write(fd, $0, strlen($0)) }
}

let page = """
    <!doctype html>
    <html><head><meta charset="utf-8"><title>WebSocket echo</title></head>
    <body>
    <h1>WebSocket echo</h1>
    <form id="form"><input id="input" autocomplete="off" autofocus> <button>Send</button></form>
    <p>Clock (server-sent events): <span id="clock">-</span></p>
    <ol id="log"></ol>
    <script>
    const log = (text) => { const li = document.createElement("li"); li.textContent = text; document.getElementById("log").append(li); };
    const ws = new WebSocket(`ws://${location.host}/ws`);
    ws.onopen = () => { document.body.dataset.ws = "open"; };
    ws.onmessage = (event) => log(event.data);
    ws.onclose = (event) => { document.body.dataset.ws = "closed " + event.code; };
    document.getElementById("form").onsubmit = (event) => {
      event.preventDefault();
      const input = document.getElementById("input");
      ws.send(input.value);
      input.value = "";
    };
    const events = new EventSource("/events");
    events.addEventListener("tick", (event) => { document.getElementById("clock").textContent = event.data; });
    </script>
    </body></html>
    """

/// Parses `--port N`; exits with status 2 on anything else. (A function, so that `port` is a
/// top-level `let`: a top-level `var` would belong to the main actor, which never runs here.)
func parsePort() -> Int {
    var port = 8080
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        guard argument == "--port", let value = arguments.popFirst().flatMap({ Int($0) }), (0...65_535).contains(value)
        else {
            say("usage: WebSocketEcho [--port N]", fd: 2)
            exit(2)
        }
        port = value
    }
    return port
}

let port = parsePort()

try run { loop in
    let stop = loop.createFuture(of: Void.self)
    for signal in [SIGTERM, SIGINT] {
        try loop.addSignalHandler(signal) { try? stop.setResult(()) }
    }
    let server = try await HTTPServer.start(host: "127.0.0.1", port: port, loop: loop) { request in
        switch request.rawPath {
        case "/":
            return Response(text: page, contentType: "text/html")
        case "/ws":
            let ws = WebSocketResponse(options: WebSocketOptions(heartbeat: .seconds(30)))
            try await ws.prepare(request)
            for try await message in ws {
                switch message {
                case .text(let text): try await ws.send(text: text)
                case .binary(let bytes): try await ws.send(bytes)
                default: break
                }
            }
            return ws
        case "/events":
            let events = EventSourceResponse()
            try await events.prepare(request)
            var tick = Int(events.lastEventID ?? "") ?? 0
            while true {
                tick += 1
                try await events.send("\(tick)", event: "tick", id: String(tick))
                try await sleep(.seconds(1))
            }
        default:
            throw HTTPError.notFound()
        }
    }
    say("WebSocketEcho listening on: 127.0.0.1:\(server.port) (open http://127.0.0.1:\(server.port)/)")
    try await stop.value
    await server.shutdown(timeout: .seconds(1))
}

import AsyncIO
import AsyncIOHTTP
import HTTPTypes
import WebSocketCodec

extension WebServer {
    /// The page's WebSocket: JSON messages in (``ClientCommand/init(json:)``), events and replies
    /// out, through a ``WebConnection``.
    func socket(_ request: Request, loop: isolated EventLoop) async throws -> StreamResponse {
        let address = request.remote?.host ?? "?"
        guard hub.admit(address: address) else {
            return Response(
                text: "too many connections from \(address); try again in a few seconds\n",
                status: .tooManyRequests
            )
        }
        // A chat message is at most `maxMessageBytes`; its JSON, escaped, a little more.
        let limits = WebSocketLimits(maxMessageSize: hub.limits.maxMessageBytes * 6 + 1024)
        let socket = WebSocketResponse(options: WebSocketOptions(limits: limits, heartbeat: .seconds(30)))
        try await socket.prepare(request)
        if let descriptor = request.transport.extraInfo.fileDescriptor {
            limitKernelSendBuffer(descriptor)
        }
        let connection = WebConnection(
            socket: socket,
            transport: request.transport,
            maxOutgoingBytes: hub.limits.maxOutgoingBytes
        )
        let client = hub.register(address: address, kind: .web, connection: connection)
        // The session is a task of its own, so that the client's rooms are always left, even if
        // this handler is cancelled (the connection dropped).
        let session = loop.createTask { [self] in await serve(client, connection, loop: loop) }
        _ = try? await shield(session).value
        return socket
    }

    private func serve(_ client: ChatClient, _ connection: WebConnection, loop: isolated EventLoop) async {
        var reason = "disconnected"
        do {
            for try await message in connection.socket {
                guard let text = message.text else {
                    client.send(Reply(.error, text: "binary messages are not chat messages"))
                    continue
                }
                guard let command = ClientCommand(json: text.utf8) else {
                    client.send(Reply(.error, text: "not a chat message (JSON with a \"type\")"))
                    continue
                }
                await hub.handle(command, from: client)
                if client.isClosing { break }
            }
        } catch {
            reason = "connection lost"
        }
        await hub.disconnected(client, reason: reason)
    }
}

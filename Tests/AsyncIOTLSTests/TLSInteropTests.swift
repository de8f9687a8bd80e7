import AsyncIO
import AsyncIOTLS
import Glibc
import Testing

/// Python's `ssl`: a one-connection server that echoes a line with its TLS facts, then ends the
/// connection cleanly (`unwrap`: close_notify) or not (a bare TCP shutdown).
private let pythonServer = """
    import socket, ssl, sys
    port, cert, key, clean = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "clean"
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["echo"])
    with socket.create_server(("127.0.0.1", port)) as listener:
        raw, _ = listener.accept()
        conn = context.wrap_socket(raw, server_side=True)
        line = conn.recv(1024)
        conn.sendall(line.upper() + f" {conn.version()} {conn.selected_alpn_protocol()}".encode())
        if clean:
            conn.unwrap().close()
        else:
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()
    """

/// Python's `ssl` as a client with the default context: verification and host name checks on.
private let pythonClient = """
    import socket, ssl, sys
    port, ca = int(sys.argv[1]), sys.argv[2]
    context = ssl.create_default_context(cafile=ca)
    context.set_alpn_protocols(["echo"])
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as conn:
            conn.sendall(b"hello from python\\n")
            data = b""
            while not data.endswith(b"\\n"):
                chunk = conn.recv(1024)
                if not chunk:
                    break
                data += chunk
            print(data.decode().strip(), conn.version(), conn.selected_alpn_protocol(), conn.cipher()[0])
    """

@Suite struct TLSInteropTests {
    /// Our echo server for the foreign clients: a line back, then close (close_notify).
    private static func lineEchoServer(_ loop: isolated EventLoop) async throws -> (Server, Int) {
        let server = try await loop.startServer(host: "127.0.0.1", port: 0, tls: try PKI.server(alpn: ["echo"])) {
            reader,
            writer in
            let line = try await reader.readLine()
            try writer.write("echo: ")
            try writer.write(line)
            writer.close()
            try await writer.waitClosed()
        }
        return (server, try server.sockets[0].localAddress().port!)
    }

    @Test func opensslSClientTalksToOurServer() async throws {
        let result = try await EventLoopThread.run { loop in
            let (server, port) = try await Self.lineEchoServer(loop)
            defer { server.close() }
            return try await Peer.run(
                "openssl",
                [
                    "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", PKI.ca, "-servername", "localhost",
                    "-verify_hostname", "localhost", "-verify_return_error", "-alpn", "echo", "-ign_eof",
                ],
                input: "hello from s_client\n"
            )
        }
        #expect(result.status == 0)
        #expect(result.output.contains("echo: hello from s_client"))
        #expect(result.output.contains("Verify return code: 0 (ok)"))
        #expect(result.output.contains("ALPN protocol: echo"))
    }

    @Test func ourClientTalksToOpensslSServer() async throws {
        let port = try Peer.freePort()
        let reply = try await EventLoopThread.run { loop in
            let peer = loop.runInExecutor {
                try Peer.runBlocking(
                    "openssl",
                    [
                        "s_server", "-accept", "127.0.0.1:\(port)", "-cert", PKI.path("server.pem"), "-key",
                        PKI.path("server.key"), "-rev", "-naccept", "1", "-tls1_2",
                    ],
                    seconds: 30
                )
            }
            let (reader, writer) = try await openWhenListening(
                loop,
                port: port,
                tls: try PKI.client(),
                serverHostname: "localhost"
            )
            try writer.write("olleh\n")
            let reply = try await reader.readUntil(Array("hello".utf8))
            let version = writer.tlsInfo?.version ?? "-"
            writer.close()
            try await writer.waitClosed()
            _ = try await peer.value
            return [String(decoding: reply, as: UTF8.self).components(separatedBy: "\n").last ?? "", version]
        }
        #expect(reply == ["hello", "TLSv1.2"])
    }

    @Test func pythonSSLClientTalksToOurServer() async throws {
        let result = try await EventLoopThread.run { loop in
            let (server, port) = try await Self.lineEchoServer(loop)
            defer { server.close() }
            return try await Peer.run("python3", ["-c", pythonClient, "\(port)", PKI.ca])
        }
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.hasPrefix("echo: hello from python TLSv1.3 echo TLS_"))
    }

    @Test(arguments: [true, false])
    func ourClientTalksToPythonSSLServer(clean: Bool) async throws {
        let port = try Peer.freePort()
        let outcome = try await EventLoopThread.run { loop in
            let peer = loop.runInExecutor {
                try Peer.runBlocking(
                    "python3",
                    [
                        "-c", pythonServer, "\(port)", PKI.path("server.pem"), PKI.path("server.key"),
                        clean ? "clean" : "ragged",
                    ],
                    seconds: 30
                )
            }
            let (reader, writer) = try await openWhenListening(
                loop,
                port: port,
                tls: try PKI.client(alpn: ["echo"]),
                serverHostname: "localhost"
            )
            try writer.write("hi")
            // Read to EOF: a close_notify-less EOF is an EOF too (as in asyncio), told apart by
            // `receivedCloseNotify`.
            let reply = String(decoding: try await reader.read(-1), as: UTF8.self)
            let closeNotify = (writer.transport as? TLSTransport)?.receivedCloseNotify
            writer.close()
            try await writer.waitClosed()
            let status = try await peer.value.status
            return [reply, "\(closeNotify.map { "\($0)" } ?? "-")", "\(status)"]
        }
        #expect(outcome == ["HI TLSv1.3 echo", "\(clean)", "0"])
    }
}

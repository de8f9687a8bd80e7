import AsyncIO
import AsyncIOTLS
import Glibc
import Testing

/// Our client against our server, over loopback: streams, protocols, ALPN, STARTTLS, flow control.
@Suite struct TLSStreamTests {
    @Test func streamsEchoOverTLSWithALPNAndExtraInfo() async throws {
        let server = try PKI.server(alpn: ["echo", "http/1.1"])
        let client = try PKI.client(alpn: ["http/1.1"])
        let summary = try await EventLoopThread.run { loop in
            var serverSide: TLSInfo?
            let listening = try await loop.startServer(host: "127.0.0.1", port: 0, tls: server) { reader, writer in
                serverSide = writer.tlsInfo
                for try await line in reader {
                    try writer.write(line)
                    try await writer.drain()
                }
                writer.close()
            }
            let port = try listening.sockets[0].localAddress().port!
            let (reader, writer) = try await loop.openConnection(host: "localhost", port: port, tls: client)
            try writer.write("hello\n")
            try writer.writeLines([Array("over ".utf8), Array("TLS\n".utf8)])
            let echoed = String(decoding: try await reader.readLine() + (try await reader.readLine()), as: UTF8.self)
            let info = try #require(writer.tlsInfo)
            writer.close()
            try await writer.waitClosed()
            listening.close()
            try await listening.waitClosed()
            let certificate = try #require(info.peerCertificate)
            return [
                echoed, info.version, info.alpnProtocol ?? "-", info.serverName ?? "-", certificate.subject,
                certificate.subjectAlternativeNames.joined(separator: ","), "\(info.cipher.hasPrefix("TLS_"))",
                "\(certificate.der.count > 100)", serverSide?.serverName ?? "-", serverSide?.alpnProtocol ?? "-",
                "\(serverSide?.peerCertificate == nil)",
            ]
        }
        #expect(
            summary == [
                "hello\nover TLS\n", "TLSv1.3", "http/1.1", "localhost", "CN=localhost,O=swift-asyncio tests",
                "DNS:localhost,IP Address:127.0.0.1", "true", "true", "localhost", "http/1.1", "true",
            ]
        )
    }

    @Test func protocolsSeeAnOrdinaryTransportAndFlowControlPassesThrough() async throws {
        let server = try PKI.server()
        let client = try PKI.client()
        let outcome = try await EventLoopThread.run { loop in
            // The server's protocol stops reading: the client's writes pile up in its socket
            // buffer, and the client's protocol is paused; reading again resumes it.
            let receiver = Recorder()
            let listening = try await loop.createServer({ receiver }, host: "127.0.0.1", port: 0, tls: server)
            let port = try listening.sockets[0].localAddress().port!
            let sender = Recorder()
            let (transport, _) = try await loop.createConnection({ sender }, host: "127.0.0.1", port: port, tls: client)
            while receiver.transport == nil { try await sleep(.milliseconds(1)) }
            receiver.transport?.pauseReading()
            let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
            var sent = 0
            while !sender.events.contains("pause") && sent < 64 * 1024 * 1024 {
                try transport.write(chunk)
                sent += chunk.count
                try await sleep(.milliseconds(1))
            }
            let pausedOverHigh = transport.writeBufferSize > transport.writeBufferLimits.high
            receiver.transport?.resumeReading()
            while receiver.received.count < sent { try await sleep(.milliseconds(1)) }
            transport.close()
            try await sender.lost.wait()
            try await receiver.lost.wait()
            listening.close()
            return [
                "\(sender.events)", "\(receiver.events)", "\(pausedOverHigh)",
                "\(receiver.received.count == sent)", "\(transport is TLSTransport)",
            ]
        }
        #expect(outcome[0] == #"["made", "pause", "resume", "lost"]"#)
        #expect(outcome[1] == #"["made", "eof", "lost"]"#)
        #expect(outcome[2...] == ["true", "true", "true"])
    }

    @Test func startTLSUpgradesALivePlaintextStream() async throws {
        let server = try PKI.server()
        let client = try PKI.client()
        let lines = try await EventLoopThread.run { loop in
            let listening = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                guard try await reader.readLine() == Array("STARTTLS\n".utf8) else { return writer.close() }
                try writer.write("GO\n")
                try await writer.startTLS(server)
                let line = try await reader.readLine()
                try writer.write("secure \(writer.tlsInfo?.version ?? "none"): ")
                try writer.write(line)
                writer.close()
            }
            let port = try listening.sockets[0].localAddress().port!
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port)
            try writer.write("STARTTLS\n")
            let go = String(decoding: try await reader.readLine(), as: UTF8.self)
            let before = writer.tlsInfo == nil
            try await writer.startTLS(client, serverHostname: "localhost")
            try writer.write("hello\n")
            let reply = String(decoding: try await reader.read(-1), as: UTF8.self)
            writer.close()
            listening.close()
            return [go, "\(before)", reply, writer.tlsInfo?.version ?? "none"]
        }
        #expect(lines == ["GO\n", "true", "secure TLSv1.3: hello\n", "TLSv1.3"])
    }

    @Test(arguments: [
        ("expired", "localhost", "certificate has expired"),
        ("selfsigned", "localhost", "self-signed certificate"),
        ("server", "example.com", "hostname mismatch"),
        ("server", "127.0.0.2", "IP address mismatch"),
    ])
    func badCertificatesAreRefusedByDefault(stem: String, name: String, reason: String) async throws {
        let server = try PKI.server(stem)
        let client = try PKI.client()
        let (error, reachedServer) = try await EventLoopThread.run { loop in
            var reachedServer = false
            let listening = try await loop.startServer(host: "127.0.0.1", port: 0, tls: server) { _, writer in
                reachedServer = true
                writer.close()
            }
            let port = try listening.sockets[0].localAddress().port!
            var caught: TLSError?
            do {
                _ = try await loop.openConnection(host: "127.0.0.1", port: port, tls: client, serverHostname: name)
            } catch let error as TLSError {
                caught = error
            }
            try await sleep(.milliseconds(50))
            listening.close()
            return (caught, reachedServer)
        }
        #expect(error == .certificateVerificationFailed(reason))
        #expect(!reachedServer)
    }

    @Test func withoutVerificationAnyCertificateIsAccepted() async throws {
        let server = try PKI.server("selfsigned")
        let client = try TLSContext(.client(verification: .none))
        let version = try await EventLoopThread.run { loop in
            let listening = try await loop.startServer(host: "127.0.0.1", port: 0, tls: server) { _, writer in
                writer.close()
            }
            let port = try listening.sockets[0].localAddress().port!
            let (_, writer) = try await loop.openConnection(host: "127.0.0.1", port: port, tls: client)
            defer { writer.close() }
            listening.close()
            return writer.tlsInfo?.version
        }
        #expect(version == "TLSv1.3")
    }

    @Test func aPeerThatStopsMidHandshakeFailsTheHandshake() async throws {
        let client = try PKI.client()
        let errors = try await EventLoopThread.run { loop in
            // A server that reads the ClientHello and then closes, and one that never answers.
            let closing = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
                _ = try await reader.read(100)
                writer.close()
            }
            let silent = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, _ in
                _ = try await reader.read(-1)
            }
            var errors: [String] = []
            for (server, timeout) in [(closing, Duration.seconds(10)), (silent, .milliseconds(200))] {
                do {
                    _ = try await loop.openConnection(
                        host: "127.0.0.1",
                        port: try server.sockets[0].localAddress().port!,
                        tls: client,
                        serverHostname: "localhost",
                        handshakeTimeout: timeout
                    )
                    errors.append("connected")
                } catch {
                    errors.append("\(error)")
                }
                server.close()
            }
            return errors
        }
        #expect(errors == ["\(TLSError.closedDuringHandshake)", "\(TLSError.handshakeTimeout)"])
    }

    @Test func aServerDropsAClientThatStopsMidHandshakeAndGoesOn() async throws {
        let server = try PKI.server()
        let client = try PKI.client()
        let reply = try await EventLoopThread.run { loop in
            let listening = try await loop.startServer(
                host: "127.0.0.1",
                port: 0,
                tls: server,
                handshakeTimeout: .milliseconds(300)
            ) { reader, writer in
                try writer.write(try await reader.readLine())
                writer.close()
            }
            let port = try listening.sockets[0].localAddress().port!
            // Half a ClientHello, then EOF; then a client that sends nothing at all.
            let (_, half) = try await loop.openConnection(host: "127.0.0.1", port: port)
            try half.write([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])
            try half.writeEOF()
            let (mute, _) = try await loop.openConnection(host: "127.0.0.1", port: port)
            let (reader, writer) = try await loop.openConnection(
                host: "127.0.0.1",
                port: port,
                tls: client,
                serverHostname: "localhost"
            )
            try writer.write("still serving\n")
            let line = String(decoding: try await reader.readLine(), as: UTF8.self)
            let muteEnded = try await mute.read(-1).isEmpty
            writer.close()
            half.close()
            listening.close()
            return [line, "\(muteEnded)"]
        }
        #expect(reply == ["still serving\n", "true"])
    }

    @Test func contextsRefuseBadConfiguration() throws {
        #expect(throws: TLSError.self) { try TLSContext(.server(certificateChainFile: "/nonexistent.pem")) }
        #expect(throws: TLSError.self) { try TLSContext(.client(trustRoots: .file("/nonexistent.pem"))) }
        #expect(throws: TLSError.self) {
            try TLSContext(
                .server(certificateChainFile: PKI.path("server.pem"), privateKeyFile: PKI.path("client.key"))
            )
        }
        #expect(throws: TLSError.self) { try TLSContext(.client(alpnProtocols: [""])) }
        var old = TLSConfiguration.client()
        old.maximumVersion = .v1_2
        old.minimumVersion = .v1_3
        #expect(throws: TLSError.self) { try TLSContext(old) }
    }
}

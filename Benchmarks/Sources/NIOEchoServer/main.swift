// nio-echo-server PORT [--tls CERT KEY]: the SwiftNIO peer of the echo benchmark (`Scripts/echo.py`).
//
// One event loop thread, as every server in the benchmark has. The handler writes each read back
// and flushes once per read burst (`channelReadComplete`), which is how NIO's own echo example
// and its users write it. While the channel is not writable (over its write-buffer high-water
// mark) it stops reading, so a client that does not read cannot grow the server, as with the
// other servers. Listens on 127.0.0.1 (PORT 0 picks one), prints "listening on 127.0.0.1:PORT",
// and exits with status 0 on SIGTERM or SIGINT. With --tls, each connection goes through NIOSSL's
// server handler first (BoringSSL; TLS 1.2 minimum, as the other TLS servers).
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Stop reading while the peer does not take what we already owe it.
        do {
            try context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: context.channel.isWritable)
        } catch {
            context.close(promise: nil)
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 2 || (arguments.count == 5 && arguments[2] == "--tls"), let port = Int(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: nio-echo-server PORT [--tls CERT KEY]\n".utf8))
    exit(2)
}
let tls: NIOSSLContext? =
    arguments.count == 5
    ? try NIOSSLContext(
        configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(arguments[3]).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: arguments[4], format: .pem))
        )
    ) : nil

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(ChannelOptions.backlog, value: 1024)
    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
            try channel.pipeline.syncOperations.addHandler(EchoHandler())
        }
    }
let channel = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
// Written straight to the descriptor, so a driver reading a pipe sees it at once.
FileHandle.standardOutput.write(Data("listening on 127.0.0.1:\(channel.localAddress?.port ?? port)\n".utf8))

// SIGTERM and SIGINT close the listener; `closeFuture` then lets the main thread end.
signal(SIGTERM, SIG_IGN)
signal(SIGINT, SIG_IGN)
var sources: [any DispatchSourceSignal] = []
for number in [SIGTERM, SIGINT] {
    let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
    source.setEventHandler { channel.close(promise: nil) }
    source.resume()
    sources.append(source)
}
try channel.closeFuture.wait()
try group.syncShutdownGracefully()

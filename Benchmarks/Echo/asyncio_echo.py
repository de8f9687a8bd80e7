"""asyncio echo servers: the Python side of the echo benchmark.

    python asyncio_echo.py PORT protocol|streams [--uvloop] [--tls CERT KEY]

protocol: a Protocol whose data_received writes the bytes back and which
          pauses reading while the transport is over its high-water mark.
streams:  asyncio.start_server; each client loops on read(65536), write,
          drain().
Listens on 127.0.0.1 (PORT 0 picks one), prints "listening on
127.0.0.1:PORT", and exits with status 0 on SIGTERM or SIGINT. With
--uvloop the same code runs on uvloop's loop. With --tls the server speaks
TLS (ssl=, Python's default server context with the certificate and key).
"""

import asyncio
import signal
import ssl
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


async def echo_client(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(port, mode, context=None):
    loop = asyncio.get_running_loop()
    if mode == "protocol":
        server = await loop.create_server(Echo, "127.0.0.1", port, backlog=1024, ssl=context)
    elif mode == "streams":
        server = await asyncio.start_server(echo_client, "127.0.0.1", port, backlog=1024, ssl=context)
    else:
        sys.exit(f"unknown mode {mode}")
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    print(f"listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await stop
    server.close()


def main():
    args = sys.argv[1:]
    use_uvloop = "--uvloop" in args
    args = [a for a in args if a != "--uvloop"]
    context = None
    if "--tls" in args:
        at = args.index("--tls")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args[at + 1], args[at + 2])
        del args[at:at + 3]
    if len(args) != 2:
        sys.exit(__doc__)
    if use_uvloop:
        import uvloop

        uvloop.run(serve(int(args[0]), args[1], context))
    else:
        asyncio.run(serve(int(args[0]), args[1], context))


if __name__ == "__main__":
    main()

"""A `websockets` echo server for our client's tests: prints `PORT <n>`, echoes every message,
answers "close-me" by closing with 4001, and speaks the subprotocol "chat" when offered.

`ws_echo_server.py --tls CERT KEY` serves wss:// with that certificate."""
import asyncio
import ssl
import sys

import websockets


async def echo(ws):
    async for message in ws:
        if message == "close-me":
            await ws.close(4001, "as asked")
            return
        await ws.send(message)


async def main():
    context = None
    if "--tls" in sys.argv:
        cert, key = sys.argv[sys.argv.index("--tls") + 1:][:2]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    async with websockets.serve(echo, "127.0.0.1", 0, subprotocols=["chat"], max_size=None,
                                ssl=context) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.Future()

asyncio.run(main())

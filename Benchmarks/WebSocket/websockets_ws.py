"""The `websockets` library's echo server (the peer of Scripts/ws.py); 16 MiB messages, no
compression."""
import asyncio
import signal
import sys

import websockets


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(echo, "127.0.0.1", int(sys.argv[1]), compression=None, max_size=16 << 20):
        await stop

asyncio.run(main())

"""Echo checks against WebSocketBench: text, binary, and a 16 MiB message, with `websockets`."""
import asyncio
import os
import sys

import websockets


async def main(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/", max_size=None, compression=None) as ws:
        await ws.send("hello")
        text = await ws.recv()
        big = os.urandom(16 << 20)
        await ws.send(big)
        echoed = await ws.recv()
        print("ECHO", text, echoed == big, flush=True)

asyncio.run(main(int(sys.argv[1])))

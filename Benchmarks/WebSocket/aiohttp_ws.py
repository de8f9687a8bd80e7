"""aiohttp's WebSocket echo server (the peer of Scripts/ws.py): every text and binary message
comes back; 16 MiB messages, no compression. `--uvloop` runs it on uvloop."""
import asyncio
import sys

from aiohttp import WSMsgType, web


async def echo(request):
    ws = web.WebSocketResponse(max_msg_size=16 << 20, compress=False)
    await ws.prepare(request)
    async for message in ws:
        if message.type == WSMsgType.TEXT:
            await ws.send_str(message.data)
        elif message.type == WSMsgType.BINARY:
            await ws.send_bytes(message.data)
    return ws


def main():
    port = int(sys.argv[1])
    if "--uvloop" in sys.argv:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = web.Application()
    app.router.add_get("/", echo)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, backlog=4096)


main()

"""aiohttp's hello-world server, the aiohttp peer of http-server.py.

Usage: python aiohttp_server.py PORT [asyncio|uvloop]
`GET /` answers `200 text/plain "Hello world!\\r\\n"`; no access log. Runs until SIGTERM/SIGINT.
"""
import sys

from aiohttp import web

HELLO = b"Hello world!\r\n"


async def hello(request):
    return web.Response(body=HELLO, content_type="text/plain")


def main():
    port = int(sys.argv[1])
    loop = sys.argv[2] if len(sys.argv) > 2 else "asyncio"
    event_loop = None
    if loop == "uvloop":
        import uvloop

        event_loop = uvloop.new_event_loop()
    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, loop=event_loop)


if __name__ == "__main__":
    main()

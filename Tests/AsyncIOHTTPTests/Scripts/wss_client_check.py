"""The `websockets` client against our server over TLS (WebSocketTLSTests.swift).

Usage: wss_client_check.py URL CAFILE. Prints one line per check; the Swift test compares them.
"""
import asyncio
import ssl
import sys

import websockets


async def main(url, cafile):
    context = ssl.create_default_context(cafile=cafile)
    async with websockets.connect(url, ssl=context, compression=None, max_size=None) as ws:
        await ws.send("héllo over tls")
        text = await ws.recv()
        big = bytes(range(256)) * 4096
        await ws.send(big)
        echoed = await ws.recv()
        print("WSS", text, echoed == big, ws.transport.get_extra_info("ssl_object").version())
    print("WSS CLOSE", ws.close_code)
    # A client that trusts nothing but the system's roots refuses our test certificate.
    try:
        async with websockets.connect(url, ssl=ssl.create_default_context()):
            print("WSS UNTRUSTED accepted")
    except ssl.SSLCertVerificationError:
        print("WSS UNTRUSTED refused")

asyncio.run(main(sys.argv[1], sys.argv[2]))

"""Real clients against our WebSocket server (WebSocketServerTests.swift starts it).

Usage: ws_server_check.py PORT. Prints one line per check; the Swift test compares them.
Clients: the `websockets` library, aiohttp's client, and raw sockets for what a library would
not send (a 1 GiB length, invalid UTF-8, an unmasked frame, a vanishing or never-reading peer).
"""
import asyncio
import base64
import os
import socket
import struct
import sys
import time
import urllib.request

import aiohttp
import websockets

PORT = int(sys.argv[1])
BASE = f"127.0.0.1:{PORT}"


def stats():
    with urllib.request.urlopen(f"http://{BASE}/stats", timeout=5) as response:
        return response.read().decode()


async def with_websockets():
    async with websockets.connect(f"ws://{BASE}/echo", subprotocols=["superchat", "chat"],
                                  compression=None, max_size=None) as ws:
        await ws.send("héllo")
        text = await ws.recv()
        await ws.send(bytes(range(256)))
        binary = await ws.recv()
        await ws.send(["frag", "men", "ted"])
        fragmented = await ws.recv()
        big = os.urandom(3 << 20)
        await ws.send(big)
        echoed_big = await ws.recv()
        latency = await (await ws.ping(b"x"))
        print("WEBSOCKETS", text, binary == bytes(range(256)), fragmented, echoed_big == big,
              ws.subprotocol, latency >= 0)
    print("WEBSOCKETS CLOSE", ws.close_code)
    async with websockets.connect(f"ws://{BASE}/deflate", max_size=None) as ws:
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        message = "compress me " * 10000
        await ws.send(message)
        same = await ws.recv() == message
        await ws.send(message.encode())
        same_bytes = await ws.recv() == message.encode()
        print("DEFLATE", extensions.startswith("permessage-deflate"), same, same_bytes)


async def with_aiohttp():
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"http://{BASE}/echo") as ws:
            await ws.send_str("from aiohttp")
            first = await ws.receive()
            await ws.send_bytes(b"\x00" * 70000)
            second = await ws.receive()
            await ws.close()
            print("AIOHTTP", first.data, len(second.data), ws.close_code)
        async with session.ws_connect(f"http://{BASE}/deflate", compress=15) as ws:
            await ws.send_str("squeeze " * 5000)
            reply = await ws.receive()
            print("AIOHTTP DEFLATE", ws.compress, reply.data == "squeeze " * 5000)
            await ws.close()


def upgrade(path, extra=b"", rcvbuf=None, origin=None):
    sock = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    key = base64.b64encode(os.urandom(16))
    head = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n" + extra + b"\r\n")
    sock.sendall(head)
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(1)
        if not chunk:
            break
        response += chunk
    return sock, response.split(b"\r\n")[0].decode()


def frame(opcode, payload, mask=True, declared=None, fin=True):
    length = len(payload) if declared is None else declared
    out = bytes([(0x80 if fin else 0) | opcode])
    bit = 0x80 if mask else 0
    if length < 126:
        out += bytes([bit | length])
    elif length < 65536:
        out += bytes([bit | 126]) + struct.pack("!H", length)
    else:
        out += bytes([bit | 127]) + struct.pack("!Q", length)
    if not mask:
        return out + payload
    key = os.urandom(4)
    return out + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_frame(sock):
    head = sock.recv(2, socket.MSG_WAITALL)
    if len(head) < 2:
        return None, b""
    length = head[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", sock.recv(2, socket.MSG_WAITALL))[0]
    elif length == 127:
        length = struct.unpack("!Q", sock.recv(8, socket.MSG_WAITALL))[0]
    return head[0] & 0x0F, sock.recv(length, socket.MSG_WAITALL) if length else b""


def close_code_after(data):
    sock, status = upgrade("/echo")
    sock.sendall(data)
    opcode, payload = read_frame(sock)
    eof = sock.recv(1) == b""
    sock.close()
    return status, opcode, struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None, eof


def raw_checks():
    status, opcode, code, eof = close_code_after(frame(2, b"", declared=1 << 30))
    print("HUGE", status, opcode, code, eof)
    print("BADUTF8", *close_code_after(frame(1, b"ok \xed\xa0\x80"))[1:])
    print("UNMASKED", *close_code_after(frame(1, b"hi", mask=False))[1:])
    print("RESERVED", *close_code_after(frame(3, b""))[1:])
    # A peer that vanishes: no close frame, the socket just closes.
    sock, _ = upgrade("/echo")
    sock.sendall(frame(1, b"last words"))
    read_frame(sock)
    sock.close()
    # A peer that never reads: the server's sends must stop once its buffers are full.
    sock, status = upgrade("/flood", rcvbuf=65536)
    time.sleep(1.5)
    first = int(stats().split()[0].split("=")[1])
    time.sleep(1.0)
    second = int(stats().split()[0].split("=")[1])
    print("NEVER-READS", status, first == second, first < 200)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    # A peer that does not answer pings: the heartbeat drops it.
    sock, _ = upgrade("/heartbeat")
    first, _ = read_frame(sock)
    started = time.monotonic()
    while read_frame(sock)[0] is not None:
        pass
    print("HEARTBEAT", first, time.monotonic() - started < 5)
    sock.close()


def handshake_checks():
    def status_of(request):
        sock = socket.create_connection(("127.0.0.1", PORT), timeout=10)
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        sock.close()
        head = data.split(b"\r\n\r\n")[0].decode()
        return head.split("\r\n")[0].split(" ")[1], head
    plain, _ = status_of(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    version, head = status_of(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
    key, _ = status_of(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n")
    _, refused = upgrade("/origin", extra=b"Origin: http://evil.example\r\n")
    _, allowed = upgrade("/origin", extra=b"Origin: http://good.example\r\n")
    print("HANDSHAKE", plain, version, "Sec-WebSocket-Version: 13" in head, key, refused, allowed)


asyncio.run(with_websockets())
asyncio.run(with_aiohttp())
raw_checks()
handshake_checks()
time.sleep(0.5)
print("CLOSES", stats().split()[1])

"""The page's WebSocket (/ws) with Python's websockets client: the JSON protocol, limits, a page
that stops reading, shutdown."""
import asyncio
import json
import socket

import websockets


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 30))


async def connect(chat):
    socket = await websockets.connect(f"ws://127.0.0.1:{chat.http_port}/ws", max_size=None)
    welcome = json.loads(await socket.recv())
    assert welcome["type"] == "welcome"
    return socket


async def expect(socket, predicate, timeout=5):
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        if predicate(message):
            return message


async def join(socket, nick, room):
    await socket.send(json.dumps({"type": "nick", "nick": nick}))
    await expect(socket, lambda m: m["type"] == "nick")
    await socket.send(json.dumps({"type": "join", "room": room}))
    return await expect(socket, lambda m: m["type"] == "joined")


def test_web_and_line_clients_share_rooms(chat):
    async def scenario():
        line = chat.client("liner", "lobby")
        web = await connect(chat)
        joined = await join(web, "webby", "lobby")
        assert joined["who"] == ["liner", "webby"]
        line.expect("* webby joined lobby")
        await web.send(json.dumps({"type": "message", "room": "lobby", "text": "<script>alert(1)</script>"}))
        assert line.expect("[lobby] webby:") == "[lobby] webby: <script>alert(1)</script>"
        line.send("hi web")
        message = await expect(web, lambda m: m["type"] == "message" and m["nick"] == "liner")
        assert message["text"] == "hi web" and message["room"] == "lobby"
        await web.send(json.dumps({"type": "who", "room": "lobby"}))
        assert (await expect(web, lambda m: m["type"] == "who"))["who"] == ["liner", "webby"]
        await web.close()
        line.expect("* webby left lobby")

    run(scenario())


def test_bad_messages_are_refused_with_a_reason(chat):
    async def scenario():
        web = await connect(chat)
        await web.send("not json")
        assert (await expect(web, lambda m: m["type"] == "error"))["text"].startswith("not a chat message")
        await join(web, "webby", "lobby")
        await web.send(json.dumps({"type": "message", "room": "lobby", "text": "x" * 2001}))
        error = await expect(web, lambda m: m["type"] == "error")
        assert error["text"] == "message too long (2001 bytes, the limit is 2000); not sent"
        await web.send(json.dumps({"type": "nick", "nick": "<img src=x>"}))
        assert (await expect(web, lambda m: m["type"] == "error"))["text"].startswith("invalid nickname")
        await web.close()

    run(scenario())


def test_a_page_that_stops_reading_is_cut_off(chat):
    async def scenario():
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", chat.http_port))
        slow = await websockets.connect(f"ws://127.0.0.1:{chat.http_port}/ws", max_queue=1, sock=raw)
        await slow.send(json.dumps({"type": "nick", "nick": "slow"}))
        await slow.send(json.dumps({"type": "join", "room": "lobby"}))
        fast = await connect(chat)
        await join(fast, "fast", "lobby")
        line = chat.client("sender", "lobby")
        # The slow page's transport stops reading once its tiny buffers are full.
        slow.transport.pause_reading()
        text = "m" * 1900
        for n in range(400):
            line.send(f"{n} {text}")
            line.expect("[lobby] sender:")
            await expect(fast, lambda m: m["type"] == "message")
        left = await expect(fast, lambda m: m["type"] == "leave" and m["nick"] == "slow", timeout=10)
        assert left["text"].startswith("too slow")
        assert chat.metric('chat_dropped_total{reason="slow_client"}') == 1
        await fast.close()

    run(scenario())


def test_sigterm_tells_the_page_to_reconnect(start_chat):
    chat = start_chat()

    async def scenario():
        web = await connect(chat)
        await join(web, "webby", "lobby")
        chat.proc.send_signal(15)
        bye = await expect(web, lambda m: m["type"] == "bye")
        assert bye["text"] == "the server is restarting, reconnect in a moment"
        try:
            while True:
                await asyncio.wait_for(web.recv(), 5)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code in (1001, 1012)

    run(scenario())
    assert chat.proc.wait(10) == 0

"""`aiohttp_chat.py PORT [--redis URL] [--uvloop]`: the chat's web protocol with aiohttp + redis-py.

The peer of Benchmarks/Scripts/chat.py: what the talk's audience would write. The same protocol
as Showcase/ (Showcase/README.md, "The web page's protocol"), the parts the benchmark uses: `join`
(answered `joined` with the room's last 100 messages, the room told `join`), `message` (fanned
out to the room as a `message` event), `leave`, and the `leave` notice when a page goes.

In one process (the default) a room is a set of WebSockets and its history a deque; with
`--redis redis://HOST:PORT` every message goes into a capped stream (`XADD MAXLEN 100`) and out
through pub/sub (`PUBLISH chat:room:NAME`), and each instance subscribes to the rooms it has
members in and delivers to them, as Showcase's RedisBroker does.
"""

import argparse
import asyncio
import collections
import itertools
import json
import time

from aiohttp import WSMsgType, web


def dumps(value):
    return json.dumps(value, separators=(",", ":"))


def event(kind, room, nick, text=None):
    e = {"type": kind, "room": room, "nick": nick, "ts": int(time.time() * 1000)}
    if text is not None:
        e["text"] = text
    return e


class Rooms:
    def __init__(self, redis=None):
        self.members = collections.defaultdict(set)
        self.history = collections.defaultdict(lambda: collections.deque(maxlen=100))
        self.redis = redis
        self.pubsub = None

    async def start(self):
        if self.redis:
            self.pubsub = self.redis.pubsub()
            await self.pubsub.subscribe("chat:control")  # so that listen() has something to wait on
            asyncio.get_running_loop().create_task(self.listen())

    async def listen(self):
        async for message in self.pubsub.listen():
            if message["type"] == "message" and message["channel"].startswith("chat:room:"):
                await self.deliver(message["channel"][len("chat:room:"):], message["data"])

    async def join(self, room, ws):
        first = not self.members[room]
        self.members[room].add(ws)
        if not self.redis:
            return list(self.history[room])
        if first:
            await self.pubsub.subscribe(f"chat:room:{room}")
        entries = await self.redis.xrevrange(f"chat:history:{room}", count=100)
        return [json.loads(fields["event"]) for _, fields in reversed(entries)]

    async def leave(self, room, ws):
        self.members[room].discard(ws)
        if not self.members[room]:
            del self.members[room]
            if self.redis:
                await self.pubsub.unsubscribe(f"chat:room:{room}")

    async def publish(self, e):
        data = dumps(e)
        if self.redis:
            if e["type"] == "message":
                await self.redis.xadd(f"chat:history:{e['room']}", {"event": data}, maxlen=100, approximate=False)
            await self.redis.publish(f"chat:room:{e['room']}", data)
        else:
            if e["type"] == "message":
                self.history[e["room"]].append(e)
            await self.deliver(e["room"], data)

    async def deliver(self, room, data):
        for ws in list(self.members.get(room, ())):
            if not ws.closed:
                await ws.send_str(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--redis")
    ap.add_argument("--uvloop", action="store_true")
    args = ap.parse_args()
    redis = None
    if args.redis:
        import redis.asyncio

        redis = redis.asyncio.Redis.from_url(args.redis, decode_responses=True)
    rooms = Rooms(redis)
    ids = itertools.count(1)

    async def websocket(request):
        ws = web.WebSocketResponse(max_msg_size=65536)
        await ws.prepare(request)
        nick = f"guest-{next(ids)}"
        joined = set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    command = json.loads(msg.data)
                except ValueError:
                    continue
                kind, room = command.get("type"), command.get("room")
                if kind == "join" and room and room not in joined:
                    history = await rooms.join(room, ws)
                    joined.add(room)
                    await ws.send_str(dumps({"type": "joined", "room": room, "history": history}))
                    await rooms.publish(event("join", room, nick))
                elif kind == "message" and room in joined:
                    await rooms.publish(event("message", room, nick, str(command.get("text", ""))))
                elif kind == "leave" and room in joined:
                    joined.discard(room)
                    await rooms.leave(room, ws)
                    await rooms.publish(event("leave", room, nick))
        finally:
            for room in joined:
                await rooms.leave(room, ws)
                await rooms.publish(event("leave", room, nick))
        return ws

    app = web.Application()
    app.router.add_get("/ws", websocket)
    app.on_startup.append(lambda app: rooms.start())
    if args.uvloop:
        import uvloop

        uvloop.install()
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()

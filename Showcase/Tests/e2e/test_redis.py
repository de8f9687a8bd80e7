"""Several instances sharing one redis-server: one chat. Redis killed and restarted mid-conversation."""
import json
import socket
import subprocess
import time

import pytest

from conftest import ChatProcess


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self):
        self.port = free_port()
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"


@pytest.fixture
def redis_server():
    server = RedisServer()
    yield server
    server.stop()


def test_instances_share_rooms_history_and_presence(redis_server, start_chat):
    one = start_chat("--redis", redis_server.url)
    two = start_chat("--redis", redis_server.url)
    ann = one.client("ann", "lobby")
    bob = two.client("bob", "lobby")
    ann.expect("* bob joined lobby")
    ann.send("hello from one")
    assert bob.expect("[lobby] ann:") == "[lobby] ann: hello from one"
    bob.send("hello from two")
    assert ann.expect("[lobby] bob:") == "[lobby] bob: hello from two"
    bob.send("/who")
    assert bob.expect("* In lobby:") == "* In lobby: ann, bob"
    # A freshly started instance shows the same history.
    three = start_chat("--redis", redis_server.url)
    cat = three.client("cat")
    cat.send("/join lobby")
    assert "(2 earlier messages follow)" in cat.expect("* Joined lobby")
    assert cat.read_line() == "[lobby] ann: hello from one"
    assert cat.read_line() == "[lobby] bob: hello from two"
    assert cat.read_line() == "* In lobby: ann, bob, cat"
    status, _, body = three.http("/healthz")
    assert json.loads(body)["broker"] == redis_server.url


def test_redis_killed_and_restarted_mid_conversation(redis_server, start_chat):
    one = start_chat("--redis", redis_server.url)
    two = start_chat("--redis", redis_server.url)
    ann = one.client("ann", "lobby")
    ann2 = one.client("ann2", "lobby")
    bob = two.client("bob", "lobby")
    ann.expect("* bob joined lobby")
    redis_server.stop()
    # Each instance notices (at the latest on its next command) and says so.
    ann.send("anyone?")
    assert "unreachable" in ann.expect("The message broker is unreachable", timeout=10)
    # It keeps serving its own users.
    assert ann2.expect("[lobby] ann: anyone?", timeout=10)
    assert one.metric("chat_broker_degraded") == 1
    status, _, body = one.http("/healthz")
    assert json.loads(body)["degraded"] is True
    redis_server.start()
    line = ann.expect("The message broker is back", timeout=15)
    assert "may have missed messages: lobby" in line
    bob.expect("The message broker is back", timeout=15)
    ann.send("after the restart")
    assert bob.expect("[lobby] ann: after the restart", timeout=5)
    bob.send("/who")
    assert bob.expect("* In lobby:") == "* In lobby: ann, ann2, bob"


def test_nicknames_are_unique_across_instances(redis_server, start_chat):
    one = start_chat("--redis", redis_server.url)
    two = start_chat("--redis", redis_server.url)
    ann = one.client("ann", "lobby")
    other = two.client()
    other.send("/nick Ann")
    assert other.expect("ERR") == "ERR the nickname Ann is taken"
    # Guest names are given, never taken, and differ between instances.
    guest = one.client()
    name = guest.lines[0].split("chat, ")[1].rstrip(".")
    assert name.startswith("guest-")
    other.send(f"/nick {name}")
    assert other.expect("ERR") == f"ERR the nickname {name} is taken"
    # Once ann is gone, her name is free on every instance (her instance frees it just after
    # closing her connection: ask again until it is).
    ann.send("/quit")
    ann.read_until_closed()
    deadline = time.monotonic() + 10
    while True:
        other.send("/nick ann")
        line = other.expect("ann")
        if line.startswith("* You are now known as ann") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert line == "* You are now known as ann"


def test_loops_and_instances_through_redis(redis_server, start_chat):
    one = start_chat("--redis", redis_server.url, "--loops", "2")
    two = start_chat("--redis", redis_server.url)
    ann = one.client("ann", "lobby")
    bob = two.client("bob", "lobby")
    cat = one.client("cat", "lobby")
    ann.expect("* cat joined lobby")
    bob.send("hello from two")
    assert ann.expect("[lobby] bob:") == "[lobby] bob: hello from two"
    assert cat.expect("[lobby] bob:") == "[lobby] bob: hello from two"
    cat.send("/nick bob")
    assert cat.expect("ERR") == "ERR the nickname bob is taken"

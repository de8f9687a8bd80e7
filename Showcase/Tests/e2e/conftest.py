"""Fixtures for the chat's end-to-end tests: the built `Chat` executable on free loopback ports,
and line clients over real sockets.

The executable is `$CHAT_BIN`, else Showcase/.build/debug/Chat (scripts/test.sh builds it).
"""
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

SHOWCASE = Path(__file__).resolve().parents[2]
CHAT_BIN = os.environ.get("CHAT_BIN", str(SHOWCASE / ".build" / "debug" / "Chat"))


class ChatProcess:
    """One running `Chat`: its ports (read from its "chat started" log line) and its log."""

    def __init__(self, *args, env=None):
        self.args = [CHAT_BIN, "--http-port", "0", "--line-port", "0", *args]
        merged = dict(os.environ)
        merged.update(env or {})
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=merged, text=True
        )
        self.log = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("Chat exited before starting:\n" + "".join(self.log))
            self.log.append(line)
            found = re.search(r"http=http://[^ ]+:(\d+)/ line=[^ ]+:(\d+)", line)
            if found:
                self.http_port, self.line_port = int(found.group(1)), int(found.group(2))
                break
        else:
            raise RuntimeError("Chat did not start in 30 s")

    def client(self, nick=None, room=None):
        client = LineClient(self.line_port)
        client.expect("Commands:")
        if nick:
            client.send(f"/nick {nick}")
            client.expect(f"You are now known as {nick}")
        if room:
            client.send(f"/join {room}")
            client.expect(f"* In {room}:")
        return client

    def http(self, path):
        """GET `path`: (status, headers dict, body bytes), with a fresh connection."""
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=5)
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def metric(self, name):
        _, _, body = self.http("/metrics")
        for line in body.decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{") and line.split(" ")[0] == name:
                return float(line.split(" ")[-1])
        raise KeyError(name)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        rest = self.proc.stdout.read()
        if rest:
            self.log.append(rest)
        return self.proc.returncode


class LineClient:
    """A line-protocol client over a blocking socket, with a deadline on every wait."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = b""
        self.lines = []

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def read_line(self, timeout=5):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no line; so far: %r" % self.lines[-10:])
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("closed; last lines: %r" % self.lines[-10:])
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        text = line.decode()
        self.lines.append(text)
        return text

    def expect(self, fragment, timeout=5):
        """Reads lines until one contains `fragment`; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(max(0.01, deadline - time.monotonic()))
            if fragment in line:
                return line

    def read_until_closed(self, timeout=5):
        """Reads every line until the server closes the connection; returns them."""
        lines = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                lines.append(self.read_line(max(0.01, deadline - time.monotonic())))
            except EOFError:
                if self.buffer:
                    lines.append(self.buffer.decode(errors="replace"))
                return lines
            except ConnectionResetError:
                return lines

    def close(self):
        self.sock.close()


@pytest.fixture
def chat():
    process = ChatProcess()
    yield process
    process.stop()


@pytest.fixture
def start_chat():
    started = []

    def start(*args, env=None):
        process = ChatProcess(*args, env=env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()

"""Multipart bodies sent to the test application's /parts route over raw sockets; one line per check.

Usage: python3 app_client_check.py PORT
"""
import http.client
import socket
import sys
import time

port = int(sys.argv[1])
BOUNDARY = "----check7MA4YWxkTrZu0gW"


def body(parts, close=True, preamble=""):
    out = preamble
    for name, filename, content in parts:
        out += f"--{BOUNDARY}\r\n"
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        out += f"Content-Disposition: {disposition}\r\n\r\n{content}\r\n"
    if close:
        out += f"--{BOUNDARY}--\r\n"
    return out.encode()


def post(payload, trickle=False):
    """POST payload to /parts on a fresh socket; returns (status, body)."""
    head = (
        f"POST /parts HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(head)
    if trickle:
        # Three bytes at a time, so that delimiters arrive split across reads.
        for i in range(0, len(payload), 3):
            sock.sendall(payload[i : i + 3])
            time.sleep(0.002)
    else:
        sock.sendall(payload)
    response = http.client.HTTPResponse(sock)
    response.begin()
    text = response.read().decode()
    sock.close()
    return response.status, text.replace("\n", "|")


status, text = post(body([("f1", None, "hello"), ("up", "a.txt", "x" * 300)]), trickle=True)
print("TRICKLED", status, repr(text))
status, _ = post(body([("f1", None, "no closing delimiter")], close=False))
print("NO-CLOSE", status)
bad = f"--{BOUNDARY}\r\nnocolon\r\n\r\nvalue\r\n--{BOUNDARY}--\r\n".encode()
status, _ = post(bad)
print("BAD-HEAD", status)
status, text = post(body([("x", None, "abc")], preamble="This is a preamble.\r\n"))
print("PREAMBLE", status, repr(text))
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
conn.request("GET", "/")
response = conn.getresponse()
print("KEEPALIVE", response.status, response.read().decode())

"""Drives the server under test with python-hyper/h11 over a raw socket; prints one line per check.

h11 is strict about what servers send (framing, field syntax, keep-alive), so every response is
checked against RFC 9112 by a second implementation. Usage: python3 h11_client_check.py PORT
"""
import socket
import sys

import h11

port = int(sys.argv[1])


def exchange(conn, sock, request, body=b""):
    """Sends one request and returns (response, body) as h11 saw them."""
    data = conn.send(request)
    if body:
        data += conn.send(h11.Data(data=body))
    data += conn.send(h11.EndOfMessage())
    sock.sendall(data)
    response, received = None, b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(sock.recv(65536))
            continue
        if isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            received += event.data
        elif isinstance(event, h11.EndOfMessage):
            return response, received


sock = socket.create_connection(("127.0.0.1", port), timeout=10)
conn = h11.Connection(h11.CLIENT)
for method, target, body in [("GET", "/", b""), ("POST", "/echo", b"abc" * 1000), ("GET", "/stream", b""),
                             ("HEAD", "/", b""), ("GET", "/missing", b"")]:
    headers = [("Host", "127.0.0.1")]
    if body:
        headers.append(("Content-Length", str(len(body))))
    response, received = exchange(conn, sock, h11.Request(method=method, target=target, headers=headers), body)
    print(method, target, response.status_code, len(received), conn.our_state, conn.their_state)
    conn.start_next_cycle()

# Pipelining: two requests sent at once (each serialized by an h11 connection of its own), then
# the answers parsed in order by one h11 client that "sends" each request as its turn comes.
requests = [h11.Request(method="GET", target=target, headers=[("Host", "x")]) for target in ["/", "/stream"]]
wire = b""
for request in requests:
    writer = h11.Connection(h11.CLIENT)
    wire += writer.send(request) + writer.send(h11.EndOfMessage())
sock.sendall(wire)
pipe = h11.Connection(h11.CLIENT)
answers = []
for request in requests:
    pipe.send(request)
    pipe.send(h11.EndOfMessage())
    while True:
        event = pipe.next_event()
        if event is h11.NEED_DATA:
            pipe.receive_data(sock.recv(65536))
        elif isinstance(event, h11.Response):
            answers.append(event.status_code)
        elif isinstance(event, h11.EndOfMessage):
            pipe.start_next_cycle()
            break
print("PIPELINED", answers)

# Connection: close is honoured and announced.
close = h11.Connection(h11.CLIENT)
sock2 = socket.create_connection(("127.0.0.1", port), timeout=10)
response, _ = exchange(close, sock2, h11.Request(method="GET", target="/",
                                                  headers=[("Host", "x"), ("Connection", "close")]))
print("CLOSE", response.status_code, dict(response.headers).get(b"connection"), sock2.recv(10))

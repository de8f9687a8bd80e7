"""Big static files over one keep-alive connection with Python's http.client, then a slow reader.

Usage: python3 static_client_check.py PORT PATH-OF-big.bin
"""
import hashlib
import http.client
import socket
import sys
import time

port = int(sys.argv[1])
expected = open(sys.argv[2], "rb").read()

conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
conn.request("GET", "/static/big.bin")
response = conn.getresponse()
body = response.read()
print("FULL", response.status, len(body), body == expected)

conn.request("GET", "/static/big.bin", headers={"Range": "bytes=1000000-1999999"})
response = conn.getresponse()
body = response.read()
print("RANGE", response.status, response.getheader("Content-Range"), body == expected[1000000:2000000])

conn.request("HEAD", "/static/big.bin")
response = conn.getresponse()
print("HEAD", response.status, response.getheader("Content-Length"), response.read())

conn.request("GET", "/")
response = conn.getresponse()
print("AFTER", response.status, response.read().decode())

# A client that reads slowly: small receive buffer, reads in pieces with pauses.
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
sock.settimeout(10)
sock.connect(("127.0.0.1", port))
sock.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
received = b""
while True:
    chunk = sock.recv(65536)
    if not chunk:
        break
    received += chunk
    if len(received) < 400000:
        time.sleep(0.01)
head, _, body = received.partition(b"\r\n\r\n")
print("SLOW", len(body), hashlib.sha256(body).digest() == hashlib.sha256(expected).digest())

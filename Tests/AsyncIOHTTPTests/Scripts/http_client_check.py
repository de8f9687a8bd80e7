"""Talks to the server under test with Python's http.client; prints one line per check.

Usage: python3 http_client_check.py PORT
"""
import http.client
import sys

port = int(sys.argv[1])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

# Keep-alive: several requests on one connection.
for _ in range(3):
    conn.request("GET", "/")
    response = conn.getresponse()
    print("GET", response.status, response.read().decode(), response.getheader("Content-Type"))

conn.request("HEAD", "/")
response = conn.getresponse()
print("HEAD", response.status, repr(response.read()), response.getheader("Content-Length"))

conn.request("POST", "/echo", body=b"x" * 100000, headers={"Content-Type": "application/octet-stream"})
response = conn.getresponse()
print("POST", response.status, len(response.read()))

# A chunked upload (a generator body makes http.client send chunks).
conn.request("POST", "/echo", body=(bytes([65 + i]) * 1000 for i in range(5)), encode_chunked=True)
response = conn.getresponse()
body = response.read()
print("CHUNKED", response.status, len(body), body[:1].decode(), body[-1:].decode())

conn.request("GET", "/stream")
response = conn.getresponse()
print("STREAM", response.status, response.read().decode(), response.getheader("Transfer-Encoding"))

conn.request("GET", "/missing")
response = conn.getresponse()
print("MISSING", response.status, response.read().decode())
conn.close()

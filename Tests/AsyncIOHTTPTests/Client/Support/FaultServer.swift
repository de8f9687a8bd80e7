/// A small HTTP/1.1 server in Python, h11 parsing the requests, that answers each path with a
/// well-formed or deliberately broken reply: the real peer of the client's fault tests.
///
/// It prints `PORT <n>` when it listens on 127.0.0.1, serves each connection on a thread, and
/// counts connections (`GET /stats` answers the count accepted so far).
let faultServerScript = #"""
    import json, socket, sys, threading, time
    import h11

    accepted = 0
    lock = threading.Lock()

    head_only = threading.local()

    def reply(sock, status, body=b"", headers=(), reason=b"OK"):
        head = b"HTTP/1.1 %d %s\r\n" % (status, reason)
        for name, value in headers:
            head += name + b": " + value + b"\r\n"
        head += b"Content-Length: %d\r\n\r\n" % len(body)
        sock.sendall(head if head_only.value else head + body)

    def handle(sock):
        conn = h11.Connection(h11.SERVER)
        drop_next = False
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            conn.receive_data(data)
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    break
                if isinstance(event, h11.Request):
                    request = event
                    body = b""
                elif isinstance(event, h11.Data):
                    body += bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    if drop_next:
                        sock.close()
                        return
                    drop_next = serve(sock, request, body)
                    if drop_next is None:
                        sock.close()
                        return
                    conn = h11.Connection(h11.SERVER)
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    return

    def serve(sock, request, body):
        """Answers one request; returns True to drop the next request, None to close now."""
        target = request.target.decode()
        head_only.value = request.method == b"HEAD"
        path, _, query = target.partition("?")
        if path.endswith("/echo"):
            path = "/echo"
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        if path == "/hello":
            reply(sock, 200, b"hello", [(b"Content-Type", b"text/plain; charset=utf-8")])
        elif path == "/stats":
            with lock:
                reply(sock, 200, str(accepted).encode())
        elif path == "/echo":
            headers = [[n.decode(), v.decode()] for n, v in request.headers]
            payload = {"method": request.method.decode(), "target": target, "headers": headers,
                       "body": body.decode("latin-1")}
            reply(sock, 200, json.dumps(payload).encode(), [(b"Content-Type", b"application/json")])
        elif path == "/chunked":
            sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n")
        elif path == "/close-delimited":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
            return None
        elif path == "/duplicate-length":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello")
        elif path == "/bad-status":
            sock.sendall(b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n")
        elif path == "/bare-lf":
            sock.sendall(b"HTTP/1.1 200 OK\nContent-Length: 0\n\n")
        elif path == "/cut":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
            return None
        elif path == "/cut-head":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Len")
            return None
        elif path == "/stall":
            time.sleep(float(params.get("s", "30")))
            return None
        elif path == "/stall-body":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst")
            time.sleep(float(params.get("s", "30")))
            return None
        elif path == "/slow-body":
            n, delay = int(params.get("n", "5")), float(params.get("d", "0.05"))
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
            for _ in range(n):
                time.sleep(delay)
                sock.sendall(b"x")
        elif path == "/big":
            n = int(params.get("n", "1000000"))
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
            chunk = b"y" * 65536
            sent = 0
            try:
                while sent < n:
                    piece = chunk[: n - sent]
                    sock.sendall(piece)
                    sent += len(piece)
            except OSError:
                return None
        elif path == "/redirect":
            status = int(params.get("status", "302"))
            location = params.get("to", "/hello").replace("%3F", "?").replace("%26", "&").encode()
            reply(sock, status, b"moved", [(b"Location", location)], reason=b"Redirect")
        elif path == "/redirect-loop":
            reply(sock, 302, b"", [(b"Location", b"/redirect-loop")], reason=b"Found")
        elif path == "/set-cookie":
            cookies = [(b"Set-Cookie", b"session=abc; Path=/"),
                       (b"Set-Cookie", b"scoped=1; Path=/private"),
                       (b"Set-Cookie", b"gone=x; Max-Age=0"),
                       (b"Set-Cookie", b"secure=s; Secure")]
            reply(sock, 200, b"ok", cookies)
        elif path == "/then-drop":
            reply(sock, 200, b"first")
            return True
        elif path == "/trailing-garbage":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")
        elif path == "/informational":
            sock.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                         b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone")
        elif path == "/switching":
            sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n")
        elif path == "/connection-close":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbye")
            return None
        elif path == "/status":
            reply(sock, int(params.get("code", "404")), b"status body", reason=b"Custom")
        elif path == "/json-wrong-type":
            reply(sock, 200, b'{"a": 1}', [(b"Content-Type", b"text/html")])
        elif path == "/latin1":
            reply(sock, 200, b"caf\xe9", [(b"Content-Type", b"text/plain; charset=iso-8859-1")])
        else:
            reply(sock, 404, b"not found", reason=b"Not Found")
        return False

    def main():
        global accepted
        listener = socket.socket(socket.AF_INET6 if "--ipv6" in sys.argv else socket.AF_INET)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("::1" if "--ipv6" in sys.argv else "127.0.0.1", 0))
        listener.listen(128)
        print("PORT %d" % listener.getsockname()[1], flush=True)
        deadline = time.monotonic() + 600  # never outlive a test run
        listener.settimeout(1)
        while time.monotonic() < deadline:
            try:
                sock, _ = listener.accept()
            except socket.timeout:
                continue
            with lock:
                accepted += 1
            threading.Thread(target=handle, args=(sock,), daemon=True).start()

    main()
    """#

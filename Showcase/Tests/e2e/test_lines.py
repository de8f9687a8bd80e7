"""The line protocol over loopback: conversation, history, validation, limits, slow clients."""
import socket
import time

from conftest import LineClient


def test_two_clients_talk_in_a_room(chat):
    ann = chat.client("ann", "lobby")
    bob = chat.client("bob", "lobby")
    ann.expect("* bob joined lobby")
    bob.send("hello <script>alert(1)</script>")
    assert ann.expect("[lobby] bob:") == "[lobby] bob: hello <script>alert(1)</script>"
    bob.send("/who")
    assert bob.expect("* In lobby:") == "* In lobby: ann, bob"
    bob.send("/rooms")
    assert bob.expect("* Rooms:") == "* Rooms: lobby (2)"
    bob.send("/quit")
    assert "* Bye: bye" in bob.read_until_closed()
    ann.expect("* bob left lobby")


def test_rooms_are_separate_and_leave_works(chat):
    ann = chat.client("ann", "red")
    bob = chat.client("bob", "blue")
    ann.send("only red hears this")
    ann.expect("[red] ann: only red hears this")
    bob.send("/rooms")
    bob.expect("* Rooms:")
    assert not any("only red hears this" in line for line in bob.lines)
    bob.send("/join red")
    bob.expect("* In red:")
    ann.send("now bob hears")
    assert bob.expect("[red] ann:") == "[red] ann: now bob hears"
    bob.send("/leave red")
    bob.expect("* Left red")
    ann.expect("* bob left red")
    bob.send("back in blue")
    bob.expect("[blue] bob: back in blue")


def test_history_is_the_last_100_messages(chat):
    ann = chat.client("ann", "history")
    for n in range(105):
        ann.send(f"message {n}")
    ann.expect("message 104")
    bob = chat.client("bob")
    bob.send("/join history")
    header = bob.expect("* Joined history")
    assert "(100 earlier messages follow)" in header
    history = [bob.read_line() for _ in range(100)]
    assert history[0] == "[history] ann: message 5"
    assert history[-1] == "[history] ann: message 104"
    assert bob.read_line() == "* In history: ann, bob"


def test_nicknames_and_rooms_are_validated(chat):
    ann = chat.client("ann")
    ann.send("/nick <b>x</b>")
    assert ann.expect("ERR").startswith("ERR invalid nickname")
    ann.send("/nick " + "a" * 25)
    assert ann.expect("ERR").startswith("ERR invalid nickname")
    ann.send("/join bad room!")
    assert ann.expect("ERR").startswith("ERR invalid room")
    ann.send("hello")
    assert ann.expect("ERR") == "ERR join a room first: /join ROOM"
    bob = chat.client("bob")
    bob.send("/nick ANN")
    assert bob.expect("ERR") == "ERR the nickname ANN is taken"
    bob.send("/frobnicate")
    assert bob.expect("ERR").startswith("ERR unknown command /frobnicate")


def test_a_message_over_the_limit_is_refused_with_a_reason(chat):
    ann = chat.client("ann", "lobby")
    bob = chat.client("bob", "lobby")
    ann.expect("bob joined")
    bob.send("x" * 2001)
    assert bob.expect("ERR") == "ERR message too long (2001 bytes, the limit is 2000); not sent"
    bob.send("y" * 2000)
    assert ann.expect("[lobby] bob:") == "[lobby] bob: " + "y" * 2000
    assert chat.metric('chat_dropped_total{reason="refused_message"}') == 1


def test_control_characters_do_not_reach_other_terminals(chat):
    ann = chat.client("ann", "lobby")
    bob = chat.client("bob", "lobby")
    ann.expect("bob joined")
    bob.sock.sendall(b"\x1b[2Jclear\x07 screen\r\n")
    assert ann.expect("[lobby] bob:") == "[lobby] bob: [2Jclear  screen"


def test_a_line_over_64_kib_disconnects_with_a_reason(chat):
    ann = chat.client("ann", "lobby")
    ann.sock.sendall(b"z" * (70 * 1024) + b"\n")
    lines = ann.read_until_closed()
    assert "* Bye: line over 64 KiB" in lines
    other = chat.client("bob", "lobby")
    other.send("still fine")
    other.expect("[lobby] bob: still fine")


def test_invalid_utf8_is_refused(chat):
    ann = chat.client("ann", "lobby")
    ann.sock.sendall(b"\xff\xfe\n")
    assert ann.expect("ERR") == "ERR not UTF-8; line ignored"


def test_a_client_joining_too_many_rooms_is_cut_off(chat):
    greedy = chat.client("greedy")
    lines = []
    for n in range(10_000):
        greedy.send(f"/join room{n}")
        line = greedy.expect(f"* In room{n}:") if n < 50 else greedy.expect("* Bye")
        if line.startswith("* Bye"):
            lines.append(line)
            break
    assert lines == ["* Bye: too many rooms (the limit is 50 per connection)"]
    assert n == 50
    greedy.read_until_closed()
    ok = chat.client("ok", "lobby")
    ok.send("/rooms")
    assert ok.expect("* Rooms:") == "* Rooms: lobby (1)"


def test_a_slow_client_is_cut_off_and_the_others_never_notice(chat):
    fast = chat.client("fast", "lobby")
    # The slow client joins, then never reads; its receive buffer is kept small.
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", chat.line_port))
    slow.sendall(b"/nick slow\n/join lobby\n")
    fast.expect("* slow joined lobby")
    sender = chat.client("sender", "lobby")
    rss_before = chat.rss_kib()
    text = "m" * 1900
    for n in range(600):  # ~1.2 MB to every member: far over the 256 KiB queue
        sender.send(f"{n} {text}")
        # The fast client reads everything, in order, as it comes.
        assert fast.expect("[lobby] sender:").startswith(f"[lobby] sender: {n} ")
        sender.expect("[lobby] sender:")
    assert fast.expect("* slow left lobby", timeout=10).startswith("* slow left lobby (too slow: over 256 KiB")
    assert chat.metric('chat_dropped_total{reason="slow_client"}') == 1
    assert chat.rss_kib() - rss_before < 16 * 1024
    slow.close()


def test_a_flood_of_connections_from_one_address_is_rate_limited(start_chat):
    chat = start_chat("--connection-rate", "5")  # a burst of 25, then 5 a second
    refused = 0
    sockets = []
    for _ in range(60):
        client = LineClient(chat.line_port)
        sockets.append(client)
        first = client.read_line()
        if first.startswith("ERR too many connections from 127.0.0.1"):
            refused += 1
    assert 30 <= refused <= 35, refused
    assert chat.metric('chat_dropped_total{reason="connection_rate"}') == refused
    for client in sockets:
        client.close()
    time.sleep(1.0)
    chat.client("later", "lobby")  # tokens refill: accepted again


def test_sigterm_tells_every_client_and_exits_cleanly(start_chat):
    chat = start_chat()
    ann = chat.client("ann", "lobby")
    bob = chat.client("bob", "lobby")
    silent = socket.create_connection(("127.0.0.1", chat.line_port))  # connected, never reads
    started = time.monotonic()
    assert chat.stop() == 0
    assert time.monotonic() - started < 6
    for client in (ann, bob):
        lines = client.read_until_closed()
        assert "* Bye: the server is restarting, reconnect in a moment" in lines
    silent.close()
    assert any("chat stopped" in line for line in chat.log)

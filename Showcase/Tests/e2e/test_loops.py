"""`--loops N`: one process, a loop per core on the same ports, rooms shared between the loops."""
import json

import pytest


def loop_clients(chat):
    """The number of clients of each loop, from /healthz (whichever loop answers, it counts all)."""
    _, _, body = chat.http("/healthz")
    return json.loads(body)["loops"]


def clients_on_each_loop(chat, loops):
    """Line clients connected one at a time until every loop has one; returns one client per loop.

    The kernel spreads connections over the loops by a hash of their addresses, so which loop a
    connection lands on is not ours to choose; /healthz tells which loop's count grew.
    """
    chosen = {}
    spare = []
    for n in range(64):
        before = loop_clients(chat)
        client = chat.client()
        after = loop_clients(chat)
        grown = [index for index in range(loops) if after[index] > before[index]]
        assert len(grown) == 1, (before, after)
        if grown[0] in chosen:
            spare.append(client)
        else:
            chosen[grown[0]] = client
        if len(chosen) == loops:
            return [chosen[index] for index in range(loops)], spare
    pytest.fail(f"64 connections all landed on loops {sorted(chosen)} of {loops}")


def test_two_loops_share_rooms(start_chat):
    chat = start_chat("--loops", "2", "--connection-rate", "1000")
    (ann, bob), spare = clients_on_each_loop(chat, 2)
    ann.send("/nick ann")
    ann.expect("You are now known as ann")
    # A nickname is unique across the loops.
    bob.send("/nick ANN")
    assert bob.expect("ERR") == "ERR the nickname ANN is taken"
    bob.send("/nick bob")
    bob.expect("You are now known as bob")
    ann.send("/join lobby")
    ann.expect("* In lobby:")
    ann.send("said before bob came")
    ann.expect("[lobby] ann: said before bob came")
    bob.send("/join lobby")
    assert "(1 earlier messages follow)" in bob.expect("* Joined lobby")
    assert bob.read_line() == "[lobby] ann: said before bob came"
    assert bob.read_line() == "* In lobby: ann, bob"
    ann.expect("* bob joined lobby")
    bob.send("hello from loop 1")
    assert ann.expect("[lobby] bob:") == "[lobby] bob: hello from loop 1"
    ann.send("hello from loop 0")
    assert bob.expect("[lobby] ann:") == "[lobby] ann: hello from loop 0"
    bob.send("/rooms")
    assert bob.expect("* Rooms:") == "* Rooms: lobby (2)"
    _, _, body = chat.http("/healthz")
    health = json.loads(body)
    assert health["clients"] == 2 + len(spare) and health["rooms"] == 1
    assert chat.metric('chat_loop_connections{loop="0"}') >= 1
    assert chat.metric('chat_loop_connections{loop="1"}') >= 1
    bob.send("/quit")
    bob.read_until_closed()
    ann.expect("* bob left lobby")
    for client in spare:
        client.close()


def test_loops_stop_gracefully_on_sigterm(start_chat):
    chat = start_chat("--loops", "2", "--connection-rate", "1000")
    (ann, bob), spare = clients_on_each_loop(chat, 2)
    assert chat.stop() == 0
    for client in [ann, bob, *spare]:
        assert any("* Bye: the server is restarting" in line for line in client.read_until_closed())


def test_loops_refuse_nonsense(start_chat):
    with pytest.raises(RuntimeError, match="--loops must be from 1 to 1024"):
        start_chat("--loops", "0")

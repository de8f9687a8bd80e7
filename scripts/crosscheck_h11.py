#!/usr/bin/env python3
"""Feeds HTTP1Codec's request vectors to python-hyper/h11 and reports where the two disagree.

Usage:
    HTTP1_VECTOR_EXPORT=/tmp/http1-vectors swift test --filter VectorExportTests
    pip install h11
    python3 scripts/crosscheck_h11.py /tmp/http1-vectors/request-vectors.json

The vectors come from Tests/HTTP1CodecTests/RequestVectors.swift (exported as JSON by the test
above). For every vector this prints what we decided (accept, or the error and its status) and
what h11 decided (accept, RemoteProtocolError with its status hint, or still waiting for data),
and marks a disagreement with "!!". Disagreements and why we keep ours are recorded in
docs/decisions/0002-http1-strictness.md. Not run in CI; the test suite does not depend on it.
"""

import json
import sys

import h11


def h11_verdict(data: bytes) -> str:
    """Runs one connection's worth of bytes through an h11 server; returns its verdict."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    conn.receive_data(b"")  # the client closed its side after sending the vector
    events = []
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                return "waiting for more data"
            if event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
                break
            events.append(type(event).__name__)
            if isinstance(event, h11.EndOfMessage):
                break
    except h11.RemoteProtocolError as error:
        return f"error {error.error_status_hint}: {error}"
    if "EndOfMessage" in events:
        return "accept"
    return "incomplete: " + ",".join(events)


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/http1-vectors/request-vectors.json"
    with open(path) as f:
        vectors = json.load(f)
    disagreements = 0
    for vector in vectors:
        data = bytes.fromhex(vector["hex"])
        ours = "accept" if not vector["error"] else f"error {vector['status']}: {vector['error']}"
        theirs = h11_verdict(data)
        # A vector we reject because the peer closed mid-message is "waiting" or "incomplete" for h11.
        agree = (ours == "accept") == (theirs == "accept")
        if vector["error"] == "unexpectedEOF" and theirs != "accept":
            agree = True
        if vector["limits"] != "default":
            theirs += " (our vector uses non-default limits)"
        mark = "  " if agree else "!!"
        disagreements += 0 if agree else 1
        print(f"{mark} {vector['name']}\n     ours: {ours}\n     h11:  {theirs}")
    print(f"\n{len(vectors)} vectors, {disagreements} disagreements (h11 {h11.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Interleaved A/B of echo servers by CPU per message (what a faster server saves even when the
load generator, not the server, sets the rate).

    echo-cpu.py LOADGEN RUNS SCENARIO 'label=command {port}' ['label=command {port}' ...]

SCENARIO is pp100 (100 connections, 64 B), c1k (1000 connections), pp1 or s4k (50 connections,
4 KiB, depth 8), as in ../shared/bench/echo. Each run starts the server on CPU 0 and waits until
its port accepts a connection, runs the load generator on CPU 1 for 1.5 s of warm-up and 5 s of
load, and reads the server's user and system CPU time from /proc around the measured part (the
command must exec the server: the PID it starts is the one measured). Candidates alternate run by
run, so drifting background load, and the VM's slow phases, hit them alike. Any server works,
e.g. the bench's peers: 'nio=…/peers/nio-echo/.build/release/NIOEcho {port}',
'uvloop-streams=…/.venv/bin/python …/peers/py_echo.py {port} streams --uvloop'. Prints medians of msgs/s and of user and
system CPU microseconds per message, and how often per thousand messages the server blocked
(voluntary context switches: it found no work and slept in the poll until the load woke it).
"""
import os, signal, socket, statistics, subprocess, sys, time

loadgen, runs, scenario, *candidates = sys.argv[1:]
conns, size, depth = {"pp100": (100, 64, 1), "c1k": (1000, 64, 1), "pp1": (1, 64, 1), "s4k": (50, 4096, 8)}[scenario]
tick = os.sysconf("SC_CLK_TCK")
results = {label: [] for label, _ in (c.split("=", 1) for c in candidates)}
port = 19300


def wait_listening(port, timeout=10.0):
    """Returns once 127.0.0.1:port accepts a connection (any server, whether it prints or not)."""
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.time() > deadline:
                sys.exit(f"nothing listens on port {port} after {timeout} s")
            time.sleep(0.05)

for _ in range(int(runs)):
    for label, command in (c.split("=", 1) for c in candidates):
        port += 1
        server = subprocess.Popen(["taskset", "-c", "0"] + command.replace("{port}", str(port)).split(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(port)

        def cpu():
            fields = open(f"/proc/{server.pid}/stat").read().rsplit(")", 1)[1].split()
            return int(fields[11]) / tick, int(fields[12]) / tick

        def blocks():
            status = open(f"/proc/{server.pid}/status").read()
            return int(status.split("\nvoluntary_ctxt_switches:")[1].split()[0])

        load = subprocess.Popen(["taskset", "-c", "1", loadgen, "--host", "127.0.0.1", "--port", str(port),
                                 "--conns", str(conns), "--size", str(size), "--depth", str(depth),
                                 "--duration", "5", "--warmup", "1.5"], stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)
        user0, system0 = cpu()
        blocks0 = blocks()
        started = time.time()
        output = load.communicate()[0]
        user1, system1 = cpu()
        blocks1 = blocks()
        elapsed = time.time() - started
        server.send_signal(signal.SIGTERM)
        server.wait()
        fields = dict(kv.split("=") for kv in output.split() if "=" in kv)
        rate = float(fields["msgs_per_s"])
        messages = rate * elapsed
        results[label].append((rate, (user1 - user0) / messages * 1e6, (system1 - system0) / messages * 1e6,
                               (blocks1 - blocks0) / messages * 1e3))
for label, rows in results.items():
    median = lambda i: statistics.median(row[i] for row in rows)
    print(f"{label:>12}: msgs/s {median(0):>9,.0f}  user {median(1):.3f} µs/msg  sys {median(2):.3f} µs/msg"
          f"  blocked {median(3):.2f}/1k msgs"
          f"  (runs: {', '.join(f'{row[0] / 1e3:.0f}k/{row[3]:.1f}' for row in rows)})")

#!/usr/bin/env python3
"""The chat's fan-out: Showcase's Chat against the same chat on aiohttp (+ redis-py) and Hummingbird.

    Benchmarks/Scripts/chat.py [--scenarios single,redis-2] [--servers ours,aiohttp,hummingbird]
                               [--repeats 3] [--duration 5] [--clients 1000] [--json FILE]

Builds what is missing (Chat/chat-load.c with cc; Showcase's Chat with swift build -c release;
aiohttp, redis-py and uvloop into Benchmarks/.venv; Hummingbird's chat in Chat/hummingbird-chat
when --servers names it), then runs every server once per repeat in a rotated order.

The load (Chat/chat-load.c): --clients WebSocket clients over 10 rooms, each joins its room; once
all joined, one second of silence (the servers' resident memory is read then: the cost of an
idle, joined web client); then 10 % of each room's clients send, each with one message in flight
(it sends the next when its own comes back through the room). Every message event a client
receives is a delivery; its latency runs from the sender's write to the arrival.

Scenarios: `single`, one instance with its in-process rooms; `redis-2`, two instances sharing a
fresh redis-server (every room has members on both; messages go through XADD + PUBLISH). Every
server process (and redis-server) runs pinned to CPU 0, the load generator to CPU 1. The servers'
CPU time is read from /proc at the edges of the measured window: server CPU per delivery is the
instances' CPU (redis-server's is reported beside it, not in it) over the deliveries.

Prints one markdown table (medians; ratios of deliveries/s) and writes JSON lines (benchlib's
shape); `chart.py --bench chat` draws them.
"""

import argparse
import contextlib
import json
import os
import shlex
import subprocess
import sys
import time

import benchlib as b

CHAT = os.path.join(b.BENCHMARKS, "Chat")
SHOWCASE = os.path.join(b.REPO, "Showcase")
LOAD = os.path.join(b.BUILD, "chat-load")
HUMMINGBIRD_DIR = os.path.join(CHAT, "hummingbird-chat")

SCENARIOS = {"single": 1, "redis-2": 2}  # instances
SERVERS = ["ours", "aiohttp", "aiohttp-uvloop", "hummingbird"]
NO_REDIS = {"hummingbird"}  # no Redis client for NIO in this machine's package mirrors


def build(names, args):
    commands, missing = {}, {}
    b.build_c(os.path.join(CHAT, "chat-load.c"), LOAD)
    for name in names:
        try:
            if name == "ours":
                if args.ours_bin:
                    binary = args.ours_bin
                elif args.no_build:
                    binary = os.path.join(SHOWCASE, ".build", "release", "Chat")
                else:
                    binary = b.swift_build(SHOWCASE, "Chat")
                # Logs at warning: the others log nothing per connection either.
                commands[name] = [binary, "--http-port", "{port}", "--line-port", "0", "--log-level", "warning",
                                  "--connection-rate", "1000000", "{redis-flag}"]
            elif name.startswith("aiohttp"):
                python = b.venv_python(os.path.join(CHAT, "requirements-chat.txt"))
                commands[name] = [python, os.path.join(CHAT, "aiohttp_chat.py"), "{port}", "{redis-flag}"] + (
                    ["--uvloop"] if name.endswith("uvloop") else [])
            elif name == "hummingbird":
                binary = os.path.join(HUMMINGBIRD_DIR, ".build", "release", "hummingbird-chat")
                if not args.no_build:
                    binary = b.swift_build(HUMMINGBIRD_DIR, "hummingbird-chat")
                commands[name] = [binary, "{port}"]
            else:
                raise SystemExit(f"unknown server {name}; known: {', '.join(SERVERS)}")
            if not os.path.exists(commands[name][0]):
                missing[name] = f"{commands.pop(name)[0]} is not built"
        except (subprocess.CalledProcessError, RuntimeError) as error:
            missing[name] = str(error)
    return commands, missing


def with_redis(argv, url):
    """argv with {redis-flag} replaced by `--redis URL`, or dropped."""
    out = []
    for a in argv:
        if a == "{redis-flag}":
            out += ["--redis", url] if url else []
        else:
            out.append(a)
    return out


@contextlib.contextmanager
def redis_server():
    port = b.free_port()
    argv = b.pinned(b.SERVER_CPU, ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no"])
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not b.accepts(port):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)
        yield process, f"redis://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


def run_once(name, argv, scenario, args, logfile):
    instances = SCENARIOS[scenario]
    ports = [b.free_port() for _ in range(instances)]
    load = [LOAD, "--clients", str(args.clients), "--rooms", "10", "--senders", "10", "--idle", "1",
            "--warmup", str(args.warmup), "--duration", str(args.duration)]
    for port in ports:
        load += ["--port", str(port)]
    with contextlib.ExitStack() as stack:
        redis, url = stack.enter_context(redis_server()) if instances > 1 else (None, None)
        servers = [stack.enter_context(b.Server(with_redis(argv, url), port, logfile)) for port in ports]
        time.sleep(0.3)
        rss_before = sum(b.rss_kib(s.pid) for s in servers)
        generator = subprocess.Popen(b.pinned(b.LOAD_CPU, load), stdout=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL, preexec_fn=b.raise_fd_limit)
        start = end = result = rss_joined = None
        pids = [s.pid for s in servers]
        for line in generator.stdout:  # bounded: the generator ends itself (alarm)
            if line.startswith("joined"):
                time.sleep(0.5)
                rss_joined = sum(b.rss_kib(pid) for pid in pids)
            elif line.startswith("window-start"):
                start = [b.cpu_seconds(pid)[2] for pid in pids] + ([b.cpu_seconds(redis.pid)[2]] if redis else [])
            elif line.startswith("window-end"):
                end = [b.cpu_seconds(pid)[2] for pid in pids] + ([b.cpu_seconds(redis.pid)[2]] if redis else [])
            elif line.startswith("{"):
                result = json.loads(line)
        status = generator.wait()
        alive = all(s.alive() for s in servers)
    command = {"server": " ; ".join(shlex.join(b.pinned(b.SERVER_CPU, s.argv)) for s in servers),
               "load": shlex.join(b.pinned(b.LOAD_CPU, load))}
    if result is None or start is None or end is None:
        return {}, f"the load generator ended with status {status} and no result", command
    server_cpu = sum(end[i] - start[i] for i in range(instances))
    m = {k: result[k] for k in ("deliveries_per_s", "p50_us", "p99_us", "client_cpu", "deliveries", "sent")}
    m["server_cpu"] = round(server_cpu / args.duration, 3)
    if redis:
        m["redis_cpu"] = round((end[-1] - start[-1]) / args.duration, 3)
    if result["deliveries"]:
        m["server_cpu_us_per_delivery"] = round(server_cpu / result["deliveries"] * 1e6, 3)
    if rss_joined is not None:
        m["kib_per_client"] = round((rss_joined - rss_before) / args.clients, 3)
    error = None
    if status != 0:
        error = f"load generator status {status}: {json.dumps(result)}"
    if not alive:
        error = "a server exited during the run"
    return m, error, command


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", default="single,redis-2")
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=5.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds of load before measuring")
    ap.add_argument("--reference", default="aiohttp", help="the server the '×' column divides by")
    ap.add_argument("--no-build", action="store_true", help="use what is built; build nothing")
    ap.add_argument("--ours-bin", help="a release Chat binary to use")
    ap.add_argument("--json", help="append JSON lines here")
    ap.add_argument("--logdir", default="/tmp/chat-bench-logs", help="server output goes here")
    args = ap.parse_args()

    scenarios = args.scenarios.split(",")
    for s in scenarios:
        if s not in SCENARIOS:
            raise SystemExit(f"unknown scenario {s}")
    b.raise_fd_limit()
    commands, missing = build([n for n in args.servers.split(",") if n], args)
    for name, why in missing.items():
        b.log(f"skip {name}: {why}")
    os.makedirs(args.logdir, exist_ok=True)
    context = dict(date=b.today(), commit=b.commit(), machine=b.machine())
    summaries = b.run_matrix(
        "chat", scenarios, commands, args.repeats,
        lambda name, argv, scenario: run_once(name, argv, scenario, args,
                                              os.path.join(args.logdir, f"{name}-{scenario}.log")),
        lambda scenario: "deliveries_per_s", b.Recorder(args.json), context,
        skip=lambda scenario, name: SCENARIOS[scenario] > 1 and name in NO_REDIS)
    print_table(summaries, args)
    return 1 if missing or any(s.get("errors") for s in summaries) else 0


def print_table(summaries, args):
    def ratio(s, other):
        return b.ratio_to(summaries, s, other, "deliveries_per_s")

    name = b.shown_name

    if not summaries:
        return
    print(f"Chat fan-out, {summaries[0]['date']} at {summaries[0]['commit']}: {args.clients} WebSocket clients in "
          f"10 rooms, 10 % sending (one message in flight each); medians of {args.repeats} interleaved runs of "
          f"{args.duration:g} s (after {args.warmup:g} s of warm-up); servers (and redis-server) on CPU "
          f"{b.SERVER_CPU}, load on CPU {b.LOAD_CPU}.")
    headers = ["scenario", "server", "deliveries/s", f"× {args.reference}", "× hummingbird", "p50 µs", "p99 µs",
               "server CPU µs/delivery", "server CPU cores", "redis CPU cores", "KiB per idle client",
               "load CPU cores", "runs, k deliveries/s"]
    rows = [[s["scenario"], name(s), b.fmt(s["metrics"].get("deliveries_per_s")), b.fmt(ratio(s, args.reference), 2),
             b.fmt(ratio(s, "hummingbird"), 2), b.fmt(s["metrics"].get("p50_us")), b.fmt(s["metrics"].get("p99_us")),
             b.fmt(s["metrics"].get("server_cpu_us_per_delivery"), 2), b.fmt(s["metrics"].get("server_cpu"), 2),
             b.fmt(s["metrics"].get("redis_cpu"), 2), b.fmt(s["metrics"].get("kib_per_client"), 2),
             b.fmt(s["metrics"].get("client_cpu"), 2),
             ", ".join(f"{v / 1000:.0f}" for v in s["runs"].get("deliveries_per_s", []) if v is not None)]
            for s in summaries]
    print()
    print(b.markdown_table(headers, rows, left=2))


if __name__ == "__main__":
    sys.exit(main())

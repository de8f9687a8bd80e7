#!/usr/bin/env python3
"""WebSocket echo servers side by side: WebSocketBench against aiohttp, websockets, Hummingbird.

    Benchmarks/Scripts/ws.py [--scenarios pingpong-100,pingpong-16k,idle-1k] [--servers ...]
                             [--repeats 3] [--duration 5] [--json FILE]

Builds what is missing (WebSocket/ws-load.c with cc; WebSocketBench and EchoBench with swift build
-c release; aiohttp, uvloop and websockets into Benchmarks/.venv; Hummingbird's echo in
WebSocket/hummingbird-ws when --servers names it), then runs every server once per repeat in a
rotated order. Each server runs pinned to CPU 0, the load generator to CPU 1. The server's CPU time
is read from /proc at the edges of the measured window, so each run also gives server CPU per
message; the load generator's own CPU (load CPU cores) shows whether it was the limit.

`ours-raw-tcp` is EchoBench --mode protocol loaded with the same generator in --mode raw (the
same 64-byte payloads with no handshake and no framing): the ceiling a WebSocket server on our
loop can approach.

Prints one markdown table (medians; ratios of msgs/s) and writes JSON lines (benchlib's shape).
"""

import argparse
import os
import subprocess
import sys

import benchlib as b

WS = os.path.join(b.BENCHMARKS, "WebSocket")
LOAD = os.path.join(b.BUILD, "ws-load")
HUMMINGBIRD_DIR = os.path.join(WS, "hummingbird-ws")

SCENARIOS = {
    "pingpong-100": dict(mode="pingpong", conns=100, size=64),
    "pingpong-16k": dict(mode="pingpong", conns=50, size=16384),  # throughput: 16 KiB messages
    "idle-1k": dict(mode="idle", conns=1000, size=64),  # server memory per idle WebSocket
    "idle-10k": dict(mode="idle", conns=10000, size=64),
}
SERVERS = ["ours", "ours-raw-tcp", "aiohttp", "aiohttp-uvloop", "websockets", "hummingbird"]


def build(names, args):
    commands, missing = {}, {}
    b.build_c(os.path.join(WS, "ws-load.c"), LOAD)
    for name in names:
        try:
            if name in ("ours", "ours-raw-tcp"):
                product = "WebSocketBench" if name == "ours" else "EchoBench"
                if args.ours_bin:
                    binary = os.path.join(args.ours_bin, product)
                elif args.no_build:
                    binary = os.path.join(b.REPO, ".build", "release", product)
                else:
                    binary = b.swift_build(b.REPO, product)
                commands[name] = [binary, "--port", "{port}"] + (["--mode", "protocol"] if name != "ours" else [])
            elif name.startswith("aiohttp") or name == "websockets":
                python = b.venv_python(os.path.join(WS, "requirements.txt"))
                script = "websockets_ws.py" if name == "websockets" else "aiohttp_ws.py"
                commands[name] = [python, os.path.join(WS, script), "{port}"] + (
                    ["--uvloop"] if name.endswith("uvloop") else [])
            elif name == "hummingbird":
                binary = os.path.join(HUMMINGBIRD_DIR, ".build", "release", "hummingbird-ws")
                if not args.no_build:
                    binary = b.swift_build(HUMMINGBIRD_DIR, "hummingbird-ws")
                commands[name] = [binary, "{port}"]
            else:
                raise SystemExit(f"unknown server {name}; known: {', '.join(SERVERS)}")
            if not os.path.exists(commands[name][0]):
                missing[name] = f"{commands.pop(name)[0]} is not built"
        except (subprocess.CalledProcessError, RuntimeError) as error:
            missing[name] = str(error)
    return commands, missing


def run_once(name, argv, scenario, args, logfile):
    """Start the server, run the load once, stop the server; returns (metrics, error, command)."""
    sc = SCENARIOS[scenario]
    port = b.free_port()
    mode = "raw" if name == "ours-raw-tcp" and sc["mode"] == "pingpong" else sc["mode"]
    load = [LOAD, "--port", str(port), "--mode", mode, "--conns", str(sc["conns"]), "--size", str(sc["size"]),
            "--warmup", str(args.warmup), "--duration", str(args.duration)]
    return b.run_load(argv, port, logfile, load, args.duration, idle=sc["mode"] == "idle")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", default="pingpong-100,pingpong-16k,idle-1k")
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds of load before measuring")
    ap.add_argument("--reference", default="aiohttp", help="the server the '×' column divides by")
    ap.add_argument("--no-build", action="store_true", help="use what is built; build nothing")
    ap.add_argument("--ours-bin", help="a directory with release WebSocketBench and EchoBench to use")
    ap.add_argument("--json", help="append JSON lines here")
    ap.add_argument("--logdir", default="/tmp/ws-bench-logs", help="server output goes here")
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
        "websocket", scenarios, commands, args.repeats,
        lambda name, argv, scenario: run_once(name, argv, scenario, args, os.path.join(args.logdir, f"{name}.log")),
        lambda scenario: "kib_per_conn" if SCENARIOS[scenario]["mode"] == "idle" else "msgs_per_s",
        b.Recorder(args.json), context,
        skip=lambda scenario, name: SCENARIOS[scenario]["mode"] == "idle" and name == "ours-raw-tcp")
    print_table(summaries, args)
    return 1 if any(s.get("errors") for s in summaries) else 0


def print_table(summaries, args):
    def ratio(s, other, metric):
        return b.ratio_to(summaries, s, other, metric)

    name = b.shown_name

    if not summaries:
        return
    print(f"WebSocket echo servers, {summaries[0]['date']} at {summaries[0]['commit']}: medians of {args.repeats} "
          f"interleaved runs of {args.duration:g} s (after {args.warmup:g} s of warm-up), server on CPU "
          f"{b.SERVER_CPU}, load on CPU {b.LOAD_CPU}.")
    load = [s for s in summaries if s["main_metric"] == "msgs_per_s"]
    if load:
        headers = ["scenario", "server", "msgs/s", f"× {args.reference}", "× ours-raw-tcp", "p50 µs", "p99 µs",
                   "server CPU µs/msg", "server CPU cores", "load CPU cores", "runs, k msgs/s"]
        rows = [[s["scenario"], name(s), b.fmt(s["metrics"].get("msgs_per_s")),
                 b.fmt(ratio(s, args.reference, "msgs_per_s"), 2), b.fmt(ratio(s, "ours-raw-tcp", "msgs_per_s"), 2),
                 b.fmt(s["metrics"].get("p50_us")), b.fmt(s["metrics"].get("p99_us")),
                 b.fmt(s["metrics"].get("server_cpu_us_per_msg"), 2), b.fmt(s["metrics"].get("server_cpu"), 2),
                 b.fmt(s["metrics"].get("client_cpu"), 2),
                 ", ".join(f"{v / 1000:.0f}" for v in s["runs"].get("msgs_per_s", []) if v is not None)]
                for s in load]
        print()
        print(b.markdown_table(headers, rows, left=2))
    idle = [s for s in summaries if s["main_metric"] == "kib_per_conn"]
    if idle:
        headers = ["scenario", "server", "KiB per idle WebSocket", "RSS before, KiB", "RSS with connections, KiB",
                   "connected"]
        rows = [[s["scenario"], name(s), b.fmt(s["metrics"].get("kib_per_conn"), 2),
                 b.fmt(s["metrics"].get("rss_before_kib")), b.fmt(s["metrics"].get("rss_idle_kib")),
                 b.fmt(s["metrics"].get("connected"))] for s in idle]
        print()
        print(b.markdown_table(headers, rows, left=2))


if __name__ == "__main__":
    sys.exit(main())

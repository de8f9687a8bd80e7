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
import json
import os
import shlex
import subprocess
import sys
import time

import benchlib as b

WS = os.path.join(b.BENCHMARKS, "WebSocket")
LOAD = os.path.join(b.BUILD, "ws-load")
HUMMINGBIRD_DIR = os.path.join(WS, "hummingbird-ws")

SCENARIOS = {
    "pingpong-100": dict(mode="pingpong", conns=100, size=64),
    "pingpong-16k": dict(mode="pingpong", conns=50, size=16384),  # throughput: 16 KiB messages
    "idle-1k": dict(mode="idle", conns=1000, size=64),  # server memory per idle WebSocket
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
    sc = SCENARIOS[scenario]
    port = b.free_port()
    mode = "raw" if name == "ours-raw-tcp" and sc["mode"] == "pingpong" else sc["mode"]
    load = [LOAD, "--port", str(port), "--mode", mode, "--conns", str(sc["conns"]), "--size", str(sc["size"]),
            "--warmup", str(args.warmup), "--duration", str(args.duration)]
    with b.Server(argv, port, logfile) as server:
        time.sleep(0.2)
        rss_before = b.rss_kib(server.pid)
        generator = subprocess.Popen(b.pinned(b.LOAD_CPU, load), stdout=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL, preexec_fn=b.raise_fd_limit)
        start = end = result = rss_idle = None
        for line in generator.stdout:  # bounded: the generator ends itself (alarm)
            if line.startswith("window-start"):
                start = b.cpu_seconds(server.pid)
                if sc["mode"] == "idle":
                    time.sleep(min(1.0, args.duration / 2))
                    rss_idle = b.rss_kib(server.pid)
            elif line.startswith("window-end"):
                end = b.cpu_seconds(server.pid)
            elif line.startswith("{"):
                result = json.loads(line)
        status = generator.wait()
        alive = server.alive()
    command = {"server": shlex.join(b.pinned(b.SERVER_CPU, server.argv)),
               "load": shlex.join(b.pinned(b.LOAD_CPU, load))}
    if result is None or start is None or end is None:
        return {"error": f"the load generator ended with status {status} and no result"}, command
    if sc["mode"] == "idle":
        m = {"connected": result["connected"], "rss_before_kib": rss_before, "rss_idle_kib": rss_idle,
             "kib_per_conn": round((rss_idle - rss_before) / result["connected"], 3) if result["connected"] else None}
    else:
        m = {k: result[k] for k in ("msgs_per_s", "mb_per_s", "p50_us", "p99_us", "client_cpu", "msgs")}
        m["server_cpu"] = round((end[2] - start[2]) / args.duration, 3)
        if result["msgs"]:
            m["server_cpu_us_per_msg"] = round((end[2] - start[2]) / result["msgs"] * 1e6, 3)
    error = None
    if status != 0:
        error = f"load generator status {status}: {json.dumps(result)}"
    if not alive:
        error = "the server exited during the run"
    return ({"metrics": m, "error": error} if error else {"metrics": m}), command


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
    names = list(commands)
    context = dict(date=b.today(), commit=b.commit(), machine=b.machine())
    recorder = b.Recorder(args.json)
    summaries = []
    for scenario in scenarios:
        runs = {name: [] for name in names}
        for repeat, name in b.interleaved(names, args.repeats):
            if scenario == "idle-1k" and name == "ours-raw-tcp":
                continue
            try:
                run, command = run_once(name, commands[name], scenario, args, os.path.join(args.logdir, f"{name}.log"))
            except RuntimeError as error:
                run, command = {"error": str(error)}, {"server": shlex.join(commands[name])}
            record = dict(context, bench="websocket", kind="run", scenario=scenario, server=name, repeat=repeat,
                          command=command, metrics=run.get("metrics", {}),
                          **({"error": run["error"]} if "error" in run else {}))
            recorder.add(record)
            runs[name].append(record)
            b.log(f"[{scenario}] #{repeat} {name}: " + ", ".join(f"{k} {v}" for k, v in record["metrics"].items() if k in (
                "msgs_per_s", "server_cpu_us_per_msg", "client_cpu", "kib_per_conn")) +
                (f" ERROR {run['error']}" if "error" in run else ""))
        summaries += [b.summarize("websocket", scenario, name, runs[name],
                                  "kib_per_conn" if SCENARIOS[scenario]["mode"] == "idle" else "msgs_per_s", context)
                      for name in names if runs[name]]
    b.add_ratios(summaries)
    for s in summaries:
        recorder.add(s)
    print_table(summaries, args)
    return 1 if any(s.get("errors") for s in summaries) else 0


def print_table(summaries, args):
    def ratio(s, other, metric):
        ref = next((r for r in summaries if r["scenario"] == s["scenario"] and r["server"] == other), None)
        mine, theirs = s["metrics"].get(metric), ref and ref["metrics"].get(metric)
        return mine / theirs if mine and theirs else None

    def name(s):
        shown = f"**{s['server']}**" if s["server"].startswith("ours") else s["server"]
        return shown + (f" ({len(s['errors'])} failed runs)" if s.get("errors") else "")

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

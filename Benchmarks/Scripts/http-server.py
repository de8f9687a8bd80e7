#!/usr/bin/env python3
"""The HTTP server benchmark: HTTPBench (`--api low`, `--api app`) beside nginx (one worker), raw
SwiftNIO HTTP/1, Hummingbird 2 and aiohttp (asyncio, uvloop), with wrk as the load.

    Benchmarks/Scripts/http-server.py [--repeats 3] [--duration 5] [--warmup 1]
        [--scenarios c1,c64,c256,close-c16] [--idle 10000]
        [--servers low,app,nginx,nio,hummingbird,aiohttp,aiohttp-uvloop]
        [--no-build] [--json Benchmarks/Results/http-server.jsonl]

Every server answers `GET /` with `200 text/plain "Hello world!\\r\\n"`, runs pinned to CPU 0
(benchlib's SERVER_CPU) on one thread of work, and is started once per repeat; wrk runs pinned to
CPU 1 with one thread: `c1`, `c64`, `c256` keep-alive connections, and `close-c16` (16 connections,
`Connection: close` on every request). Each scenario gets `warmup` seconds of wrk first, then a
measured run of `duration` seconds. Recorded per run: requests/s, p50 and p99 latency (wrk
--latency), the server's CPU time per request (all its threads, over the measured window), wrk's
own CPU share (near 100 % means the load generator, not the server, set the pace) and wrk's
socket errors. Servers run interleaved, the order rotated every repeat; medians over the repeats.

`--idle N` then opens N keep-alive connections to each server, sends one request on each, waits 3
seconds (our connections let their handler task go after 2), and records the server's resident
memory growth per connection (VmRSS after minus before, over N).

Builds what is missing first (benchlib): HTTPBench (release, this repository), `nio-http-server`
and `hummingbird-server` (release, this Benchmarks package), the venv Benchmarks/.venv with aiohttp
and uvloop (git-ignored). nginx and wrk come from Debian (`apt-get install nginx-light wrk`).
JSON lines in benchlib's shape.

`--loops N` (N > 1) measures the multi-core servers instead: HTTPBench with `--loops N` (an
EventLoopGroup, one SO_REUSEPORT listener per loop) beside nginx with N worker processes (the
others have one thread of work and are left out). Server and wrk (N threads) then share CPUs
0..N-1 instead of being pinned apart, so the load generator takes its share of the same cores:
the figures say what the pair does on the whole machine, and the server's CPU is that of all its
processes (nginx's workers included).
"""

import argparse
import importlib.util
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

BENCH = "http-server"
REQUIREMENTS = os.path.join(benchlib.SCRIPTS, "requirements-http-client.txt")
SCENARIOS = {"c1": (1, False), "c64": (64, False), "c256": (256, False), "close-c16": (16, True)}
SERVERS = ["low", "app", "nginx", "nio", "hummingbird", "aiohttp", "aiohttp-uvloop"]


def nginx_config(directory, port):
    """The client benchmark's nginx (one worker, no logs, `GET /` answered from memory), with room
    for the idle-connection figure's connections."""
    spec = importlib.util.spec_from_file_location("http_client", os.path.join(benchlib.SCRIPTS, "http-client.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = module.nginx_config(directory, port)
    with open(path) as f:
        text = f.read().replace("worker_connections 4096;", "worker_connections 19000;")
    with open(path, "w") as f:
        f.write(text)
    return path


def commands(servers, build, workdir, loops=1):
    """The command of each server, `{port}` to be replaced; builds what is missing."""
    argv = {}
    if {"low", "app"} & set(servers):
        bench = benchlib.swift_build(benchlib.REPO, "HTTPBench") if build else \
            os.path.join(benchlib.REPO, ".build", "release", "HTTPBench")
        more = ["--loops", str(loops)] if loops > 1 else []
        argv["low"] = [bench, "--api", "low", "--port", "{port}"] + more
        argv["app"] = [bench, "--api", "app", "--port", "{port}"] + more
    for name, product in [("nio", "nio-http-server"), ("hummingbird", "hummingbird-server")]:
        if name in servers:
            path = benchlib.swift_build(benchlib.BENCHMARKS, product) if build else \
                os.path.join(benchlib.BENCHMARKS, ".build", "release", product)
            argv[name] = [path, "{port}"]
    if "nginx" in servers:
        argv["nginx"] = ["nginx", "-c", "{config}"]
    if {"aiohttp", "aiohttp-uvloop"} & set(servers):
        python = benchlib.venv_python(REQUIREMENTS) if build else os.path.join(benchlib.VENV, "bin", "python")
        script = os.path.join(benchlib.SCRIPTS, "aiohttp_server.py")
        argv["aiohttp"] = [python, script, "{port}", "asyncio"]
        argv["aiohttp-uvloop"] = [python, script, "{port}", "uvloop"]
    return {name: argv[name] for name in servers}


def start(name, argv, workdir, loops=1):
    port = benchlib.free_port()
    if name == "nginx":
        config_dir = tempfile.mkdtemp(dir=workdir)
        config = nginx_config(config_dir, port)
        if loops > 1:
            # Workers need the master process (which forks them and stays idle).
            with open(config) as f:
                text = f.read()
            text = text.replace("master_process off;", "master_process on;")
            text = text.replace("worker_processes 1;", f"worker_processes {loops};")
            with open(config, "w") as f:
                f.write(text)
        argv = [a.replace("{config}", config) for a in argv]
    return benchlib.Server(argv, port, os.path.join(workdir, f"{name}.log"))


def tree_cpu_seconds(pid):
    """CPU seconds of a process and all its descendants (nginx's workers), every thread."""
    total = benchlib.cpu_seconds(pid)[2]
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for child in f.read().split():
                    total += tree_cpu_seconds(int(child))
    except OSError:
        pass  # a process or thread that ended meanwhile
    return total


UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def parse_wrk(output):
    """requests/s, p50 and p99 in µs, socket errors and non-2xx answers from a wrk --latency report."""
    metrics = {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for percent, key in (("50", "p50_us"), ("99", "p99_us")):
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        metrics[key] = round(float(match.group(1)) * UNITS[match.group(2)] * 1e6, 1) if match else None
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    metrics["socket_errors"] = sum(int(g) for g in errors.groups()) if errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    metrics["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return metrics


def wrk(port, connections, close, seconds, lua, threads=1):
    """One pinned wrk run; returns its report, and its CPU seconds (user + system)."""
    argv = benchlib.pinned(benchlib.LOAD_CPU, ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
                                               "--latency", "--timeout", "5s"])
    if close:
        argv += ["-s", lua]
    argv.append(f"http://127.0.0.1:{port}/")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, cpu, " ".join(argv)


def measure(server, scenario, args, lua):
    connections, close = SCENARIOS[scenario]
    wrk(server.port, connections, close, args.warmup, lua, args.loops)
    cpu_before = tree_cpu_seconds(server.pid)
    output, wrk_cpu, command = wrk(server.port, connections, close, args.duration, lua, args.loops)
    cpu_after = tree_cpu_seconds(server.pid)
    metrics = parse_wrk(output)
    requests = metrics["requests_per_s"] * args.duration
    metrics["server_cpu_us_per_req"] = round((cpu_after - cpu_before) / requests * 1e6, 2) if requests else None
    metrics["server_cpu_share"] = round((cpu_after - cpu_before) / args.duration, 3)
    metrics["wrk_cpu_share"] = round(wrk_cpu / args.duration, 3)
    return metrics, command


def idle_memory(server, count):
    """Resident memory growth per idle keep-alive connection, in bytes, over `count` connections."""
    warm = socket.create_connection(("127.0.0.1", server.port))
    warm.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    warm.recv(4096)
    time.sleep(3)
    before = benchlib.rss_kib(server.pid)
    sockets = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            sockets.append(s)
        for s in sockets:
            if not s.recv(4096):
                raise RuntimeError("a connection closed before its answer")
        time.sleep(3)
        after = benchlib.rss_kib(server.pid)
    finally:
        for s in sockets:
            s.close()
        warm.close()
    return round((after - before) * 1024 / count)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--idle", type=int, default=0, help="keep-alive connections for the memory figure")
    parser.add_argument("--loops", type=int, default=1,
                        help="N > 1: HTTPBench --loops N and nginx with N workers, sharing CPUs 0..N-1 with wrk")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.loops > 1:
        cpus = f"0-{args.loops - 1}"
        benchlib.SERVER_CPU = benchlib.LOAD_CPU = cpus
        if args.servers == ",".join(SERVERS):
            args.servers = "low,app,nginx"
    scenarios = [s for s in args.scenarios.split(",") if s]
    servers = [s for s in args.servers.split(",") if s]
    for name in scenarios:
        if name not in SCENARIOS:
            parser.error(f"unknown scenario {name}")
    for name in servers:
        if name not in SERVERS:
            parser.error(f"unknown server {name}")
    for tool in ("wrk", "taskset") + (("nginx",) if "nginx" in servers else ()):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (apt-get install wrk nginx-light util-linux)")
    benchlib.raise_fd_limit()

    workdir = tempfile.mkdtemp(prefix="bench-http-server-")
    lua = os.path.join(workdir, "close.lua")
    with open(lua, "w") as f:
        f.write('wrk.headers["Connection"] = "close"\n')
    argv = commands(servers, not args.no_build, workdir, args.loops)
    recorder = benchlib.Recorder(args.json)
    context = {"date": benchlib.today(), "commit": benchlib.commit(), "machine": benchlib.machine(),
               "loops": args.loops}
    runs = {}
    for repeat, name in benchlib.interleaved(servers, args.repeats):
        with start(name, argv[name], workdir, args.loops) as server:
            for scenario in scenarios:
                benchlib.log(f"run {repeat}/{args.repeats}: {name} {scenario}")
                record = dict(context, bench=BENCH, kind="run", scenario=scenario, server=name, repeat=repeat)
                try:
                    metrics, command = measure(server, scenario, args, lua)
                    record.update(metrics=metrics, command={"server": " ".join(server.argv), "load": command})
                except (subprocess.SubprocessError, RuntimeError, AttributeError) as error:
                    record.update(metrics={}, error=str(error))
                recorder.add(record)
                runs.setdefault((scenario, name), []).append(record)
            if args.idle and repeat == 1:
                record = dict(context, bench=BENCH, kind="run", scenario=f"idle-{args.idle}", server=name, repeat=1)
                try:
                    record.update(metrics={"idle_bytes_per_conn": idle_memory(server, args.idle)})
                except (OSError, RuntimeError) as error:
                    record.update(metrics={}, error=str(error))
                recorder.add(record)
                runs.setdefault((f"idle-{args.idle}", name), []).append(record)

    summaries = []
    for (scenario, name), records in runs.items():
        main_metric = "idle_bytes_per_conn" if scenario.startswith("idle-") else "requests_per_s"
        summaries.append(benchlib.summarize(BENCH, scenario, name, records, main_metric, context))
    benchlib.add_ratios(summaries)
    for summary in summaries:
        recorder.add(summary)

    by = {(s["scenario"], s["server"]): s for s in summaries}
    for scenario in scenarios:
        rows = []
        for name in servers:
            m = by[(scenario, name)]["metrics"]
            ratio = by[(scenario, name)]["ratios"].get("nginx") if name != "nginx" else 1.0
            rows.append([name, benchlib.fmt(m.get("requests_per_s")), benchlib.fmt(ratio, 2),
                         benchlib.fmt(m.get("p50_us")), benchlib.fmt(m.get("p99_us")),
                         benchlib.fmt(m.get("server_cpu_us_per_req"), 2), benchlib.fmt(m.get("wrk_cpu_share"), 2),
                         benchlib.fmt(m.get("socket_errors"))])
        shared = f", {args.loops} loops / nginx workers, server and wrk -t{args.loops} sharing CPUs 0-{args.loops - 1}" \
            if args.loops > 1 else ""
        print(f"\n{scenario} (medians of {args.repeats}, {args.duration} s each{shared})\n")
        print(benchlib.markdown_table(["server", "req/s", "× nginx", "p50 µs", "p99 µs", "server CPU µs/req",
                                       "wrk CPU share", "socket errors"], rows))
    if args.idle:
        rows = [[name, benchlib.fmt(by[(f"idle-{args.idle}", name)]["metrics"].get("idle_bytes_per_conn"))]
                for name in servers]
        print(f"\nidle keep-alive connections ({args.idle})\n")
        print(benchlib.markdown_table(["server", "bytes per connection"], rows))


if __name__ == "__main__":
    main()

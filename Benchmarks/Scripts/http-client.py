#!/usr/bin/env python3
"""The HTTP client benchmark: our ClientSession, AsyncHTTPClient and aiohttp against one nginx.

    Benchmarks/Scripts/http-client.py [--repeats 3] [--duration 5] [--warmup 1] [--concurrency 64]
                                      [--clients ours,ahc,ahc-futures,aiohttp] [--no-build]
                                      [--json results.jsonl]

nginx runs with one worker pinned to CPU 0 and answers `GET /` with `200 text/plain
"Hello world!\\r\\n"`; each client runs pinned to CPU 1 with `concurrency` requests in flight for
`warmup` + `duration` seconds and reports the requests completed in the measured window and its
own CPU time (all threads). Clients run interleaved, the order rotated every repeat, against the
same nginx. Medians over the repeats; ratios are ours / theirs for requests/s and theirs / ours
for CPU per request (higher is better for us in both). nginx's CPU share over each run is shown:
near 100 % means nginx, not the client, set the pace, and then CPU per request is the figure to
compare.

Builds what is missing first: `http-client-bench` (release) and a venv in Benchmarks/.venv with
aiohttp (git-ignored). Writes JSON lines (one per run, one summary per client) to --json.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
BENCHMARKS = os.path.dirname(SCRIPTS)
REPO = os.path.dirname(BENCHMARKS)
VENV = os.path.join(BENCHMARKS, ".venv")
REQUIREMENTS = os.path.join(SCRIPTS, "requirements-http-client.txt")
SERVER_CPU, CLIENT_CPU = 0, 1


def log(message):
    print(message, file=sys.stderr, flush=True)


def build(no_build):
    if not no_build:
        log("build: (cd Benchmarks && swift build -c release --product http-client-bench)")
        subprocess.run(["swift", "build", "-c", "release", "--product", "http-client-bench"], cwd=BENCHMARKS, check=True)
    out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=BENCHMARKS, check=True,
                         capture_output=True, text=True)
    binary = os.path.join(out.stdout.strip(), "http-client-bench")
    python = os.path.join(VENV, "bin", "python")
    if not no_build and not os.path.exists(python):
        log("build: python3 -m venv Benchmarks/.venv && pip install -r " + os.path.relpath(REQUIREMENTS, REPO))
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    if not no_build:
        subprocess.run([python, "-m", "pip", "install", "-q", "-r", REQUIREMENTS], check=True)
    return binary, python


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(directory, port):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    config = os.path.join(directory, "nginx.conf")
    with open(config, "w") as f:
        f.write(f"""daemon off;
master_process off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = / {{ default_type text/plain; return 200 "Hello world!\\r\\n"; }}
    }}
}}
""")
    process = subprocess.Popen(["taskset", "-c", str(SERVER_CPU), nginx, "-c", config, "-p", directory],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("nginx did not start (see " + directory + "/error.log)")
            time.sleep(0.05)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def commit():
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return out.stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--clients", default="ours,ahc,ahc-futures,aiohttp")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    binary, python = build(args.no_build)
    clients = args.clients.split(",")
    directory = tempfile.mkdtemp(prefix="http-client-bench-")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    common = ["--url", url, "--concurrency", str(args.concurrency), "--warmup", str(args.warmup),
              "--duration", str(args.duration)]
    commands = {
        "ours": [binary, "--client", "ours"] + common,
        "ahc": [binary, "--client", "ahc"] + common,
        "ahc-futures": [binary, "--client", "ahc-futures"] + common,
        "aiohttp": [python, os.path.join(SCRIPTS, "aiohttp_client.py")] + common,
        "aiohttp-uvloop": [python, os.path.join(SCRIPTS, "aiohttp_client.py"), "--uvloop"] + common,
    }
    date = datetime.date.today().isoformat()
    built_at = commit()  # the checkout the binaries were built from (taken before any run)
    machine = {"cpus": os.cpu_count(), "kernel": platform.release()}
    lines = []
    runs = {name: [] for name in clients}
    nginx = start_nginx(directory, port)
    try:
        for repeat in range(args.repeats):
            order = clients[repeat % len(clients):] + clients[:repeat % len(clients)]
            for name in order:
                before, started = cpu_seconds(nginx.pid), time.monotonic()
                out = subprocess.run(["taskset", "-c", str(CLIENT_CPU)] + commands[name], capture_output=True,
                                     text=True, timeout=args.warmup + args.duration + 120)
                nginx_share = (cpu_seconds(nginx.pid) - before) / (time.monotonic() - started)
                if out.returncode != 0:
                    raise RuntimeError(f"{name} failed: {out.stderr[-2000:]}")
                result = json.loads(out.stdout.strip().splitlines()[-1])
                metrics = {"requests_per_s": result["requests_per_s"],
                           "client_cpu_us_per_request": result["cpu_us_per_request"],
                           "nginx_cpu_share": nginx_share, "errors": result["errors"]}
                runs[name].append(metrics)
                log(f"{name:15} repeat {repeat + 1}: {metrics['requests_per_s']:9.0f} req/s, "
                    f"{metrics['client_cpu_us_per_request']:6.2f} us CPU/req, nginx {nginx_share:4.0%}")
                lines.append({"bench": "http-client", "kind": "run", "scenario": f"c{args.concurrency}",
                              "server": name, "date": date, "commit": built_at, "repeat": repeat + 1,
                              "metrics": metrics, "command": {"client": " ".join(commands[name])},
                              "machine": machine})
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)

    medians = {name: {key: statistics.median(run[key] for run in runs[name]) for key in runs[name][0]}
               for name in clients}
    print(f"| client (c{args.concurrency}, {args.repeats} × {args.duration:g} s, {date}) | requests/s | "
          f"client CPU µs/request | nginx CPU | ours ÷ it (req/s) | it ÷ ours (CPU/req) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in clients:
        m = medians[name]
        ratios = {}
        if "ours" in medians:
            ratios = {"requests_per_s": medians["ours"]["requests_per_s"] / m["requests_per_s"],
                      "client_cpu_us_per_request": m["client_cpu_us_per_request"]
                      / medians["ours"]["client_cpu_us_per_request"]}
        print(f"| {name} | {m['requests_per_s']:,.0f} | {m['client_cpu_us_per_request']:.2f} | "
              f"{m['nginx_cpu_share']:.0%} | {ratios.get('requests_per_s', 0):.2f}× | "
              f"{ratios.get('client_cpu_us_per_request', 0):.2f}× |")
        lines.append({"bench": "http-client", "kind": "summary", "scenario": f"c{args.concurrency}",
                      "server": name, "date": date, "commit": built_at, "repeats": args.repeats,
                      "metrics": m, "runs": {k: [r[k] for r in runs[name]] for k in m}, "ratios": ratios,
                      "command": {"client": " ".join(commands[name])}, "machine": machine})
    if args.json:
        with open(args.json, "a") as f:
            for line in lines:
                f.write(json.dumps(line, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()

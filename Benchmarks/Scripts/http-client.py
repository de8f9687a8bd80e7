#!/usr/bin/env python3
"""The HTTP client benchmark: our ClientSession, AsyncHTTPClient and aiohttp against one nginx.

    Benchmarks/Scripts/http-client.py [--repeats 3] [--duration 5] [--warmup 1] [--concurrency 64]
                                      [--clients ours,ahc,ahc-futures,aiohttp,aiohttp-uvloop]
                                      [--no-build] [--json Benchmarks/Results/http-client.jsonl]

nginx runs with one worker pinned to CPU 0 (benchlib's SERVER_CPU) and answers `GET /` with
`200 text/plain "Hello world!\\r\\n"`; each client runs pinned to CPU 1 (LOAD_CPU) with
`concurrency` requests in flight for `warmup` + `duration` seconds and reports the requests
completed in the measured window and its own CPU time (all threads). Clients run interleaved, the
order rotated every repeat, against the same nginx. Medians over the repeats; ratios are this
client's requests/s over the others'. nginx's CPU share over each run is recorded: near 100 % means
nginx, not the client, set the pace, and then client CPU per request is the figure to compare.

Builds what is missing first (benchlib): `http-client-bench` (release) and the venv
Benchmarks/.venv with aiohttp and uvloop (git-ignored). JSON lines in benchlib's shape.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

REQUIREMENTS = os.path.join(benchlib.SCRIPTS, "requirements-http-client.txt")
BENCH = "http-client"


def nginx_config(directory, port):
    """A config for one worker, no logs, keep-alive without limit, `GET /` answered from memory."""
    path = os.path.join(directory, "nginx.conf")
    with open(path, "w") as f:
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
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--clients", default="ours,ahc,ahc-futures,aiohttp,aiohttp-uvloop")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    if args.no_build:
        out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=benchlib.BENCHMARKS,
                             check=True, capture_output=True, text=True)
        binary = os.path.join(out.stdout.strip(), "http-client-bench")
        python = os.path.join(benchlib.VENV, "bin", "python")
    else:
        binary = benchlib.swift_build(benchlib.BENCHMARKS, "http-client-bench")
        python = benchlib.venv_python(REQUIREMENTS)

    clients = args.clients.split(",")
    port = benchlib.free_port()
    common = ["--url", f"http://127.0.0.1:{port}/", "--concurrency", str(args.concurrency),
              "--warmup", str(args.warmup), "--duration", str(args.duration)]
    aiohttp = [python, os.path.join(benchlib.SCRIPTS, "aiohttp_client.py")]
    commands = {
        "ours": [binary, "--client", "ours"] + common,
        "ahc": [binary, "--client", "ahc"] + common,
        "ahc-futures": [binary, "--client", "ahc-futures"] + common,
        "aiohttp": aiohttp + common,
        "aiohttp-uvloop": aiohttp + ["--uvloop"] + common,
    }
    scenario = f"c{args.concurrency}"
    context = {"date": benchlib.today(), "commit": benchlib.commit(), "machine": benchlib.machine()}
    recorder = benchlib.Recorder(args.json)
    runs = {name: [] for name in clients}

    directory = tempfile.mkdtemp(prefix="http-client-bench-")
    nginx = [shutil.which("nginx") or "/usr/sbin/nginx", "-c", nginx_config(directory, port), "-p", directory]
    with benchlib.Server(nginx, port, os.path.join(directory, "nginx.out")) as server:
        for repeat, name in benchlib.interleaved(clients, args.repeats):
            before, started = benchlib.cpu_seconds(server.pid)[2], time.monotonic()
            out = subprocess.run(benchlib.pinned(benchlib.LOAD_CPU, commands[name]), capture_output=True, text=True,
                                 timeout=args.warmup + args.duration + 120)
            nginx_share = (benchlib.cpu_seconds(server.pid)[2] - before) / (time.monotonic() - started)
            record = dict(context, bench=BENCH, kind="run", scenario=scenario, server=name, repeat=repeat,
                          command={"client": " ".join(commands[name]), "server": " ".join(nginx)})
            if out.returncode != 0:
                record["error"] = out.stderr[-2000:]
                benchlib.log(f"{name:15} repeat {repeat}: failed ({out.stderr.strip()[-200:]})")
            else:
                result = json.loads(out.stdout.strip().splitlines()[-1])
                record["metrics"] = {"requests_per_s": result["requests_per_s"],
                                     "client_cpu_us_per_request": result["cpu_us_per_request"],
                                     "nginx_cpu_share": nginx_share, "errors": result["errors"]}
                benchlib.log(f"{name:15} repeat {repeat}: {result['requests_per_s']:9.0f} req/s, "
                             f"{result['cpu_us_per_request']:6.2f} us CPU/req, nginx {nginx_share:4.0%}")
            recorder.add(record)
            runs[name].append(record)
    shutil.rmtree(directory, ignore_errors=True)

    summaries = [benchlib.summarize(BENCH, scenario, name, runs[name], "requests_per_s", context)
                 for name in clients]
    benchlib.add_ratios(summaries)
    for summary in summaries:
        recorder.add(summary)
    ours = next((s for s in summaries if s["server"] == "ours"), None)
    rows = []
    for s in summaries:
        m = s["metrics"]
        cpu_ratio = (m["client_cpu_us_per_request"] / ours["metrics"]["client_cpu_us_per_request"]
                     if ours and m.get("client_cpu_us_per_request") else None)
        speed_ratio = ours["ratios"].get(s["server"], 1.0) if ours else None
        rows.append([s["server"], benchlib.fmt(m.get("requests_per_s")),
                     benchlib.fmt(m.get("client_cpu_us_per_request"), 2),
                     f"{m['nginx_cpu_share']:.0%}" if m.get("nginx_cpu_share") is not None else "–",
                     f"{speed_ratio:.2f}×" if speed_ratio else "–", f"{cpu_ratio:.2f}×" if cpu_ratio else "–"])
    print(benchlib.markdown_table(
        [f"client ({scenario}, {args.repeats} × {args.duration:g} s, {context['date']})", "requests/s",
         "client CPU µs/request", "nginx CPU", "ours ÷ it (req/s)", "it ÷ ours (CPU/req)"], rows))


if __name__ == "__main__":
    main()

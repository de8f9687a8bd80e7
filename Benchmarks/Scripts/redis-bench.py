#!/usr/bin/env python3
"""The Redis client benchmark: RedisBench (AsyncIORedis) beside redis-benchmark (C), redis-py with
hiredis (asyncio and uvloop) and asyncio_redis, against one redis-server.

    Benchmarks/Scripts/redis-bench.py [--repeats 1] [--duration 5] [--ops 200000]
                                [--shapes set-c1,get-c1,set-c50,get-c50,set-p100,get-p100,pubsub]
                                [--clients ours,redis-benchmark,redis-py,redis-py-uvloop,asyncio_redis]
                                [--no-build] [--json Benchmarks/Results/redis.jsonl]

redis-server runs pinned to CPU 0 (benchlib's SERVER_CPU) with `--save '' --appendonly no`; each
client runs pinned to CPU 1 (LOAD_CPU), shape after shape (FLUSHALL before each), clients
interleaved per repeat. For every run it records ops/s, the client's own CPU time per operation
(its children's rusage: user + system) and the server's CPU share over the run: near 100 % means
the server set the pace, and then client CPU per operation is what ranks the clients.
redis-benchmark has no duration: a short probe sizes its `-n` to last about `--duration`.

Builds what is missing first: RedisBench (release, the root package) and Benchmarks/.venv with
redis, hiredis, asyncio_redis and uvloop (requirements-redis.txt). JSON lines in benchlib's shape.
"""

import argparse
import os
import re
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

BENCH = "redis"
SHAPES = "set-c1,get-c1,set-c50,get-c50,set-p100,get-p100,pubsub"
CLIENTS = "ours,redis-benchmark,redis-py,redis-py-uvloop,asyncio_redis"
REQUIREMENTS = os.path.join(benchlib.SCRIPTS, "requirements-redis.txt")
PYTHON_CLIENT = os.path.join(benchlib.SCRIPTS, "redis_client.py")


def client_argv(client, shape, port, args, binary, python, ops=None):
    ops = ops or args.ops
    if client == "ours":
        return [binary, "--port", str(port), "--shape", shape, "--ops", str(ops), "--duration", str(args.duration)]
    if client == "redis-benchmark":
        op, mode = shape.split("-")
        clients, pipeline = {"c1": (1, 1), "c50": (50, 1), "p100": (1, 100)}[mode]
        return ["redis-benchmark", "-p", str(port), "-t", op, "-n", str(ops), "-c", str(clients),
                "-P", str(pipeline), "-d", "3", "--csv"]
    name, _, loop = client.partition("-uvloop")
    return [python, PYTHON_CLIENT, "--client", "redis-py" if client.startswith("redis-py") else "asyncio_redis",
            "--port", str(port), "--shape", shape, "--ops", str(ops), "--duration", str(args.duration),
            "--loop", "uvloop" if client.endswith("uvloop") else "asyncio"]


def run_client(argv, server_pid):
    """Runs a client pinned to LOAD_CPU; returns (ops, seconds, client CPU seconds, server CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = benchlib.cpu_seconds(server_pid)[2]
    out = subprocess.run(benchlib.pinned(benchlib.LOAD_CPU, argv), capture_output=True, text=True, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = benchlib.cpu_seconds(server_pid)[2] - server_before
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: status {out.returncode}: {out.stderr.strip()[-300:]}")
    match = re.search(r"RESULT ops=(\d+) seconds=([0-9.]+)", out.stdout)
    if match:
        return int(match.group(1)), float(match.group(2)), cpu, server_cpu
    # redis-benchmark --csv: "test","rps",… then "SET","123456.79",…
    rows = [line.split(",") for line in out.stdout.splitlines() if line.startswith('"') and "rps" not in line]
    rate = float(rows[-1][1].strip('"'))
    ops = int(argv[argv.index("-n") + 1])
    return ops, ops / rate, cpu, server_cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--shapes", default=SHAPES)
    parser.add_argument("--clients", default=CLIENTS)
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--binary", default=None, help="a RedisBench binary to use instead of building one")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    shapes, clients = args.shapes.split(","), args.clients.split(",")

    if args.binary:
        binary = args.binary
    elif args.no_build:
        out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=benchlib.REPO,
                             check=True, capture_output=True, text=True)
        binary = os.path.join(out.stdout.strip(), "RedisBench")
    else:
        binary = benchlib.swift_build(benchlib.REPO, "RedisBench")
    python = benchlib.venv_python(REQUIREMENTS)
    recorder = benchlib.Recorder(args.json)
    context = {"date": benchlib.today(), "commit": benchlib.commit(), "machine": benchlib.machine(),
               "duration": args.duration, "ops": args.ops}
    port = benchlib.free_port()
    server_argv = ["redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   "--client-output-buffer-limit", "pubsub 0 0 0"]
    runs = {}
    with benchlib.Server(server_argv, port, "/tmp/redis-bench-server.log") as server:
        for repeat, client in benchlib.interleaved(clients, args.repeats):
            for shape in shapes:
                if client == "redis-benchmark" and shape == "pubsub":
                    continue
                subprocess.run(["redis-cli", "-p", str(port), "FLUSHALL"], check=True, capture_output=True)
                ops = None
                if client == "redis-benchmark":
                    probe_ops, probe_seconds, _, _ = run_client(
                        client_argv(client, shape, port, args, binary, python, ops=20_000), server.pid)
                    ops = max(20_000, int(probe_ops / probe_seconds * args.duration))
                argv = client_argv(client, shape, port, args, binary, python, ops=ops)
                record = dict(context, bench=BENCH, kind="run", scenario=shape, server=client, repeat=repeat,
                              command=" ".join(argv))
                try:
                    done, seconds, cpu, server_cpu = run_client(argv, server.pid)
                    record["metrics"] = {"ops_per_s": done / seconds, "client_cpu_us_per_op": cpu * 1e6 / done,
                                         "server_cpu_pct": 100 * server_cpu / seconds, "ops": done}
                except (RuntimeError, subprocess.TimeoutExpired, IndexError, ValueError) as error:
                    record["error"], record["metrics"] = str(error), {}
                benchlib.log(f"{shape} {client}: {record.get('error') or record['metrics']}")
                recorder.add(record)
                runs.setdefault((shape, client), []).append(record)
    summaries = [benchlib.summarize(BENCH, shape, client, records, "ops_per_s", context)
                 for (shape, client), records in runs.items()]
    benchlib.add_ratios(summaries)
    for summary in summaries:
        recorder.add(summary)
    rows = []
    for shape in shapes:
        row = [shape]
        for client in clients:
            s = next((s for s in summaries if s["scenario"] == shape and s["server"] == client), None)
            m = s["metrics"] if s else {}
            row.append("–" if not m else f"{benchlib.fmt(m.get('ops_per_s'))} ({benchlib.fmt(m.get('client_cpu_us_per_op'), 1)} µs, "
                       f"srv {benchlib.fmt(m.get('server_cpu_pct'))} %)")
        ours = next((s for s in summaries if s["scenario"] == shape and s["server"] == "ours"), None)
        row += [f"{ours['ratios'].get(other, 0):.2f}×" if ours and ours["ratios"].get(other) else "–"
                for other in ("redis-benchmark", "redis-py")]
        rows.append(row)
    print(benchlib.markdown_table(["shape"] + [f"{c} ops/s (client CPU/op, server CPU)" for c in clients]
                                  + ["ours ÷ redis-benchmark", "ours ÷ redis-py"], rows))


if __name__ == "__main__":
    main()

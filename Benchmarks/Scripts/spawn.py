#!/usr/bin/env python3
"""Subprocess spawn + wait rate: ours beside asyncio's, uvloop's and swift-subprocess's.

    Benchmarks/Scripts/spawn.py [--scenarios seq,par-16] [--runners ours,asyncio,uvloop,subprocess]
                                [--count 2000] [--repeats 3] [--cpus 0] [--json FILE]

Each runner starts `count` children of /bin/true and waits for each, `parallel` in flight
(`seq`: one at a time; `par-N`: N workers, each starting its next child when its last one
exited), and reports children per second and its own CPU per child (the children's CPU is not
in it). Runners:

  ours        spawn-bench --runner ours: `loop.createSubprocessExec` + `Process.wait()` on one
              loop (posix_spawn, pidfd exit notification)
  subprocess  spawn-bench --runner subprocess: swiftlang/swift-subprocess 1.0.2 `run(.path(…),
              output: .discarded)` from Swift tasks
  asyncio     Spawn/asyncio_spawn.py: `asyncio.create_subprocess_exec` + `wait()` (CPython's loop)
  uvloop      the same on uvloop

Every runner and its children run pinned to --cpus (taskset; default CPU 0, so one core, as the
servers of the other benchmarks); runs are interleaved, rotated per repeat. Builds spawn-bench
(Benchmarks package, release) and the venv with uvloop when missing; --no-build uses what is built.
Prints one markdown table (medians, ratios of ours to each) and JSON lines (benchlib's shape).
"""

import argparse
import json
import os
import shlex
import subprocess
import sys

import benchlib as b

SPAWN = os.path.join(b.BENCHMARKS, "Spawn", "asyncio_spawn.py")
RUNNERS = ["ours", "subprocess", "asyncio", "uvloop"]


def parallelism(scenario):
    if scenario == "seq":
        return 1
    if scenario.startswith("par-") and scenario[4:].isdigit():
        return int(scenario[4:])
    raise SystemExit(f"unknown scenario {scenario}: seq or par-N")


def build(names, args):
    commands = {}
    binary = os.path.join(b.BENCHMARKS, ".build", "release", "spawn-bench")
    if any(n in ("ours", "subprocess") for n in names) and not args.no_build:
        binary = b.swift_build(b.BENCHMARKS, "spawn-bench")
    for name in names:
        if name in ("ours", "subprocess"):
            commands[name] = [binary, "--runner", name]
        elif name in ("asyncio", "uvloop"):
            python = os.path.join(b.VENV, "bin", "python")
            if not args.no_build:
                python = b.venv_python(os.path.join(b.SCRIPTS, "requirements.txt"))
            commands[name] = [python, SPAWN] + (["--uvloop"] if name == "uvloop" else [])
        else:
            raise SystemExit(f"unknown runner {name}; known: {', '.join(RUNNERS)}")
    return commands


def run_once(argv, parallel, args):
    argv = ["taskset", "-c", args.cpus] + argv + ["--program", args.program, "--count", str(args.count),
                                                  "--parallel", str(parallel)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    command = {"server": shlex.join(argv)}
    line = next((l for l in done.stdout.splitlines() if l.startswith("{")), None)
    if done.returncode != 0 or line is None:
        return {"error": f"status {done.returncode}: {done.stderr.strip()[-300:]}"}, command
    result = json.loads(line)
    m = {k: result[k] for k in ("spawns_per_s", "cpu_us_per_spawn", "seconds")}
    if result["failures"]:
        return {"metrics": m, "error": f"{result['failures']} children failed"}, command
    return {"metrics": m}, command


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", default="seq,par-16", help="comma list of seq, par-N (default: seq,par-16)")
    ap.add_argument("--runners", default=",".join(RUNNERS))
    ap.add_argument("--count", type=int, default=2000, help="children per run")
    ap.add_argument("--program", default="/bin/true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cpus", default="0", help="taskset CPU list for the runner and its children")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--json", help="append JSON lines here")
    args = ap.parse_args()

    names = [n for n in args.runners.split(",") if n]
    scenarios = args.scenarios.split(",")
    parallel = {s: parallelism(s) for s in scenarios}
    commands = build(names, args)
    context = dict(date=b.today(), commit=b.commit(), machine=b.machine())
    recorder = b.Recorder(args.json)
    summaries = []
    for scenario in scenarios:
        runs = {name: [] for name in names}
        for repeat, name in b.interleaved(names, args.repeats):
            try:
                run, command = run_once(commands[name], parallel[scenario], args)
            except subprocess.TimeoutExpired:
                run, command = {"error": "timed out after 300 s"}, {"server": shlex.join(commands[name])}
            record = dict(context, bench="spawn", kind="run", scenario=scenario, server=name, repeat=repeat,
                          command=command, metrics=run.get("metrics", {}),
                          **({"error": run["error"]} if "error" in run else {}))
            recorder.add(record)
            runs[name].append(record)
            m = record["metrics"]
            b.log(f"[{scenario}] #{repeat} {name}: " + ", ".join(f"{k} {v:.1f}" for k, v in m.items()) +
                  (f" ERROR {run['error']}" if "error" in run else ""))
        summaries += [b.summarize("spawn", scenario, name, runs[name], "spawns_per_s", context) for name in names]
    b.add_ratios(summaries)
    for s in summaries:
        recorder.add(s)
    print_table(summaries, names, args)
    return 1 if any(s.get("errors") for s in summaries) else 0


def print_table(summaries, names, args):
    if not summaries:
        return
    print(f"Spawn + wait of {args.program}, {summaries[0]['date']} at {summaries[0]['commit']}: medians of "
          f"{args.repeats} interleaved runs of {args.count} children, runner and children on CPU {args.cpus}.")
    print()
    headers = ["scenario", "runner", "children/s", "ours ÷ this", "runner CPU µs/child", "runs, children/s"]
    rows = []
    for s in summaries:
        ours = next((o for o in summaries if o["scenario"] == s["scenario"] and o["server"] == "ours"), None)
        mine, theirs = s["metrics"].get("spawns_per_s"), ours and ours["metrics"].get("spawns_per_s")
        shown = f"**{s['server']}**" if s["server"] == "ours" else s["server"]
        rows.append([s["scenario"], shown + (f" ({len(s['errors'])} failed)" if s.get("errors") else ""),
                     b.fmt(mine), b.fmt(theirs / mine if mine and theirs else None, 2),
                     b.fmt(s["metrics"].get("cpu_us_per_spawn"), 1),
                     ", ".join(f"{v:,.0f}" for v in s["runs"].get("spawns_per_s", []) if v is not None)])
    print(b.markdown_table(headers, rows, left=2))


if __name__ == "__main__":
    sys.exit(main())

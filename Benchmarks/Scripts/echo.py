#!/usr/bin/env python3
"""Echo servers side by side: EchoBench's modes against C, Tokio, SwiftNIO and uvloop.

    Benchmarks/Scripts/echo.py [--scenarios pingpong-100,c1k] [--servers ...]
                               [--repeats 5] [--duration 5] [--json FILE]

Builds what is missing (the load generator and C server with cc, the SwiftNIO peer and EchoBench
with swift build -c release, Tokio with cargo, uvloop into Benchmarks/.venv), then, for each
scenario, runs every server once per repeat in a rotated order, so that a slow phase of the
machine hits them all alike. Each server runs pinned to CPU 0, the load generator
(Echo/echo-load.c) to CPU 1. The server's CPU time is read from /proc at the edges of the load's
measured window, so each run also gives server CPU per message: the figure to compare where the
load generator, not the server, is the limit (load CPU near 1.00 cores).

Prints one markdown table (medians; ratios of msgs/s) and writes JSON lines (benchlib's shape) to
--json, which chart.py draws.

TLS: the servers named *-tls (TLSEchoServer in streams mode, nio-echo-server over NIOSSL, uvloop
streams with ssl=) and *-tls-protocol (TLSEchoServer --mode protocol, uvloop's create_server with
ssl=) are driven by the same load generator with --tls 1 (TLS 1.3, TLS_AES_128_GCM_SHA256; the
handshakes happen before the window), with a certificate made by openssl for the run:

    Benchmarks/Scripts/echo.py --scenarios pingpong-100,stream-4k --servers \
        ours-tls-protocol,ours-tls,nio-tls,uvloop-tls-protocol,uvloop-tls --reference nio-tls --also uvloop-tls
"""

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys

import benchlib as b

ECHO = os.path.join(b.BENCHMARKS, "Echo")
LOAD = os.path.join(b.BUILD, "echo-load")
C_SERVER = os.path.join(b.BUILD, "c-echo-server")
TOKIO_DIR = os.path.join(ECHO, "tokio-echo")
TOKIO = os.path.join(b.BUILD, "tokio", "release", "tokio-echo-server")
DEBIAN_CRATES = "/usr/share/cargo/registry"

SCENARIOS = {
    "pingpong-1": dict(mode="pingpong", conns=1, size=64),
    "pingpong-100": dict(mode="pingpong", conns=100, size=64),
    "c1k": dict(mode="pingpong", conns=1000, size=64),
    "stream-4k": dict(mode="stream", conns=50, size=4096, depth=8),
    "idle-10k": dict(mode="idle", conns=10000, size=1),  # server memory per idle connection
}


def main_metric(scenario):
    return "kib_per_conn" if SCENARIOS[scenario]["mode"] == "idle" else "msgs_per_s"

PEERS = ["c-epoll", "tokio", "nio", "uvloop-protocol", "uvloop-streams"]
OURS = ["ours-protocol", "ours-streams", "ours-sockets"]
OPTIONAL = ["asyncio-protocol", "asyncio-streams"]  # Python's own loop, on request
# On request: TLS 1.3 echo. ours-tls and uvloop-tls are streams servers; ours-tls-protocol and
# uvloop-tls-protocol the same echo as a protocol on create_server(ssl=), as nio-tls's handler is.
TLS = ["ours-tls", "ours-tls-protocol", "nio-tls", "uvloop-tls", "uvloop-tls-protocol"]


def tls_certificate(directory):
    """A self-signed P-256 certificate and key for localhost, made for this run."""
    os.makedirs(directory, exist_ok=True)
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def build(names, args):
    """Build what the named servers need; returns {name: argv with {port}}, and what failed."""
    commands, missing = {}, {}
    b.build_c(os.path.join(ECHO, "echo-load.c"), LOAD, libs=("-lssl", "-lcrypto"))
    cert = key = None
    if any(name in TLS for name in names):
        cert, key = tls_certificate(os.path.join(args.logdir, "tls"))
    for name in names:
        try:
            if name in ("ours-tls", "ours-tls-protocol"):
                binary = os.path.join(b.REPO, ".build", "release", "TLSEchoServer")
                if not args.no_build:
                    binary = b.swift_build(b.REPO, "TLSEchoServer")
                mode = "protocol" if name == "ours-tls-protocol" else "streams"
                commands[name] = [binary, "--cert", cert, "--key", key, "--port", "{port}", "--mode", mode]
            elif name == "nio-tls":
                binary = os.path.join(b.BENCHMARKS, ".build", "release", "nio-echo-server")
                if not args.no_build:
                    binary = b.swift_build(b.BENCHMARKS, "nio-echo-server")
                commands[name] = [binary, "{port}", "--tls", cert, key]
            elif name in ("uvloop-tls", "uvloop-tls-protocol"):
                python = b.venv_python(os.path.join(b.SCRIPTS, "requirements.txt"))
                mode = "protocol" if name == "uvloop-tls-protocol" else "streams"
                commands[name] = [python, os.path.join(ECHO, "asyncio_echo.py"), "{port}", mode, "--uvloop",
                                  "--tls", cert, key]
            elif name == "c-epoll":
                commands[name] = [b.build_c(os.path.join(ECHO, "c-echo-server.c"), C_SERVER), "{port}"]
            elif name == "tokio":
                commands[name] = [build_tokio(args.no_build), "{port}"]
            elif name == "nio":
                binary = os.path.join(b.BENCHMARKS, ".build", "release", "nio-echo-server")
                if not args.no_build:
                    binary = b.swift_build(b.BENCHMARKS, "nio-echo-server")
                commands[name] = [binary, "{port}"]
            elif name.startswith(("uvloop-", "asyncio-")):
                python = b.venv_python(os.path.join(b.SCRIPTS, "requirements.txt"))
                loop, mode = name.split("-", 1)
                commands[name] = [python, os.path.join(ECHO, "asyncio_echo.py"), "{port}", mode]
                commands[name] += ["--uvloop"] if loop == "uvloop" else []
            elif name.startswith("ours-"):
                binary = args.ours or os.path.join(b.REPO, ".build", "release", "EchoBench")
                if not args.ours and not args.no_build:
                    binary = b.swift_build(b.REPO, "EchoBench")
                commands[name] = [binary, "--mode", name.split("-", 1)[1], "--port", "{port}"]
                if args.loops > 1:
                    commands[name] += ["--loops", str(args.loops)]
            else:
                raise SystemExit(f"unknown server {name}; known: {', '.join(PEERS + OURS + OPTIONAL + TLS)}")
            if not os.path.exists(commands[name][0]):
                missing[name] = f"{commands.pop(name)[0]} is not built"
        except (subprocess.CalledProcessError, RuntimeError) as error:
            missing[name] = str(error)
    return commands, missing


def build_tokio(no_build):
    """cargo build --release; offline against Debian's crates (librust-tokio-dev) when present."""
    if no_build:
        return TOKIO
    if not shutil.which("cargo"):
        raise RuntimeError("cargo is not installed (apt-get install cargo librust-tokio-dev)")
    argv = ["cargo", "build", "--release", "-q", "--target-dir", os.path.dirname(os.path.dirname(TOKIO))]
    if os.path.isdir(DEBIAN_CRATES):
        argv += ["--offline", "--config", 'source.crates-io.replace-with="debian"',
                 "--config", f'source.debian.directory="{DEBIAN_CRATES}"']
    b.log(f"build: (cd {os.path.relpath(TOKIO_DIR, b.REPO)} && {' '.join(argv)})")
    subprocess.run(argv, cwd=TOKIO_DIR, check=True)
    return TOKIO


def run_once(argv, scenario, args, logfile, tls=False):
    """Start the server, run the load once, stop the server; returns (metrics, error, command)."""
    sc = SCENARIOS[scenario]
    port = b.free_port()
    load = [LOAD, "--port", str(port), "--mode", sc["mode"], "--conns", str(sc["conns"]),
            "--size", str(sc["size"]), "--warmup", str(args.warmup), "--duration", str(args.duration)]
    if tls:
        load += ["--tls", "1"]
    if "depth" in sc:
        load += ["--depth", str(sc["depth"])]
    return b.run_load(argv, port, logfile, load, args.duration, idle=sc["mode"] == "idle")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", default="pingpong-100,c1k",
                    help=f"comma list of {', '.join(SCENARIOS)} (default: pingpong-100,c1k)")
    ap.add_argument("--servers", default=",".join(PEERS + OURS),
                    help=f"comma list (default: all but {', '.join(OPTIONAL)})")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--duration", type=float, default=5.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds of load before measuring")
    ap.add_argument("--reference", default="c-epoll", help="the server the '×' column divides by")
    ap.add_argument("--also", default="nio", help="a second server to divide by (empty: none)")
    ap.add_argument("--ours", help="an EchoBench binary to use instead of building one")
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=COMMAND",
                    help="one more server, {port} replaced (repeatable): e.g. an older EchoBench to A/B")
    ap.add_argument("--loops", type=int, default=1,
                    help="N > 1: EchoBench (ours-*) with --loops N; every server and the load generator then "
                         "share CPUs 0..N-1 instead of being pinned apart (the peers stay one thread)")
    ap.add_argument("--no-build", action="store_true", help="use what is built; build nothing")
    ap.add_argument("--build-only", action="store_true", help="build everything, measure nothing")
    ap.add_argument("--json", help="append JSON lines here")
    ap.add_argument("--logdir", default="/tmp/echo-bench-logs", help="server output goes here")
    args = ap.parse_args()

    scenarios = args.scenarios.split(",")
    for s in scenarios:
        if s not in SCENARIOS:
            raise SystemExit(f"unknown scenario {s}")
    if args.loops > 1:
        b.SERVER_CPU = b.LOAD_CPU = f"0-{args.loops - 1}"
    b.raise_fd_limit()
    commands, missing = build([n for n in args.servers.split(",") if n], args)
    for extra in args.extra:
        name, _, command = extra.partition("=")
        if not command or "{port}" not in command:
            raise SystemExit(f"--extra {extra!r}: expected NAME=COMMAND with {{port}} in it")
        commands[name] = shlex.split(command)
    for name, why in missing.items():
        b.log(f"skip {name}: {why}")
    if args.build_only:
        return 1 if missing else 0
    os.makedirs(args.logdir, exist_ok=True)
    context = dict(date=b.today(), commit=b.commit(), machine=b.machine())
    summaries = b.run_matrix(
        "echo", scenarios, commands, args.repeats,
        lambda name, argv, scenario: run_once(argv, scenario, args, os.path.join(args.logdir, f"{name}.log"),
                                              tls=name in TLS),
        main_metric, b.Recorder(args.json), context)
    print_table(summaries, args)
    print()
    for s in summaries:
        print(json.dumps(s, sort_keys=True))
    return 1 if missing or any(s.get("errors") for s in summaries) else 0


def print_table(summaries, args):
    """One markdown table of the load scenarios, and one of idle memory if that ran."""
    also = [a for a in [args.also] if a]

    def ratio(s, other, metric):
        return b.ratio_to(summaries, s, other, metric)

    name = b.shown_name

    if summaries:
        print(f"Echo servers, {summaries[0]['date']} at {summaries[0]['commit']}: medians of {args.repeats} "
              f"interleaved runs of {args.duration:g} s (after {args.warmup:g} s of warm-up), server on CPU "
              f"{b.SERVER_CPU}, load on CPU {b.LOAD_CPU}.")
    load = [s for s in summaries if s["main_metric"] == "msgs_per_s"]
    if load:
        headers = (["scenario", "server", "msgs/s", f"× {args.reference}"] + [f"× {a}" for a in also] +
                   ["p50 µs", "p99 µs", "server CPU µs/msg", f"CPU/msg × {args.reference}", "load CPU cores",
                    "runs, k msgs/s"])
        rows = [[s["scenario"], name(s), b.fmt(s["metrics"].get("msgs_per_s"))] +
                [b.fmt(ratio(s, other, "msgs_per_s"), 2) for other in [args.reference] + also] +
                [b.fmt(s["metrics"].get("p50_us")), b.fmt(s["metrics"].get("p99_us")),
                 b.fmt(s["metrics"].get("server_cpu_us_per_msg"), 2),
                 b.fmt(ratio(s, args.reference, "server_cpu_us_per_msg"), 2), b.fmt(s["metrics"].get("client_cpu"), 2),
                 ", ".join(f"{v / 1000:.0f}" for v in s["runs"].get("msgs_per_s", []) if v is not None)]
                for s in load]
        print()
        print(b.markdown_table(headers, rows, left=2))
    idle = [s for s in summaries if s["main_metric"] == "kib_per_conn"]
    if idle:
        headers = ["scenario", "server", "KiB per idle connection", f"× {args.reference}", "RSS before, KiB",
                   "RSS with connections, KiB", "connected"]
        rows = [[s["scenario"], name(s), b.fmt(s["metrics"].get("kib_per_conn"), 2),
                 b.fmt(ratio(s, args.reference, "kib_per_conn"), 2), b.fmt(s["metrics"].get("rss_before_kib")),
                 b.fmt(s["metrics"].get("rss_idle_kib")), b.fmt(s["metrics"].get("connected"))] for s in idle]
        print()
        print(b.markdown_table(headers, rows, left=2))


if __name__ == "__main__":
    sys.exit(main())

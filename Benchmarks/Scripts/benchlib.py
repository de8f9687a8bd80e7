"""What every benchmark driver in Benchmarks/Scripts shares (stdlib only).

A driver (echo.py is the first; HTTP, Redis and WebSocket follow the same shape):

1. builds what is missing (`build_c`, `swift_build`, `venv_python`), or skips with --no-build;
2. for each scenario, for each repeat, runs every server once, in an order rotated per repeat,
   so that a slow phase of the machine hits every server alike (`interleaved`);
3. starts each server pinned to SERVER_CPU (`Server`), runs the load pinned to LOAD_CPU, and
   samples the server's CPU time at the edges of the load's measured window (`cpu_seconds`);
4. writes one JSON line per run and one per (scenario, server) summary (`record`, `summarize`),
   and prints one markdown table (`markdown_table`).

The JSON lines have one shape across drivers, so `chart.py` can draw any of them:

    {"bench": "echo", "kind": "run" | "summary", "scenario": "pingpong-100",
     "server": "ours-protocol", "date": "2026-12-07", "commit": "abc1234",
     "repeat": 3 (runs) | "repeats": 5 (summaries),
     "metrics": {"msgs_per_s": ..., "server_cpu_us_per_msg": ..., ...},   (medians in summaries)
     "runs": {"msgs_per_s": [...], ...}                                    (summaries only)
     "ratios": {"c-epoll": 1.02, ...},        (summaries: this server's main metric / theirs)
     "command": {"server": "...", "load": "..."}, "machine": {...}}
"""

import json
import os
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
BENCHMARKS = os.path.dirname(SCRIPTS)
REPO = os.path.dirname(BENCHMARKS)
BUILD = os.path.join(BENCHMARKS, ".build", "peers")  # C programs, Tokio's target dir
VENV = os.path.join(BENCHMARKS, ".venv")

SERVER_CPU = 0
LOAD_CPU = 1


def log(message):
    print(message, file=sys.stderr, flush=True)


def pinned(cpu, argv):
    """The command that runs argv on one CPU only."""
    return ["taskset", "-c", str(cpu)] + list(argv)


def raise_fd_limit():
    """Soft descriptor limit up to the hard one (c1k needs more than 1024); also a preexec_fn."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# MARK: - Building


def newer(source, product):
    return not os.path.exists(product) or os.path.getmtime(source) > os.path.getmtime(product)


def build_c(source, product, libs=()):
    """cc -O2 source [libs] -> product, when the product is missing or older."""
    if newer(source, product):
        os.makedirs(os.path.dirname(product), exist_ok=True)
        log(f"build: cc -O2 {os.path.relpath(source, REPO)} {' '.join(libs)}")
        subprocess.run(["cc", "-O2", "-Wall", "-o", product, source, *libs], check=True)
    return product


def swift_build(package_dir, product, scratch=None):
    """swift build -c release --product PRODUCT; returns the binary's path."""
    argv = ["swift", "build", "-c", "release", "--product", product]
    if scratch:
        argv += ["--scratch-path", scratch]
    log(f"build: (cd {os.path.relpath(package_dir, REPO) or '.'} && {' '.join(argv)})")
    subprocess.run(argv, cwd=package_dir, check=True)
    out = subprocess.run(argv + ["--show-bin-path"], cwd=package_dir, check=True, capture_output=True, text=True)
    return os.path.join(out.stdout.strip(), product)


def venv_python(requirements):
    """Benchmarks/.venv with the packages of `requirements` (a requirements.txt); its python."""
    python = os.path.join(VENV, "bin", "python")
    stamp = os.path.join(VENV, ".installed-" + os.path.basename(requirements))
    if not os.path.exists(python):
        log(f"build: python3 -m venv {os.path.relpath(VENV, REPO)}")
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    if newer(requirements, stamp):
        log(f"build: pip install -r {os.path.relpath(requirements, REPO)}")
        subprocess.run([python, "-m", "pip", "install", "-q", "-r", requirements], check=True)
        open(stamp, "w").close()
    return python


# MARK: - Servers and CPU time


def cpu_seconds(pid):
    """CPU time of a process, all its threads, in seconds: (user, system, total).

    user and system come from /proc/PID/stat (clock ticks, 10 ms); total is the sum of every
    thread's /proc/PID/task/TID/schedstat run time (nanoseconds), so short windows stay exact.
    """
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    user, system = int(fields[11]) / tick, int(fields[12]) / tick
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended meanwhile
    return user, system, total / 1e9


def rss_kib(pid):
    """Resident memory of a process (VmRSS), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


class Server:
    """A server process pinned to SERVER_CPU, started with {port} replaced, stopped by its PID."""

    def __init__(self, argv, port, logfile):
        self.argv = [a.replace("{port}", str(port)) for a in argv]
        self.port = port
        self.logfile = logfile
        self.process = None

    def __enter__(self):
        log_handle = open(self.logfile, "ab")
        self.process = subprocess.Popen(
            pinned(SERVER_CPU, self.argv), stdout=log_handle, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, preexec_fn=raise_fd_limit)
        log_handle.close()
        deadline = time.monotonic() + 30
        while not accepts(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"exited with status {self.process.returncode} before listening "
                                   f"(see {self.logfile})")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"not listening on {self.port} after 30 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def run_load(argv, port, logfile, load, duration, idle=False):
    """One run: start the server (argv, {port} replaced), run the load generator (argv `load`,
    which prints `window-start`, `window-end` and one JSON line) pinned to LOAD_CPU, stop the
    server. The server's CPU time is sampled at the window's edges; in idle mode its RSS is read
    once every connection is open. Returns (metrics, error or None, command)."""
    with Server(argv, port, logfile) as server:
        rss_before = rss_kib(server.pid)
        generator = subprocess.Popen(pinned(LOAD_CPU, load), stdout=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL, preexec_fn=raise_fd_limit)
        start = end = result = rss_idle = None
        for line in generator.stdout:  # bounded: the generator ends itself (alarm)
            if line.startswith("window-start"):
                start = cpu_seconds(server.pid)
                if idle:  # every connection is open and has answered
                    time.sleep(min(1.0, duration / 2))
                    rss_idle = rss_kib(server.pid)
            elif line.startswith("window-end"):
                end = cpu_seconds(server.pid)
            elif line.startswith("{"):
                result = json.loads(line)
        status = generator.wait()
        alive = server.alive()
    command = {"server": shlex.join(pinned(SERVER_CPU, server.argv)), "load": shlex.join(pinned(LOAD_CPU, load))}
    if result is None or start is None or end is None:
        return {}, f"the load generator ended with status {status} and no result", command
    if idle:
        connected = result["connected"]
        metrics = {"connected": connected, "rss_before_kib": rss_before, "rss_idle_kib": rss_idle,
                   "kib_per_conn": round((rss_idle - rss_before) / connected, 3) if connected else None}
    else:
        metrics = {k: result[k] for k in ("msgs_per_s", "mb_per_s", "p50_us", "p90_us", "p99_us", "p999_us",
                                          "max_us", "client_cpu", "msgs")}
        metrics["server_cpu"] = round((end[2] - start[2]) / duration, 3)
        metrics["server_user_cpu"] = round((end[0] - start[0]) / duration, 3)
        metrics["server_system_cpu"] = round((end[1] - start[1]) / duration, 3)
        if result["msgs"]:
            metrics["server_cpu_us_per_msg"] = round((end[2] - start[2]) / result["msgs"] * 1e6, 3)
    error = None
    if status != 0:
        error = f"load generator status {status}: " + ", ".join(
            f"{k} {result[k]}" for k in ("corrupt_msgs", "failed_connects", "closed_by_peer", "readable")
            if k in result)
    if not alive:
        error = "the server exited during the run"
    return metrics, error, command


def run_matrix(bench, scenarios, commands, repeats, run_once, main_metric, recorder, context, skip=None):
    """Every scenario, every server once per repeat in rotated order (`interleaved`):
    run_once(name, argv, scenario) -> (metrics, error, command). Records each run, logs a line
    for it, and returns one summary per (scenario, server) with ratios."""
    names = list(commands)
    summaries = []
    for scenario in scenarios:
        runs = {name: [] for name in names}
        for repeat, name in interleaved(names, repeats):
            if skip and skip(scenario, name):
                continue
            try:
                metrics, error, command = run_once(name, commands[name], scenario)
            except RuntimeError as failure:
                metrics, error, command = {}, str(failure), {"server": shlex.join(commands[name])}
            record = dict(context, bench=bench, kind="run", scenario=scenario, server=name, repeat=repeat,
                          command=command, metrics=metrics, **({"error": error} if error else {}))
            recorder.add(record)
            runs[name].append(record)
            log(f"[{scenario}] #{repeat} {name}: " + ", ".join(f"{k} {v}" for k, v in metrics.items() if k in (
                "msgs_per_s", "server_cpu_us_per_msg", "client_cpu", "kib_per_conn", "deliveries_per_s",
                "server_cpu_us_per_delivery", "kib_per_client")) +
                (f" ERROR {error}" if error else ""))
        summaries += [summarize(bench, scenario, name, runs[name], main_metric(scenario), context)
                      for name in names if runs[name]]
    add_ratios(summaries)
    for s in summaries:
        recorder.add(s)
    return summaries


def ratio_to(summaries, s, other, metric):
    """s's metric over the same scenario's `other` server's, or None."""
    ref = next((r for r in summaries if r["scenario"] == s["scenario"] and r["server"] == other), None)
    mine, theirs = s["metrics"].get(metric), ref and ref["metrics"].get(metric)
    return mine / theirs if mine and theirs else None


def shown_name(s):
    """A summary's server for a table: ours in bold, failed runs counted."""
    shown = f"**{s['server']}**" if s["server"].startswith("ours") else s["server"]
    return shown + (f" ({len(s['errors'])} failed runs)" if s.get("errors") else "")


def interleaved(names, repeats):
    """(repeat, name) pairs: every name once per repeat, the order rotated by one each repeat."""
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            yield r + 1, name


# MARK: - Results


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def machine():
    load1 = os.getloadavg()[0]
    return {"nproc": os.cpu_count(), "kernel": os.uname().release, "load1": round(load1, 2)}


def commit():
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def today():
    return time.strftime("%Y-%m-%d", time.gmtime())


def summarize(bench, scenario, server, runs, main_metric, context):
    """One summary record from run records: medians of every metric, and the runs' values."""
    good = [r for r in runs if not r.get("error")]
    keys = sorted({k for r in good for k in r["metrics"]})
    summary = dict(context, bench=bench, kind="summary", scenario=scenario, server=server,
                   repeats=len(good), main_metric=main_metric,
                   metrics={k: median([r["metrics"].get(k) for r in good]) for k in keys},
                   runs={k: [r["metrics"].get(k) for r in good] for k in keys})
    errors = [r["error"] for r in runs if r.get("error")]
    if errors:
        summary["errors"] = errors
    if runs:
        summary["command"] = runs[-1].get("command")
    return summary


def add_ratios(summaries):
    """Each summary gets ratios: its main metric over every other server's in the same scenario."""
    for s in summaries:
        mine = s["metrics"].get(s["main_metric"])
        s["ratios"] = {}
        for other in summaries:
            theirs = other["metrics"].get(s["main_metric"])
            if other is not s and other["scenario"] == s["scenario"] and mine and theirs:
                s["ratios"][other["server"]] = round(mine / theirs, 4)


class Recorder:
    """Collects JSON records; appends them to a file if one is given."""

    def __init__(self, path):
        self.path = path
        self.records = []

    def add(self, record):
        self.records.append(record)
        if self.path:
            with open(self.path, "a") as f:
                f.write(json.dumps(record, sort_keys=True) + "\n")


def read_records(paths):
    records = []
    for path in paths:
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def markdown_table(headers, rows, left=1):
    """A markdown table: the first `left` columns left-aligned, the others (figures) right-aligned."""
    lines = ["| " + " | ".join(headers) + " |",
             "| " + " | ".join("---" if i < left else "---:" for i in range(len(headers))) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value, digits=0):
    if value is None:
        return "–"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"

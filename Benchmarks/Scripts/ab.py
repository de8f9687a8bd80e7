#!/usr/bin/env python3
"""A/B two loop-compare binaries, interleaved: ab.py BEFORE AFTER RUNS [loop-compare options...]

Runs BEFORE and AFTER alternately RUNS times (each `taskset -c 0 BIN --rounds 1 --side ours ...`)
and prints the median of each row's "ours" column for both, so that a change to the core is judged
against the same background load (this machine is shared; absolute numbers drift).
"""
import re, statistics, subprocess, sys

before, after, runs, *rest = sys.argv[1:]
values = {"before": {}, "after": {}}
for _ in range(int(runs)):
    for label, binary in (("before", before), ("after", after)):
        out = subprocess.run(["taskset", "-c", "0", binary, "--rounds", "1", "--side", "ours", *rest],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            cells = [c.strip() for c in line.split("|")]
            if len(cells) > 3 and re.match(r"^[\d.]+ ", cells[2]):
                values[label].setdefault(cells[1], []).append(float(cells[2].split()[0]))
for name in values["before"]:
    b = statistics.median(values["before"][name]); a = statistics.median(values["after"].get(name, [float("nan")]))
    print(f"{name}: before {b:.3g}  after {a:.3g}  ({a / b:.2f}x)  runs={runs}")

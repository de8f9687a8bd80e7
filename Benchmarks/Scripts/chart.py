#!/usr/bin/env python3
"""Draw the headline chart (SVG) from the drivers' JSON lines (stdlib only).

    Benchmarks/Scripts/chart.py Benchmarks/Results/echo.jsonl --out Benchmarks/Results/echo.svg

For each scenario (a group of bars), one bar per server: the median of --metric from the last
summary record of that (scenario, server) in the files, labelled with its value and its ratio to
--reference; one panel per metric in --metrics. Servers whose name starts with "ours" are drawn in the accent colour. Any driver that
writes benchlib's JSON shape can be drawn: pick its --bench and --metric.
"""

import argparse
import html
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

PEER_COLOURS = ["#8c8c8c", "#b07aa1", "#4e79a7", "#76b7b2", "#59a14f", "#edc948", "#9c755f"]
OURS_COLOURS = ["#e15759", "#f28e2b", "#ff9d9a"]
WIDTH, HEADER, PANEL, FOOTER = 920, 80, 300, 30
LEFT, RIGHT = 70, 20
METRICS = {  # axis title, and whether higher is better
    "msgs_per_s": ("messages per second", True),
    "server_cpu_us_per_msg": ("server CPU µs per message", False),
    "p99_us": ("p99 latency, µs", False),
    "deliveries_per_s": ("messages delivered per second", True),
    "server_cpu_us_per_delivery": ("server CPU µs per delivered message", False),
}


def nice_ceiling(value):
    """The smallest 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten at or above value."""
    step = 10 ** math.floor(math.log10(value))
    return next(m * step for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * step >= value)


def label(value):
    if value == 0:
        return "0"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def panel(out, y0, summaries, scenarios, servers, metric, reference, colour):
    """One panel of grouped bars (a group per scenario) between y0 and y0 + PANEL."""
    title, higher_is_better = METRICS.get(metric, (metric.replace("_", " "), True))
    values = {(s["scenario"], s["server"]): s["metrics"].get(metric) for s in summaries}
    top = nice_ceiling(max(v for v in values.values() if v) * 1.12)
    plot_top, plot_h = y0 + 20, PANEL - 60
    plot_w = WIDTH - LEFT - RIGHT
    group_w = plot_w / len(scenarios)
    bar_w = group_w * 0.8 / len(servers)
    better = "higher" if higher_is_better else "lower"
    out.append(f'<text x="{LEFT}" y="{y0 + 8}" font-size="13" font-weight="bold">{html.escape(title)} '
               f'<tspan font-weight="normal" fill="#555">({better} is better; under each value: '
               f'× {html.escape(reference)})</tspan></text>')
    for i in range(6):
        y = plot_top + plot_h - plot_h * i / 5
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{label(top * i / 5)}</text>')
    for g, scenario in enumerate(scenarios):
        gx = LEFT + g * group_w + group_w * 0.1
        ref = values.get((scenario, reference))
        for i, server in enumerate(servers):
            v = values.get((scenario, server))
            if not v:
                continue
            h = plot_h * v / top
            x, y = gx + i * bar_w, plot_top + plot_h - h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w * 0.9:.1f}" height="{h:.1f}" '
                       f'fill="{colour[server]}"><title>{html.escape(server)}: {v:,.2f}</title></rect>')
            cx = x + bar_w * 0.45
            weight = ' font-weight="bold"' if server.startswith("ours") else ""
            out.append(f'<text x="{cx:.1f}" y="{y - 15:.1f}" font-size="10" text-anchor="middle"{weight}>'
                       f'{label(v)}</text>')
            if ref:
                out.append(f'<text x="{cx:.1f}" y="{y - 4:.1f}" font-size="9" fill="#555" '
                           f'text-anchor="middle">{v / ref:.2f}×</text>')
        out.append(f'<text x="{LEFT + g * group_w + group_w / 2:.1f}" y="{plot_top + plot_h + 18}" '
                   f'font-size="13" text-anchor="middle">{html.escape(scenario)}</text>')


def draw(summaries, scenarios, servers, metrics, reference, title, subtitle):
    peers = [s for s in servers if not s.startswith("ours")]
    ours = [s for s in servers if s.startswith("ours")]
    colour = {s: PEER_COLOURS[i % len(PEER_COLOURS)] for i, s in enumerate(peers)}
    colour.update({s: OURS_COLOURS[i % len(OURS_COLOURS)] for i, s in enumerate(ours)})
    height = HEADER + PANEL * len(metrics) + FOOTER
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif">',
           f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
           f'<text x="{LEFT}" y="26" font-size="18" font-weight="bold">{html.escape(title)}</text>',
           f'<text x="{LEFT}" y="46" font-size="12" fill="#555">{html.escape(subtitle)}</text>']
    x = LEFT  # the legend: one swatch per server, in one row
    for s in servers:
        out.append(f'<rect x="{x}" y="58" width="12" height="12" fill="{colour[s]}"/>')
        out.append(f'<text x="{x + 16}" y="69" font-size="12">{html.escape(s)}</text>')
        x += 28 + 7 * len(s)
    for i, metric in enumerate(metrics):
        panel(out, HEADER + 10 + i * PANEL, summaries, scenarios, servers, metric, reference, colour)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", help="JSON lines written by a driver's --json")
    ap.add_argument("--bench", default="echo")
    ap.add_argument("--metrics", default="msgs_per_s,server_cpu_us_per_msg", help="a panel for each, top down")
    ap.add_argument("--scenarios", help="comma list, in order (default: all in the files)")
    ap.add_argument("--servers", help="comma list, in order (default: all in the files)")
    ap.add_argument("--reference", default="c-epoll")
    ap.add_argument("--title", default="Echo servers on one thread each")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    latest = {}
    for r in b.read_records(args.files):
        if r.get("kind") == "summary" and r.get("bench") == args.bench:
            latest[(r["scenario"], r["server"])] = r
    summaries = list(latest.values())
    if not summaries:
        raise SystemExit(f"no {args.bench} summaries in {', '.join(args.files)}")
    scenarios = args.scenarios.split(",") if args.scenarios else list(dict.fromkeys(s["scenario"] for s in summaries))
    servers = args.servers.split(",") if args.servers else list(dict.fromkeys(s["server"] for s in summaries))
    summaries = [s for s in summaries if s["scenario"] in scenarios and s["server"] in servers]
    dates = sorted({s["date"] for s in summaries})
    commits = sorted({s["commit"] for s in summaries})
    repeats = sorted({s["repeats"] for s in summaries})
    subtitle = (f"{', '.join(dates)} at {', '.join(commits)}: medians of {'/'.join(map(str, repeats))} interleaved "
                f"runs; server on CPU 0, load on CPU 1; Benchmarks/Scripts/{args.bench}.py")
    svg = draw(summaries, scenarios, servers, args.metrics.split(","), args.reference, args.title, subtitle)
    with open(args.out, "w") as f:
        f.write(svg)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

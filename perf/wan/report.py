#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turn perf/wan/run.sh's table.tsv into REPORT.md (and gnuplot PNGs when gnuplot exists).

Rows are grouped by scenario (the label less its ", seed N"); each column is the median
over the seeds with the range beside it. The Mathis bound (Mathis et al. 1997, "The
macroscopic behavior of the TCP congestion avoidance algorithm") is the most a Reno flow
gets on a path with random loss p: MSS / RTT x sqrt(3/2) / sqrt(p), printed where p > 0.
jain.tsv (written where several flows share the link) gives Jain's index and the first two
flows' rates over the scenario's window; a single flow's index is 1 by definition.
"""
import math
import os
import re
import shutil
import statistics
import subprocess
import sys

COLS = ["label", "name", "rate_bps", "rtt_ns", "loss", "completed", "goodput_pm", "q50", "q99",
        "qw50", "qw99", "drop_queue", "drop_loss", "drop_blackhole", "retx_pm", "elapsed_ns",
        "frame_bytes"]


def fmt_range(vals, scale=1.0, digits=1):
    vals = [v * scale for v in vals]
    med = statistics.median(vals)
    lo, hi = min(vals), max(vals)
    if lo == hi:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


def main():
    out, commit, status = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = []
    with open(os.path.join(out, "table.tsv")) as f:
        for line in f:
            v = line.rstrip("\n").split("\t")
            r = dict(zip(COLS, v))
            for k in COLS[2:]:
                r[k] = float(r.get(k, 9000))  # frame_bytes: 9000 in older tables
            rows.append(r)
    jain = {}
    jpath = os.path.join(out, "jain.tsv")
    if os.path.exists(jpath):
        with open(jpath) as f:
            for line in f:
                v = line.rstrip("\n").split("\t")
                jain[v[0]] = {"jain": float(v[1]), "from": float(v[2]), "to": float(v[3]),
                              "a": float(v[4]), "b": float(v[5])}
    groups = {}
    for r in rows:
        key = re.sub(r", seed \d+$", "", r["label"])
        groups.setdefault(key, []).append(r)
    lines = [f"# WAN scenarios on virtual time (commit {commit})", "",
             "`perf/wan/run.sh`: tests/unit/wansim/test_wansim_cc.c, BBRv3 over the link "
             "model; median (range) over the seeds. Queue delays in ms; 'steady' is the "
             "scenario's window (docs/RELIABILITY.md, \"Scenarios with congestion "
             "control\"). Mathis: what Reno gets on the same path with the same random loss.",
             f"Test exit status {status} (0: every asserted target held).", "",
             "| scenario | seeds | goodput % | queue p50 / p99 | steady p50 / p99 | drops queue / loss / blackhole | retransmit % | Jain (window) | flow 1 / flow 2 Mbit/s | Mathis bound (Reno) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for key, rs in groups.items():
        r0 = rs[0]
        mathis = "-"
        if r0["loss"] > 0:
            bps = r0["frame_bytes"] * 8 / (r0["rtt_ns"] / 1e9) * math.sqrt(1.5) / math.sqrt(r0["loss"])
            mathis = f"{bps / 1e6:.0f} Mbit/s ({100 * bps / r0['rate_bps']:.1f}%)"
        js = [jain[r["label"]] for r in rs if r["label"] in jain]
        jcol, fcol = "1 (one flow)", "-"
        if js:
            jcol = (f"{fmt_range([j['jain'] for j in js], 1, 3)} "
                    f"({js[0]['from'] / 1e9:.1f}-{js[0]['to'] / 1e9:.1f} s)")
            fcol = (f"{fmt_range([j['a'] for j in js], 1e-6, 0)} / "
                    f"{fmt_range([j['b'] for j in js], 1e-6, 0)}")
        lines.append(
            f"| {key} | {len(rs)} | {fmt_range([r['goodput_pm'] for r in rs], 0.1)} | "
            f"{fmt_range([r['q50'] for r in rs], 1e-6)} / {fmt_range([r['q99'] for r in rs], 1e-6)} | "
            f"{fmt_range([r['qw50'] for r in rs], 1e-6)} / {fmt_range([r['qw99'] for r in rs], 1e-6)} | "
            f"{fmt_range([r['drop_queue'] for r in rs], 1, 0)} / {fmt_range([r['drop_loss'] for r in rs], 1, 0)} / "
            f"{fmt_range([r['drop_blackhole'] for r in rs], 1, 0)} | "
            f"{fmt_range([r['retx_pm'] for r in rs], 0.1)} | {jcol} | {fcol} | {mathis} |")
    if shutil.which("gnuplot"):
        lines += ["", "Goodput (Mbit/s) and largest queue delay (ms) per 100 ms, first seed:", ""]
        for key, rs in groups.items():
            name = rs[0]["name"]
            dat = os.path.join(out, name + ".dat")
            png = os.path.join(out, name + ".png")
            script = (f"set terminal png size 900,400; set output '{png}'; "
                      f"set title '{key}'; set xlabel 's'; set ylabel 'Mbit/s'; "
                      "set y2label 'queue ms'; set y2tics; set ytics nomirror; "
                      "set yrange [0:*]; set y2range [0:*]; "
                      f"plot '{dat}' using 1:2 with lines title 'goodput', "
                      f"'{dat}' using 1:3 axes x1y2 with lines title 'queue delay max'")
            subprocess.run(["gnuplot", "-e", script], check=False)
            lines.append(f"![{key}]({name}.png)")
    with open(os.path.join(out, "REPORT.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

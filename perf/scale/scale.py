#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The plan and the report of perf/scale/run.sh (issue 22, "Benchmark").

  scale.py plan --cpus LIST --cores "1 2 4 8"
      One line per point: which CPUs each xferd of the dev pair gets, or why the point
      is skipped. A point of N RX cores (each also a worker: combined mode, one memif
      queue pair per RX core) needs 2 x (N + 1) CPUs: each side has its main lcore and N
      RX lcores, every one pinned to a CPU of its own, and no CPU shared with the other
      side. A point that does not fit is skipped; it is never run on shared CPUs for a
      figure.

  scale.py report --tsv FILE [--ceiling-gbps X] [--plot FILE.png]
      FILE: rows "set cores run ms bytes" of measured pushes. Prints, per set, the median
      MB/s of each point, its ratio to the one-core point of the same set (the baseline
      measured in the same script) and the target check of issue 22: at N cores at least
      0.8 x N times the one-core throughput. With --plot, a gnuplot PNG of throughput
      against cores beside the ideal and the target lines.

Exit status of report: 0 when every checked point met the target (or none could be
checked), 3 when one missed it.
"""
import argparse
import statistics
import subprocess
import sys

TARGET = 0.8  # issue 22: at least 0.8 x N times the one-core throughput at N cores
MIN_RUNS = 5  # BENCHMARKS.md: a figure is a median of at least 5 runs


def parse_cpu_arg(text):
    """What an operator gives: '4' (a count: CPUs 0..3) or a list as '0-3,6'."""
    text = text.strip()
    if text.isdigit():
        return list(range(int(text)))
    return parse_cpus(text)


def parse_cpus(text):
    """A CPU list as the kernel prints it, '0-3,6' or '5' (CPU 5) -> sorted CPU ids."""
    cpus = set()
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            cpus.update(range(int(lo), int(hi) + 1))
        elif part:
            cpus.add(int(part))
    return sorted(cpus)


def plan(cpus, cores):
    """-> list of dicts: cores, need, fits, a (main, rx list), b (main, rx list)."""
    out = []
    for n in cores:
        need = 2 * (n + 1)
        p = {"cores": n, "need": need, "fits": need <= len(cpus)}
        if p["fits"]:
            a = cpus[: n + 1]
            b = cpus[n + 1 : need]
            p["a"] = (a[0], a[1:])
            p["b"] = (b[0], b[1:])
        out.append(p)
    return out


def fmt_list(xs):
    return ",".join(str(x) for x in xs)


def cmd_plan(args):
    cpus = parse_cpus(args.cpus)
    cores = [int(c) for c in args.cores.split()]
    if not cpus or any(c < 1 or c > 8 for c in cores):
        print("scale.py: --cpus needs CPUs and --cores counts 1..8 (cores.rx)", file=sys.stderr)
        return 2
    pts = plan(cpus, cores)
    print("plan: %d CPUs (%s); a point of N RX cores needs 2 x (N + 1) CPUs" %
          (len(cpus), fmt_list(cpus)))
    for p in pts:
        if p["fits"]:
            print("point %d measure need %d a main %d rx %s b main %d rx %s" %
                  (p["cores"], p["need"], p["a"][0], fmt_list(p["a"][1]), p["b"][0],
                   fmt_list(p["b"][1])))
        else:
            print("point %d skip need %d have %d" % (p["cores"], p["need"], len(cpus)))
    fit = [p["cores"] for p in pts if p["fits"]]
    skipped = [p["cores"] for p in pts if not p["fits"]]
    if not fit:
        print("figures: none (no point fits %d CPUs; the smallest needs %d)" %
              (len(cpus), min(p["need"] for p in pts)))
    else:
        print("figures: %s cores" % fmt_list(fit))
    if skipped:
        print("skipped: %s cores (needs %s CPUs, this host has %d)" %
              (fmt_list(skipped), fmt_list(p["need"] for p in pts if not p["fits"]),
               len(cpus)))
    return 0


def read_rows(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.split("#")[0].split()
            if not line:
                continue
            s, n, i, ms, nbytes = line
            rows.append((s, int(n), int(i), int(ms), int(nbytes)))
    return rows


def medians(rows):
    """-> {set: {cores: (median MB/s, runs)}}: MB/s of each run, then their median."""
    by = {}
    for s, n, _, ms, nbytes in rows:
        by.setdefault(s, {}).setdefault(n, []).append(nbytes / 1e6 / (max(ms, 1) / 1e3))
    return {s: {n: (statistics.median(v), len(v)) for n, v in pts.items()}
            for s, pts in by.items()}


def check(med):
    """-> list of (set, cores, MB/s, runs, ratio or None, verdict) and whether all met."""
    out, ok = [], True
    for s in med:
        base = med[s].get(1)
        for n in sorted(med[s]):
            mbs, runs = med[s][n]
            if runs < MIN_RUNS:
                out.append((s, n, mbs, runs, None, "not a figure (fewer than %d runs)" %
                            MIN_RUNS))
                continue
            if n == 1:
                out.append((s, n, mbs, runs, 1.0, "baseline"))
                continue
            if base is None or base[1] < MIN_RUNS:
                out.append((s, n, mbs, runs, None, "no one-core baseline in this run"))
                continue
            ratio = mbs / base[0]
            met = ratio >= TARGET * n
            ok = ok and met
            out.append((s, n, mbs, runs, ratio, "%s (needs >= %.1fx)" %
                        ("met" if met else "MISSED", TARGET * n)))
    return out, ok


def plot(png, med):
    sets = sorted(med)
    data = []
    for s in sets:
        base = med[s].get(1, (None,))[0]
        for n in sorted(med[s]):
            ideal = base * n if base else float("nan")
            data.append("%d %.3f %.3f %.3f" % (n, med[s][n][0], ideal, TARGET * ideal))
        data.append("e")
    cmds = ["set terminal pngcairo size 900,560 font 'sans,10'",
            "set output '%s'" % png, "set termoption noenhanced",
            "set title 'xferd dev pair over net_memif: throughput against RX cores (= workers)'",
            "set xlabel 'RX cores per appliance (one memif queue pair each)'",
            "set ylabel 'MB/s of file data (median)'", "set logscale x 2",
            "set xtics (1, 2, 4, 8)", "set key top left", "set grid"]
    parts = []
    for i, s in enumerate(sets):
        parts.append("'-' using 1:2 with linespoints lw 2 lc %d title '%s'" % (i + 1, s))
        parts.append("'-' using 1:3 with lines dt 2 lc %d title '%s: N x one core'" % (i + 1, s))
        parts.append("'-' using 1:4 with lines dt 3 lc %d title '%s: target 0.8 x N'" % (i + 1, s))
    body = []
    start = 0
    for s in sets:
        n_pts = len(med[s])
        block = data[start : start + n_pts + 1]
        start += n_pts + 1
        body += block * 3  # the same rows feed the three series of the set
    cmds.append("plot " + ", ".join(parts))
    r = subprocess.run(["gnuplot"], input="\n".join(cmds + body) + "\n", text=True,
                       capture_output=True)
    if r.returncode != 0:
        print("scale.py: gnuplot failed: %s" % r.stderr.strip(), file=sys.stderr)
        return False
    return True


def cmd_report(args):
    rows = read_rows(args.tsv)
    if not rows:
        print("report: no measured point (nothing fitted this host's CPUs): no figure")
        return 0
    med = medians(rows)
    res, ok = check(med)
    print("| set | RX cores = workers | runs | MB/s (median) | x one core | target 0.8 x N |"
          + (" of ceiling |" if args.ceiling_gbps else ""))
    print("|---|---|---|---|---|---|" + ("---|" if args.ceiling_gbps else ""))
    for s, n, mbs, runs, ratio, verdict in res:
        line = "| %s | %d | %d | %.1f | %s | %s |" % (
            s, n, runs, mbs, "%.2f" % ratio if ratio is not None else "-", verdict)
        if args.ceiling_gbps and runs >= MIN_RUNS:
            # memcpy per core x N: what moving the bytes once per core could reach
            line += " %.1f%% |" % (100 * mbs / (args.ceiling_gbps * 1000 * n))
        elif args.ceiling_gbps:
            line += " - |"
        print(line)
    figures = {s: {n: v for n, v in pts.items() if v[1] >= MIN_RUNS} for s, pts in med.items()}
    figures = {s: pts for s, pts in figures.items() if pts}
    if args.plot and figures:
        if plot(args.plot, figures):
            print("plot: %s" % args.plot)
    return 0 if ok else 3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("plan")
    p.add_argument("--cpus", required=True, help="a CPU list as '0-3,6'")
    p.add_argument("--cores", default="1 2 4 8")
    r = sub.add_parser("report")
    r.add_argument("--tsv", required=True)
    r.add_argument("--ceiling-gbps", type=float, default=0.0)
    r.add_argument("--plot")
    a = ap.parse_args()
    return cmd_plan(a) if a.cmd == "plan" else cmd_report(a)


if __name__ == "__main__":
    sys.exit(main())

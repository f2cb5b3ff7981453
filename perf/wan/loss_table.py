#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The table of perf/wan/loss-sweep.sh from its CSV: per kind and loss rate, the runs
that completed identical, the median time and goodput, the goodput as a share of the
lossless median, and the medians of the job's retransmissions, probe timeouts and the
receiver's frames the sender never got (peer_missing). With --plot FILE, goodput against
loss as an SVG (written by hand: no plotting package needed)."""
import argparse
import csv
import statistics


def write_svg(path, series):
    """Goodput (% of lossless) against loss (%), one line per kind, 70% and 50% marked."""
    w, h, left, bottom, top, right = 480, 320, 50, 40, 20, 20
    xmax = max((p[0] for pts in series.values() for p in pts), default=1) or 1

    def x(v):
        return left + v / xmax * (w - left - right)

    def y(v):
        return h - bottom - min(v, 110) / 110 * (h - bottom - top)

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="11">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>']
    for v in (0, 25, 50, 70, 100):
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ccc"%s/>' %
                   (left, y(v), w - right, y(v), ' stroke-dasharray="4"' if v in (50, 70)
                    else ""))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%d%%</text>' %
                   (left - 4, y(v) + 4, v))
    for pts in series.values():
        for p in pts:
            out.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' %
                       (x(p[0]), h - bottom + 14, p[0]))
        break
    out.append('<text x="%d" y="%d" text-anchor="middle">random drop each way (%%)</text>' %
               ((left + w - right) / 2, h - 6))
    colors = {"file": "#1f77b4", "tree": "#d62728"}
    for i, (kind, pts) in enumerate(series.items()):
        c = colors.get(kind, "black")
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' %
                   (c, " ".join("%.1f,%.1f" % (x(p[0]), y(p[1])) for p in pts)))
        for p in pts:
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (x(p[0]), y(p[1]), c))
        out.append('<text x="%d" y="%d" fill="%s">%s (goodput, %% of lossless)</text>' %
                   (left + 10, top + 12 + 14 * i, c, kind))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--plot")
    a = ap.parse_args()
    rows = list(csv.DictReader(open(a.csv)))
    losses = list(dict.fromkeys(r["loss"] for r in rows))
    print("| kind | loss | runs ok | median time | median goodput | of lossless "
          "| retransmits | pto | peer_missing |")
    print("|---|---|---|---|---|---|---|---|---|")
    series = {}
    for kind in sorted({r["kind"] for r in rows}):
        base = None
        for loss in losses:
            rs = [r for r in rows if r["kind"] == kind and r["loss"] == loss]
            if not rs:
                continue
            ms = statistics.median(int(r["ms"]) for r in rs)
            gp = statistics.median(float(r["goodput_MBps"]) for r in rs)
            if base is None:
                base = gp
            med = {k: statistics.median(int(r[k]) for r in rs)
                   for k in ("retransmits", "pto", "peer_missing")}
            ok = sum(int(r["ok"]) for r in rs)
            series.setdefault(kind, []).append((float(loss), 100 * gp / base))
            print("| %s | %s%% | %d/%d | %.2f s | %.1f MB/s | %.0f%% | %g | %g | %g |" %
                  (kind, loss, ok, len(rs), ms / 1000, gp, 100 * gp / base,
                   med["retransmits"], med["pto"], med["peer_missing"]))
    if a.plot:
        write_svg(a.plot, series)


if __name__ == "__main__":
    main()

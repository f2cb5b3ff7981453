#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Summarise a `run.sh --profile DIR` (and `--polls`) directory.

    perf/transfer/profile-report.py DIR [--top N]

Per case (large, small, ...) and per xferd process (a = sender, b = receiver):
wall time, frames/s (dataplane `frames` and port packets from `xferctl --json stats`
before and after the push), retransmits and drops; per thread CPU use (task-clock /
wall), context switches and sleeps (clock_nanosleep calls) per second; with --polls,
port_poll calls, non-empty polls and frames per non-empty poll; and the top symbols of
`perf report` (self time) for each process and each thread.
"""
import glob
import json
import os
import re
import subprocess
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def delta_stats(before, after):
    """Counters that changed during the push: dataplane, ports (summed), drops."""
    out = {}
    if not before or not after:
        return out
    for k, v in after.get("dataplane", {}).items():
        if isinstance(v, (int, float)):
            out["dp." + k] = v - before.get("dataplane", {}).get(k, 0)
        elif k == "source_readers":
            # One dict per reading lcore: each counter as dp.source_reader_LCORE_NAME.
            was = {r.get("lcore"): r for r in before.get("dataplane", {}).get(k, [])}
            for r in v:
                for name, n in r.items():
                    if name != "lcore" and isinstance(n, (int, float)):
                        base = was.get(r.get("lcore"), {}).get(name, 0)
                        out["dp.source_reader_%s_%s" % (r.get("lcore"), name)] = n - base
    for pa, pb in zip(after.get("ports", []), before.get("ports", [])):
        for k, v in pa.items():
            if isinstance(v, int):
                out["port." + k] = out.get("port." + k, 0) + v - pb.get(k, 0)
    for k, v in after.get("drops", {}).items():
        d = v - before.get("drops", {}).get(k, 0)
        if d:
            out["drop." + k] = d
    return out


def perf_stat(path):
    """perf stat --per-thread -x, output -> {thread: {event: value}}."""
    threads = {}
    if not os.path.exists(path):
        return threads
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.rstrip("\n").split(",")
            if len(cells) < 4:
                continue
            thread, value, event = cells[0], cells[1], cells[3]
            try:
                v = float(value)
            except ValueError:
                continue  # <not counted>
            ev = re.sub(r"^(syscalls|probe_xferd):", "", event)
            threads.setdefault(thread, {})[ev] = threads.get(thread, {}).get(ev, 0) + v
    return threads


def threads(path):
    """threads-*.txt -> {(side, tid): (comm, cpu_ns, wait_ns, slices, vol, invol)}."""
    out = {}
    if not os.path.exists(path):
        return out
    for line in open(path):
        f = line.split()
        if line.startswith("# t_ns"):
            out["t_ns"] = int(f[2])
            continue
        if len(f) < 9:
            continue
        out[(f[0], f[2])] = (f[3], int(f[4]), int(f[5]), int(f[6]), int(f[7]), int(f[8]))
    return out


def perf_report(data, sort, extra=()):
    """Lines of `perf report --stdio` sorted by SORT; none if perf fails."""
    cmd = ["perf", "report", "-i", data, "--no-children", "--stdio", "-g", "none",
           "--sort", sort, *extra]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return []


def perf_top(data, top, comm=None):
    extra = ["--percent-limit", "0.5"] + (["--comms", comm] if comm else [])
    rows = []
    for line in perf_report(data, "dso,symbol", extra):
        m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[[.kH]\]\s+(.*)", line)
        if m:
            rows.append((float(m.group(1)), m.group(2), m.group(3).strip()))
    return rows[:top]


def perf_comms(data):
    rows = []
    for line in perf_report(data, "comm"):
        m = re.match(r"\s+([\d.]+)%\s+(.+?)\s*$", line)
        if m:
            rows.append((float(m.group(1)), m.group(2)))
    return rows


# Rough buckets for "where the time goes", by symbol (self samples).
CATEGORIES = [
    ("sleep/wake, scheduler", r"finish_task_switch|__schedule|schedule|nanosleep|hrtimer|"
     r"xf_engine_idle|_raw_spin_unlock_irq|irqentry_exit|native_write_msr|try_to_wake|"
     r"enqueue_task|dequeue_task|update_curr|pick_next|switch_mm|__switch_to|psi_"),
    ("data copies (file <-> kernel, memif)", r"copy_to_iter|copy_folio_from_iter|copy_user|"
     r"memcpy|memmove|librte_net_memif"),
    ("checksums (crc64, UDP/IP)", r"crc64|crc32|adler|rte_raw_cksum|cksum"),
    ("io_uring / io-wq / VFS", r"^io_|__io_|io_wq|io_worker|iou|filemap|shmem|generic_perform|"
     r"xf_storage|folio|atime|file_|vfs_|rw_verify|fsnotify|security_file"),
    ("clock reads", r"clock_gettime|vdso|rdtsc|xf_engine_now"),
    ("mbuf / mempool", r"rte_pktmbuf|mempool|mbuf"),
    ("protocol, push/pipeline logic", r"xf_push|xf_reliab|xf_pipeline|xf_session|xf_worker|"
     r"xf_proto|xf_net|xf_ftable|xf_reorder|reader_poll|port_poll|xf_engine|transmit|rs_|"
     r"release_mbuf|udp_input|tx_flush|frame_"),
]


def categorize(data):
    """Self-sample share per category over the whole process."""
    cmd = ["perf", "report", "-i", data, "--no-children", "--stdio", "-g", "none",
           "--sort", "dso,symbol"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    shares = {name: 0.0 for name, _ in CATEGORIES}
    other = 0.0
    for line in out.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[[.kH]\]\s+(\S+)", line)
        if not m:
            continue
        pct, dso, sym = float(m.group(1)), m.group(2), m.group(3)
        for name, rx in CATEGORIES:
            if re.search(rx, sym) or re.search(rx, dso):
                shares[name] += pct
                break
        else:
            other += pct
    return sorted(shares.items(), key=lambda kv: -kv[1]) + [("other", other)]


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: profile-report.py DIR [--top N]")
    d = sys.argv[1]
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 15
    cases = sorted({re.sub(r"^wall-(.*)-ms\.txt$", r"\1", os.path.basename(p))
                    for p in glob.glob(os.path.join(d, "wall-*-ms.txt"))})
    for c in cases:
        wall_ms = int(open(os.path.join(d, "wall-%s-ms.txt" % c)).read())
        wall = wall_ms / 1000.0
        print("=" * 78)
        print("case %s: push wall %.3f s" % (c, wall))
        push = os.path.join(d, "push-%s.txt" % c)
        if os.path.exists(push):
            for line in open(push):
                if re.match(r"(Bytes on the wire|Retransmitted|Duration|Number of files transferred)", line):
                    print("  " + line.rstrip())
        for side, role in (("a", "sender"), ("b", "receiver")):
            s = delta_stats(load(os.path.join(d, "stats-%s-%s-before.json" % (c, side))),
                            load(os.path.join(d, "stats-%s-%s-after.json" % (c, side))))
            print("-- %s (%s)" % (side, role))
            if s:
                print("  frames %d (%.0f/s); port rx %d tx %d packets (%.0f / %.0f per s); "
                      "rx_missed %d; retransmits %d"
                      % (s.get("dp.frames", 0), s.get("dp.frames", 0) / wall,
                         s.get("port.rx_packets", 0), s.get("port.tx_packets", 0),
                         s.get("port.rx_packets", 0) / wall, s.get("port.tx_packets", 0) / wall,
                         s.get("port.rx_missed", 0), s.get("dp.retransmits", 0)))
                drops = {k: v for k, v in s.items() if k.startswith("drop.") or k == "port.tx_errors"}
                if drops:
                    print("  drops: " + ", ".join("%s %d" % kv for kv in sorted(drops.items())))
            t0 = threads(os.path.join(d, "threads-%s-before.txt" % c))
            t1 = threads(os.path.join(d, "threads-%s-after.txt" % c))
            rows = []
            # the snapshots bracket the push (and perf's attach delay): use their interval
            span = (t1["t_ns"] - t0["t_ns"]) / 1e9 if "t_ns" in t0 and "t_ns" in t1 else wall
            for key, v in sorted((k, v) for k, v in t1.items() if k != "t_ns"):
                sd, tid = key
                if sd != side:
                    continue
                b = t0.get((sd, tid), (v[0], 0, 0, 0, 0, 0))
                cpu, wait = (v[1] - b[1]) / 1e9, (v[2] - b[2]) / 1e9
                vol, invol = v[4] - b[4], v[5] - b[5]
                if cpu < 0.01 * span and vol < 10:
                    continue
                rows.append("    %-16s %-6s on cpu %5.1f%%  runnable-waiting %5.1f%%  off cpu (sleep/block) %5.1f%%"
                            "  vol-sw %6.0f/s invol-sw %5.0f/s"
                            % (v[0], tid, 100 * cpu / span, 100 * wait / span,
                               max(0.0, 100 * (span - cpu - wait) / span), vol / span, invol / span))
            if rows:
                print("  threads (schedstat over %.2f s around the push; io-wq workers that came and went are missed):" % span)
                print("\n".join(rows))
            for kind in ("stat", "pstat"):
                st = perf_stat(os.path.join(d, "%s-%s-%s.csv" % (kind, c, side)))
                if not st:
                    continue
                print("  threads (%s; rates over the %.2f s perf was attached): cpu%% = task-clock / that"
                      % ("counting pass, uprobes on" if kind == "pstat" else "sampling pass", span))
                for t, ev in sorted(st.items()):
                    tc = ev.get("task-clock", 0) / 1000.0  # msec -> s
                    sleeps = ev.get("sys_enter_clock_nanosleep", 0) + ev.get("sys_enter_nanosleep", 0)
                    line = "    %-22s cpu %5.1f%%  ctx-sw %8.0f/s  sleeps %8.0f/s" % (
                        t, 100.0 * tc / span, ev.get("context-switches", 0) / span, sleeps / span)
                    if ev.get("port_poll", 0) > 0:
                        polls, busy = ev["port_poll"], ev.get("port_poll__return", 0)
                        rxp = s.get("port.rx_packets", 0)
                        line += "  polls %.0f/s, non-empty %.1f%%, frames/non-empty poll %.1f" % (
                            polls / span, 100.0 * busy / max(polls, 1), rxp / max(busy, 1))
                    print(line)
            tx = os.path.join(d, "txprobe-%s-%s.data" % (c, side))
            if os.path.exists(tx):
                try:
                    out = subprocess.run(["perf", "script", "-i", tx], capture_output=True,
                                         text=True, timeout=300).stdout
                except (OSError, subprocess.TimeoutExpired):
                    out = ""
                offered = sum(int(m) for m in re.findall(r"xf_port_tx_burst: .*\bn=(\d+)", out))
                taken = sum(int(m) for m in re.findall(r"xf_port_tx_burst__return: .*arg1=(\d+)", out))
                bursts = len(re.findall(r"xf_port_tx_burst: ", out))
                print("  xf_port_tx_burst: %d bursts, %d frames offered, %d taken, %d refused "
                      "(freed by tx_flush: TX ring full), %.1f frames/burst"
                      % (bursts, offered, taken, offered - taken, offered / max(bursts, 1)))
            data = os.path.join(d, "perf-%s-%s.data" % (c, side))
            if os.path.exists(data):
                print("  samples by thread:")
                comms = perf_comms(data)
                for pct, comm in comms:
                    print("    %5.1f%%  %s" % (pct, comm))
                print("  samples by category (self, rough):")
                for name, pct in categorize(data):
                    print("    %5.1f%%  %s" % (pct, name))
                print("  top symbols (self):")
                for pct, dso, sym in perf_top(data, top):
                    print("    %5.1f%%  %-28s %s" % (pct, dso[:28], sym))
                for _, comm in comms:
                    print("  top symbols in thread %s:" % comm)
                    for pct, dso, sym in perf_top(data, 8, comm):
                        print("      %5.1f%%  %-26s %s" % (pct, dso[:26], sym))


if __name__ == "__main__":
    main()

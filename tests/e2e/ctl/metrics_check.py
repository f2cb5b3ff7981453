#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The checks of metrics.sh: scrape /metrics, and hold a scrape against xferctl's JSON.

  metrics_check.py get URL              print the body; exit 1 unless 200 and the
                                        exposition format's content type
  metrics_check.py status URL METHOD    print the HTTP status of METHOD URL
  metrics_check.py stats METRICS STATS_JSON
      Every number of `xferctl --json stats` is in METRICS under the name the
      exposition's naming gives it (docs/OPERATIONS.md, "Metrics"), and no counter in
      METRICS (scraped first) is above the value in STATS_JSON (read after): counters
      only grow. Prints how many were compared.
  metrics_check.py jobs METRICS JOBS_JSON
      For every finished job: its counters in METRICS equal those of
      `xferctl --json jobs` exactly (a finished job's counters no longer move).
  metrics_check.py dashboard METRICS DASHBOARD_JSON
      every metric the Grafana dashboard's queries name is in METRICS
  metrics_check.py value METRICS NAME [LABEL=VALUE]...
      print the value of one sample
"""
import json
import re
import sys
import urllib.error
import urllib.request

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            m = SAMPLE.match(line)
            if m is None:
                sys.exit(f"unparsable line: {line!r}")
            labels = tuple(sorted(LABEL.findall(m.group(2) or "")))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        ctype = r.headers.get("Content-Type", "")
        if r.status != 200 or not ctype.startswith("text/plain; version=0.0.4"):
            sys.exit(f"GET {url}: {r.status} {ctype}")
        sys.stdout.write(r.read().decode())


def status(url, method):
    req = urllib.request.Request(url, method=method, data=b"x" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            print(r.status)
    except urllib.error.HTTPError as e:
        print(e.code)


def expected_stats(stats):
    """(name, labels, value) of every number in the stats JSON, named as xferd names them."""
    for section, sec in stats.items():
        if section == "ports":
            for p in sec:
                for k, v in p.items():
                    if isinstance(v, (int, float)):
                        yield f"xferd_port_{k}_total", (("port", p["name"]),), v
        elif section == "queues":
            for q in sec:
                for k, v in q.items():
                    if k != "queue":
                        yield f"xferd_queue_{k}_total", (("queue", str(q["queue"])),), v
        elif section == "rings":
            for r in sec:
                yield "xferd_ring_used_entries", (("ring", r["name"]),), None
                yield "xferd_ring_free_entries", (("ring", r["name"]),), None
        elif section == "drops":
            for k, v in sec.items():
                yield "xferd_drops_total", (("reason", k),), v
        elif section == "cores":
            continue  # labels of info gauges, no numbers
        elif section == "volumes":
            for vol in sec:
                labels = (("volume", vol["name"]),)
                yield "xferd_volume_info", None, None  # its labels: the volume's settings
                for k, v in vol.items():
                    if k == "sessions":
                        yield "xferd_volume_sessions", labels, None  # a gauge
                    elif isinstance(v, (int, float)):
                        yield f"xferd_volume_{k}_total", labels, v
        elif isinstance(sec, dict):
            prefix = "xferd_" if section in ("dataplane", "control") else f"xferd_{section}_"
            for k, v in sec.items():
                if isinstance(v, (int, float)):
                    yield f"{prefix}{k}_total", (), v
        else:
            sys.exit(f"stats: section {section!r} is new: say here how it is named")


def check_stats(metrics_path, stats_path):
    metrics = parse(metrics_path)
    with open(stats_path, encoding="utf-8") as f:
        stats = json.load(f)
    n = 0
    for name, labels, value in expected_stats(stats):
        if labels is None:  # an info gauge: its labels are strings, not compared
            if not any(k[0] == name for k in metrics):
                sys.exit(f"stats: no sample {name} in the scrape")
            n += 1
            continue
        key = (name, tuple(sorted(labels)))
        if key not in metrics:
            sys.exit(f"stats: no sample {name}{dict(labels)} in the scrape")
        if value is not None and name.endswith("_total") and metrics[key] > value:
            sys.exit(f"stats: {name}{dict(labels)} = {metrics[key]} scraped, but xferctl "
                     f"stats says {value} after it")
        n += 1
    print(n)


JOB_FIELDS = {  # xferctl jobs key -> (metric, scale), as xferd_metrics.c names them
    "files_total": ("xferd_job_files", 1),
    "bytes_total": ("xferd_job_size_bytes", 1),
    "bytes_done": ("xferd_job_done_bytes_total", 1),
    "bytes_literal": ("xferd_job_literal_bytes_total", 1),
    "bytes_matched": ("xferd_job_matched_bytes_total", 1),
    "wire_bytes_sent": ("xferd_job_wire_sent_bytes_total", 1),
    "wire_bytes_received": ("xferd_job_wire_received_bytes_total", 1),
}


def check_jobs(metrics_path, jobs_path):
    metrics = parse(metrics_path)
    with open(jobs_path, encoding="utf-8") as f:
        jobs = json.load(f)["jobs"]
    n = 0
    for j in jobs:
        if j["state"] != "done":
            continue
        labels = tuple(sorted((("job", str(j["id"])), ("peer", j["peer"]))))
        for k, v in j.items():
            # Flags (dry_run, itemize, checksum) are bools, which Python counts as ints.
            if not isinstance(v, int) or isinstance(v, bool) or k in ("id", "rate_bps", "eta_s", "elapsed_ms",
                                               "rtt_us", "pto_backoff_max", "queued_ms"):
                continue
            name, scale = JOB_FIELDS.get(k, (f"xferd_job_{k}_total", 1))
            got = metrics.get((name, labels))
            if got is None or got != v * scale:
                sys.exit(f"jobs: job {j['id']} {k} = {v}, but {name} = {got}")
            n += 1
    print(n)


def dashboard(metrics_path, dash_path):
    names = {name for name, _ in parse(metrics_path)}
    with open(dash_path, encoding="utf-8") as f:
        dash = json.load(f)
    used = set()
    for p in dash["panels"]:
        for t in p["targets"]:
            used.update(re.findall(r"\bxferd_[a-z0-9_]+", t["expr"]))
    missing = sorted(used - names)
    if not used or missing:
        sys.exit(f"dashboard: queries name metrics xferd does not serve: {missing}")
    print(len(used))


def value(metrics_path, name, pairs):
    metrics = parse(metrics_path)
    labels = tuple(sorted(tuple(p.split("=", 1)) for p in pairs))
    v = metrics.get((name, labels))
    if v is None:
        sys.exit(f"no sample {name}{dict(labels)}")
    print(int(v) if v == int(v) else v)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "get":
        get(args[0])
    elif cmd == "status":
        status(args[0], args[1])
    elif cmd == "stats":
        check_stats(args[0], args[1])
    elif cmd == "jobs":
        check_jobs(args[0], args[1])
    elif cmd == "dashboard":
        dashboard(args[0], args[1])
    elif cmd == "value":
        value(args[0], args[1], args[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

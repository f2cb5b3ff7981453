# SPDX-License-Identifier: BSD-3-Clause
"""A configuration that `xferd --check` accepts must also start: xferd runs at every bound
of every numeric key of the schema (the minimum and the maximum of each integer, and of
each list's length), one key at a time on a net_memif port with no peer, must print its
readiness line, report `running` over the control socket, and stop with exit 0 on
`xferctl shutdown`.

The keys and ranges come from the key table of docs/CONFIG.md, which unit-config keeps
equal to the schema in control/config/xf_config_schema.c: a key added to the schema is
tested here without a change to this file. Every failure is reported, then the test fails.

usage: bounds_test.py SOURCE_ROOT XFERD XFERCTL"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

READY_TIMEOUT = 60  # seconds from exec to the readiness line
STOP_TIMEOUT = 30   # seconds from `xferctl shutdown` to exit

# The lcores of the base config: main 0, RX and worker sharing lcore 1, both floating
# over CPUs 0 and 1 (any machine with two CPUs runs it).
BASE = """version: 1
appliance: {{name: bounds}}
eal: {{file_prefix: {prefix}, hugepages: false, memory_mb: 512, pci: false}}
cores: {{main: 0, rx: [1], workers: [1], cpus: [0, 1]}}
ports:
  - name: wire0
    device: "net_memif0,role=server,socket={t}/memif.sock"
    ipv4: 10.99.0.1/16
volumes:
  - {{name: data, path: {t}/vol0, fsync: none}}
peers:
  - {{name: b, ipv4: 10.99.0.2}}
control: {{socket: {t}/xferd.sock}}
"""

# Bounds that are the machine's, not the engine's: a CPU id must be below the CPUs this
# machine has (unit-config checks the refusal).
MACHINE_BOUND = {
    ("cores.cpus", "count", "max"),
    ("cores.cpus", "each", "max"),
}

# Bounds that a cross-field check ties to another key: the other key's bound comes along.
COMPANIONS = {
    ("session.timeout_ms", "min"): ["session.keepalive_ms=10"],
    ("session.keepalive_ms", "max"): ["session.timeout_ms=3600000"],
    # A volume's workers are lcores of cores.workers.
    ("volumes[].workers", "max"): ["cores.workers=[" + ",".join(str(1 + i) for i in range(16)) + "]"],
    ("session.reject_after_ms", "min"): ["session.rekey_after_ms=1000"],
    ("session.rekey_after_ms", "max"): ["session.reject_after_ms=7200000"],
    # The fault stage's link: a delay or a queue needs a rate (docs/RELIABILITY.md).
    ("ports[].fault.delay_ms", "max"): ["ports[0].fault.rate_mbit=1"],
    ("ports[].fault.queue_bytes", "max"): ["ports[0].fault.rate_mbit=1"],
    # The mbuf pool grows with the window: 65536 at MTU 1500 needs 864 MiB.
    ("session.window_max_frames", "max"): ["eal.memory_mb=1024"],
}


def key_table(root):
    """(key, type, lo, hi, each_lo, each_hi) for every numeric range of the key table."""
    rows = []
    with open(os.path.join(root, "docs", "CONFIG.md")) as f:
        text = f.read()
    table = text.split("<!-- BEGIN KEY TABLE -->")[1].split("<!-- END KEY TABLE -->")[0]
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`"):
            continue
        key, typ, rng = cells[0].strip("`"), cells[1], cells[3]
        m = re.match(r"^(\d+)\.\.(\d+)(?:, power of two)?$", rng)
        if typ == "integer" and m:
            rows.append((key, "int", int(m[1]), int(m[2]), None, None))
            continue
        m = re.match(r"^(\d+)\.\.(\d+) entries(?:; each (\d+)\.\.(\d+)$)?", rng)
        if typ.startswith("list of") and m:
            each = (int(m[3]), int(m[4])) if m[3] else (None, None)
            rows.append((key, "list", int(m[1]), int(m[2]), *each))
    return rows


def set_path(key):
    """The --set path of a table key: the first entry of each list."""
    return key.replace("[]", "[0]")


def list_value(key, n, t):
    """A flow-style list of N valid entries for list KEY (its entries unique)."""
    if key == "cores.rx":
        return "[" + ",".join(str(1 + i) for i in range(n)) + "]"
    if key in ("cores.workers", "volumes[].workers"):
        return "[" + ",".join(str(1 + i) for i in range(n)) + "]"
    if key == "cores.cpus":
        return "[" + ",".join(str(i) for i in range(n)) + "]"
    if key == "eal.extra_args":
        return "[" + ",".join('"--log-level=lib.eal:notice"' for _ in range(n)) + "]"
    if key == "ports[]":
        extra = [f"{{name: p{i}, device: net_null{i}, ipv4: 10.{100 + i}.0.1/24}}"
                 for i in range(1, n)]
        first = (f'{{name: wire0, device: "net_memif0,role=server,socket={t}/memif.sock", '
                 "ipv4: 10.99.0.1/16}")
        return "[" + ",".join([first] + extra) + "]"
    if key == "ports[].neighbors[]":
        return "[" + ",".join(f"{{ipv4: 10.99.2.{1 + i}, mac: '02:00:00:00:02:{i:02x}'}}"
                              for i in range(n)) + "]"
    if key == "volumes[]":
        for i in range(n):
            os.makedirs(f"{t}/vol{i}", exist_ok=True)
        return "[" + ",".join(f"{{name: v{i}, path: {t}/vol{i}, fsync: none}}"
                              for i in range(n)) + "]"
    if key == "control.push_roots":
        for i in range(n):
            os.makedirs(f"{t}/root{i}", exist_ok=True)
        return "[" + ",".join(f'"{t}/root{i}"' for i in range(n)) + "]"
    if key == "volumes[].xattr_namespaces":  # each namespace once
        return "[" + ",".join(["security", "trusted"][:n]) + "]"
    if key == "peers[]":
        return "[" + ",".join(f"{{name: p{i}, ipv4: 10.99.1.{i}}}" for i in range(n)) + "]"
    return None


def lcore_each(key, v):
    """--set for one lcore list entry at bound V; lcore 0 means main must move."""
    sets = [f"{key}=[{v}]"]
    if key == "volumes[].workers":  # an lcore of cores.workers
        sets = [f"cores.workers=[{v}]", f"volumes[0].workers=[{v}]"]
    if v == 0:
        sets.append("cores.main=127")
    return sets


def cases(rows, t):
    """(name, [--set ...]) for every bound; names of bounds not run go to stdout."""
    out = []
    for key, kind, lo, hi, each_lo, each_hi in rows:
        for which, v in (("min", lo), ("max", hi))[:1 if lo == hi else 2]:
            if kind == "int":
                sets = [f"{set_path(key)}={v}"] + COMPANIONS.get((key, which), [])
                out.append((f"{key}={v}", sets))
                continue
            if (key, "count", which) in MACHINE_BOUND:
                print(f"not run: {key} with {v} entries (bound by this machine's CPUs)")
                continue
            value = list_value(key, v, t)
            if value is None:
                print(f"FAIL: no way to build {key} with {v} entries: add it to list_value()")
                out.append((f"{key} (no generator)", None))
                continue
            path = set_path(key[:-2] if key.endswith("[]") else key)
            out.append((f"{key} with {v} entries",
                        [f"{path}={value}"] + COMPANIONS.get((key, which), [])))
        if kind == "list" and each_lo is not None:
            for which, v in (("min", each_lo), ("max", each_hi)):
                if (key, "each", which) in MACHINE_BOUND:
                    print(f"not run: {key} entry {v} (bound by this machine's CPUs)")
                    continue
                out.append((f"{key} entry {v}", lcore_each(key, v)))
    return out


def run_one(xferd, xferctl, t, prefix, sets):
    """Start xferd with SETS, wait for ready and running, shut it down. @return error or None"""
    cmd = [xferd, "-c", os.path.join(t, "base.yaml")]
    for s in sets:
        cmd += ["--set", s]
    with open(os.path.join(t, "xferd.log"), "w") as log:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log)
    try:
        buf = b""
        deadline = time.monotonic() + READY_TIMEOUT
        while b"xferd: ready\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return f"no readiness line in {READY_TIMEOUT} s"
            r, _, _ = select.select([p.stdout], [], [], left)
            if r:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    return f"exited before ready with {p.wait()}"
                buf += chunk
        sock = os.path.join(t, "xferd.sock")
        r = subprocess.run([xferctl, "-s", sock, "--json", "status"], capture_output=True,
                           text=True, timeout=30)
        state = json.loads(r.stdout).get("state") if r.returncode == 0 else None
        if state != "running":
            return f"status: state {state!r} ({r.stdout.strip()} {r.stderr.strip()})"
        r = subprocess.run([xferctl, "-s", sock, "shutdown"], capture_output=True, text=True,
                           timeout=30)
        if r.returncode != 0:
            return f"shutdown refused: {r.stdout.strip()} {r.stderr.strip()}"
        rc = p.wait(timeout=STOP_TIMEOUT)
        return None if rc == 0 else f"exit status {rc} after shutdown"
    except subprocess.TimeoutExpired:
        return "no exit after shutdown"
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
        p.stdout.close()
        # EAL leaves its runtime directory behind; this prefix was ours alone.
        run = "/var/run" if os.getuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
        shutil.rmtree(os.path.join(run, "dpdk", prefix), ignore_errors=True)


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    root, xferd, xferctl = sys.argv[1:]
    failed = []
    with tempfile.TemporaryDirectory(prefix="xfbounds.") as t:
        prefix = "xfbounds" + str(os.getpid())
        os.makedirs(os.path.join(t, "vol0"))
        with open(os.path.join(t, "base.yaml"), "w") as f:
            f.write(BASE.format(t=t, prefix=prefix))
        todo = cases(key_table(root), t)
        if len(todo) < 40:
            print(f"FAIL: only {len(todo)} bounds found in docs/CONFIG.md's key table")
            return 1
        t0 = time.monotonic()
        for name, sets in todo:
            err = "no value" if sets is None else run_one(xferd, xferctl, t, prefix, sets)
            if err is None:
                print(f"ok: {name}", flush=True)
                continue
            print(f"FAIL: {name}: {err}", flush=True)
            with open(os.path.join(t, "xferd.log")) as f:
                lines = [l for l in f.read().splitlines() if "error" in l.lower()]
            print("  | " + "\n  | ".join(lines[-5:]))
            failed.append(name)
        print(f"{len(todo)} bounds, {len(failed)} failed, {time.monotonic() - t0:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

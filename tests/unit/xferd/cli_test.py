#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""xferd's command line without EAL (docs/OPERATIONS.md): --check on every file in
config/, --dump-config round trip, --set error positions, --format json, exit codes.

usage: cli_test.py XFERD SOURCE_ROOT"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

XFERD = sys.argv[1]
ROOT = sys.argv[2]
failures = 0


def check(cond, msg):
    global failures
    print(("ok: " if cond else "FAIL: ") + msg, flush=True)
    failures += not cond


def run(*args):
    return subprocess.run([XFERD, *args], capture_output=True, text=True, timeout=30)


def overrides_for(path, t):
    """--set options that make the file's environment-bound keys hold on this box: each
    volume path the check reports missing gets a temp directory, the control socket
    moves into the temp dir. Found from the JSON errors, not from reading the YAML."""
    sets = []
    r = run("--check", "-c", path, "--format", "json")
    for e in json.loads(r.stdout)["errors"]:
        if e["key"].startswith("volumes[") and e["key"].endswith("].path"):
            d = os.path.join(t, e["key"].replace("[", "_").replace("]", "").replace(".", "_"))
            os.makedirs(d, exist_ok=True)
            sets += ["--set", f"{e['key']}={d}"]
    return sets


def main():
    t = tempfile.mkdtemp(prefix="xf-cli-")
    try:
        files = sorted(glob.glob(os.path.join(ROOT, "config", "**", "*.yaml"), recursive=True))
        check(len(files) >= 3, f"config/ has the dev pair and the reference ({len(files)})")
        for path in files:
            rel = os.path.relpath(path, ROOT)
            sets = overrides_for(path, t)
            r = run("--check", "-c", path, *sets)
            check(r.returncode == 0 and "configuration ok" in r.stdout,
                  f"--check {rel} {' '.join(sets[1::2])}: exit {r.returncode} {r.stderr}")
            r = run("--check", "-c", path, *sets, "--format", "json")
            j = json.loads(r.stdout)
            check(r.returncode == 0 and j == {"file": path, "ok": True, "errors": []},
                  f"--check --format json {rel}: {j}")
            # --dump-config loads back, and dumps identically (a fixed point).
            d1 = run("--dump-config", "-c", path, *sets)
            check(d1.returncode == 0 and "\nversion: 1\n" in d1.stdout,
                  f"--dump-config {rel}")
            dumped = os.path.join(t, "dump-" + os.path.basename(path))
            with open(dumped, "w") as f:
                f.write(d1.stdout)
            r = run("--check", "-c", dumped)
            check(r.returncode == 0, f"the dump of {rel} loads back: {r.stderr}")
            d2 = run("--dump-config", "-c", dumped)
            check(d2.returncode == 0 and d2.stdout == d1.stdout,
                  f"the dump of {rel} dumps identically")

        dev = os.path.join(ROOT, "config", "dev", "a.yaml")
        vol = os.path.join(t, "vol")
        os.makedirs(vol)
        base = ["-c", dev, "--set", f"volumes[0].path={vol}"]

        # --set errors: --set:N:COL in text (N = the override's number, COL its column).
        bad_sets = ["--set", "appliance.log_level=info", "--set", "ports[0].mtu=80x",
                    "--set", "cores.rx=[1,", "--set", "session.nosuch=1"]
        r = run("--check", *base, *bad_sets)
        err = r.stderr
        check(r.returncode == 1, f"bad overrides: exit 1 ({r.returncode})")
        for n, text, col_of in ((3, "ports[0].mtu=80x", "80x"), (4, "cores.rx=[1,", "[1,"),
                                (5, "session.nosuch=1", "nosuch")):
            col = text.index(col_of) + 1
            check(f"--set:{n}:{col}: error: " in err, f"override {n} ('{text}') at --set:{n}:{col}")
            # The override is shown with a caret under the column.
            check(f"  {text}\n  {' ' * (col - 1)}^\n" in err, f"override {n} has a caret")
        check("--set:1" not in err and "--set:2" not in err, "valid overrides raise nothing")
        check(err.rstrip().endswith("3 errors"), "the error count closes the report")

        # --format json: parses, ok false, every error with its position.
        r = run("--check", *base, *bad_sets, "--format", "json")
        j = json.loads(r.stdout)
        check(r.returncode == 1 and j["ok"] is False and j["file"] == dev, "json: ok false")
        got = [(e["file"], e["line"], e["col"], e["key"]) for e in j["errors"]]
        check(got == [("--set", 3, 14, "ports[0].mtu"), ("--set", 4, 10, "cores.rx"),
                      ("--set", 5, 9, "session.nosuch")], f"json lists the errors: {got}")
        check(all(e["message"] for e in j["errors"]), "each json error has a message")

        # Bad files from the corpus: text and json agree on the positions.
        corpus = sorted(glob.glob(os.path.join(ROOT, "tests", "unit", "config", "bad", "*.yaml")))
        for path in corpus:
            rt = run("--check", "-c", path)
            rj = run("--check", "-c", path, "--format", "json")
            j = json.loads(rj.stdout)
            pos = {f"{e['file']}:{e['line']}:{e['col']}: error: " for e in j["errors"]}
            if not (rt.returncode == 1 and rj.returncode == 1 and j["errors"] and
                    all(p in rt.stderr for p in pos)):
                check(False, f"{os.path.basename(path)}: text and json disagree")
        check(len(corpus) > 0, f"{len(corpus)} bad files: exit 1, text and json agree")

        # A second volume is valid and receives: --check warns about nothing.
        two = os.path.join(t, "two-volumes.yaml")
        with open(dev) as f:
            text = f.read()
        vol2 = os.path.join(t, "vol2")
        os.makedirs(vol2)
        head, tail = text.split("\npeers:", 1)
        with open(two, "w") as f:
            f.write(f"{head}\n  - name: second\n    path: {vol2}\npeers:{tail}")
        r = run("--check", "-c", two, "--set", f"volumes[0].path={vol}")
        check(r.returncode == 0 and "configuration ok" in r.stdout, f"two volumes: valid ({r.stderr})")
        check("warning" not in r.stderr.lower(), f"two volumes: no warning ({r.stderr!r})")
        # Its workers must be the appliance's: an lcore that is no worker is refused.
        r = run("--check", "-c", two, "--set", f"volumes[0].path={vol}",
                "--set", "volumes[1].workers=[99]")
        check(r.returncode == 1 and "volumes[1].workers[0]" in r.stderr and
              "not one of cores.workers" in r.stderr,
              f"volumes[1].workers=[99]: refused ({r.stderr!r})")

        # Exit codes: 0 valid, 1 invalid or unreadable, 2 usage.
        check(run("--check", *base).returncode == 0, "valid: 0")
        check(run("--check", "-c", os.path.join(t, "missing.yaml")).returncode == 1,
              "missing file: 1")
        check(run("--dump-config", "-c", corpus[0]).returncode == 1, "--dump-config invalid: 1")
        check(run("--check").returncode == 2, "no -c: 2")
        check(run("--check", *base, "--format", "xml").returncode == 2, "--format xml: 2")
        check(run("--check", *base, "--bogus").returncode == 2, "unknown option: 2")
        check(run("--check", *base, "extra").returncode == 2, "extra argument: 2")
        h = run("--help")
        check(h.returncode == 0 and "usage: xferd" in h.stdout, "--help: 0 and usage")
    finally:
        shutil.rmtree(t, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Sum meson test logs into one closing line: 'tests: N passed, N failed, N skipped'.

Each skipped test is named with the reason it printed, and each failed one with the last
lines it printed (TAIL_LINES): a CI report may keep only the end of the run's output, so
the cause of a failure must be there and not only in the tier's log above. With CI=true a skip counts as a
failure unless the test is listed in tests/needs-hardware.txt (hardware a CI machine
cannot have): everything else a test needs is installed by scripts/install-deps.sh, so a
skip there means a missing install step or a broken test.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TAIL_LINES = 25


def hardware_tests():
    allowed = {}
    with open(os.path.join(HERE, "..", "tests", "needs-hardware.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, why = line.partition(" ")
                allowed[name] = why.strip()
    return allowed


def output_tail(r):
    """What a failed test printed, indented: its FAIL lines (the verdict, often above the
    daemons' logs), then its last TAIL_LINES lines, without DPDK's start-up banner."""
    out = (r.get("stdout") or "") + (r.get("stderr") or "")
    lines = [x.rstrip() for x in out.splitlines()
             if x.strip() and not x.startswith(("EAL: ", "TELEMETRY: "))]
    verdicts = [x for x in lines[:-TAIL_LINES] if "FAIL" in x][:5]
    shown = verdicts + (["..."] if verdicts else []) + lines[-TAIL_LINES:]
    return "".join(f"    | {x[:300]}\n" for x in shown) or "    | (nothing printed)\n"


def skip_reason(r):
    """The last line a skipped test printed (it says what was missing)."""
    out = (r.get("stdout") or "") + (r.get("stderr") or "")
    lines = [x.strip() for x in out.splitlines() if x.strip()]
    return lines[-1][:200] if lines else "no reason printed"


ci = os.environ.get("CI", "") == "true"
allowed = hardware_tests()
passed = failed = skipped = 0
failures = []
path_of = {}
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as e:
        print(f"test-summary: {path}: {e}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        r = json.loads(line)
        path_of[id(r)] = os.path.basename(path)
        res = r.get("result")
        name = r.get("name", "?")
        short = name.split(" / ", 1)[-1]
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP" and short in allowed:
            skipped += 1
            print(f"skipped: {name} (needs {allowed[short]})")
        elif res == "SKIP" and not ci:
            skipped += 1
            print(f"skipped: {name}: {skip_reason(r)}")
        elif res == "SKIP":
            failed += 1
            print(f"failed: {name} skipped, and only hardware tests may skip under CI: "
                  f"{skip_reason(r)}")
        else:
            failed += 1
            failures.append(r)
            print(f"failed: {name} ({res})")
for r in failures:
    print(f"--- last lines of {r.get('name', '?')} ({path_of[id(r)]}):")
    sys.stdout.write(output_tail(r))
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)

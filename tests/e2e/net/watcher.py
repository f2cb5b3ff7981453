#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Scan DEST over and over until STOPFILE exists: every regular file at a final path
(anything outside DEST/.xferd) must be byte-identical to its counterpart under SRC.
Exit 1 on the first file that is not (a partial or unverified file at a final path),
0 when stopped; prints the number of scans and of files compared. With OLD
directories, a file identical to its counterpart under one of them (the version a push
replaces, or another one it may rightly keep) passes too.

    watcher.py SRC DEST STOPFILE [OLD...]
"""
import os
import sys
import time


def same(fa, b):
    """The open file fa (from its start) holds what the file at path b holds."""
    fa.seek(0)
    with open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 16), fb.read(1 << 16)
            if x != y:
                return False
            if not x:
                return True


def where(fa, dirs, rel):
    """Where the open file fa differs from each candidate: size, first differing 4 KiB."""
    fa.seek(0)
    got = fa.read()
    out = ["%d bytes" % len(got)]
    for d in dirs:
        try:
            with open(os.path.join(d, rel), "rb") as f:
                want = f.read()
        except OSError as e:
            out.append("%s: %s" % (d, e.strerror))
            continue
        n = min(len(got), len(want))
        first = next((i for i in range(0, n, 4096) if got[i:i + 4096] != want[i:i + 4096]), n)
        out.append("vs %s (%d bytes): first difference in the 4 KiB at %d" % (d, len(want), first))
    return "; ".join(out)


def main():
    src, dest, stop = sys.argv[1:4]
    olds = sys.argv[4:]
    scans = compared = 0
    while True:
        last = os.path.exists(stop)  # one more full scan after the stop request
        for root, dirs, files in os.walk(dest):
            if root == dest and ".xferd" in dirs:
                dirs.remove(".xferd")
            for f in files:
                p = os.path.join(root, f)
                rel = os.path.relpath(p, dest)
                # Opened once: a file replaced meanwhile is judged as the one opened.
                try:
                    fa = open(p, "rb")
                except FileNotFoundError:
                    continue  # gone meanwhile (not expected, but not partial)
                with fa:
                    try:
                        ok = same(fa, os.path.join(src, rel)) or any(
                            same(fa, os.path.join(o, rel)) for o in olds)
                    except FileNotFoundError:
                        print("watcher: %s has no source counterpart" % rel, file=sys.stderr)
                        return 1
                    compared += 1
                    if not ok:
                        print("watcher: %s at its final path differs from the source "
                              "(partial or unverified file): %s"
                              % (rel, where(fa, [src] + olds, rel)), file=sys.stderr)
                        return 1
        scans += 1
        time.sleep(0.005)  # leave the two-core test machine to the appliances
        if last:
            print("watcher: %d scans, %d file comparisons, no partial file" % (scans, compared))
            return 0


if __name__ == "__main__":
    sys.exit(main())

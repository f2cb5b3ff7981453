#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Scan DEST over and over until STOPFILE exists: every regular file at a final path
(anything outside DEST/.xferd) must be byte-identical to its counterpart under SRC.
Exit 1 on the first file that is not (a partial or unverified file at a final path),
0 when stopped; prints the number of scans and of files compared.

    watcher.py SRC DEST STOPFILE
"""
import os
import sys
import time


def same(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 16), fb.read(1 << 16)
            if x != y:
                return False
            if not x:
                return True


def main():
    src, dest, stop = sys.argv[1:4]
    scans = compared = 0
    while True:
        last = os.path.exists(stop)  # one more full scan after the stop request
        for root, dirs, files in os.walk(dest):
            if root == dest and ".xferd" in dirs:
                dirs.remove(".xferd")
            for f in files:
                p = os.path.join(root, f)
                rel = os.path.relpath(p, dest)
                try:
                    ok = same(p, os.path.join(src, rel))
                except FileNotFoundError as e:
                    if e.filename == p:
                        continue  # gone meanwhile (not expected, but not partial)
                    print("watcher: %s has no source counterpart" % rel, file=sys.stderr)
                    return 1
                compared += 1
                if not ok:
                    print("watcher: %s at its final path differs from the source "
                          "(partial or unverified file)" % rel, file=sys.stderr)
                    return 1
        scans += 1
        time.sleep(0.005)  # leave the two-core test machine to the appliances
        if last:
            print("watcher: %d scans, %d file comparisons, no partial file" % (scans, compared))
            return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate the `mixed` benchmark tree: a seeded tree with the shape of real ones.

    gen_mixed.py [--seed N] [--files N] OUTDIR

The shape (shared/BENCHMARKS.md, "Standard datasets"), every draw from one seeded PRNG:
- files per directory: log-normal, median 6, clamped to 1..200 (long-tailed: most
  directories hold a handful, a few hold hundreds);
- depth up to 8: each new directory draws its depth (most at 2 to 5, few at 8) and goes
  under a random directory one level up, so the tree is bushy in the middle and thin at
  the bottom, as real trees are;
- file sizes: log-normal, median 4 KiB, sigma 2 (so about 2% over 1 MiB), capped at
  64 MiB; 3% of files are empty;
- 2% of entries are symlinks (relative, to a file or directory of the tree, or dangling);
  5% of directories stay empty;
- names: mostly short ASCII with extensions; 5% long (100-250 bytes), 5% UTF-8 (accented
  Latin, Greek, CJK), never '/' or NUL, never over 255 bytes.

Contents are pseudo-random bytes from the same seed (incompressible, like the `large`
set); every entry gets the same fixed mtime so reruns are identical. Prints one line:
files, directories, symlinks, bytes.
"""
import argparse
import math
import os
import random

MTIME = 1704067200  # 2024-01-01 00:00:00 UTC, as the other sets
MAX_DEPTH = 8
# How deep a new directory goes (1..8): most at depth 2-5, few at the bottom, as in /usr.
DEPTH_WEIGHTS = [6, 16, 22, 20, 14, 10, 7, 5]
MAX_SIZE = 64 << 20
EXTS = [".c", ".h", ".txt", ".json", ".so", ".py", ".md", ".png", ".dat", ".log", ""]
UTF8_WORDS = ["résumé", "naïve", "Straße", "Ελληνικά", "данные", "日本語", "数据", "한국어",
              "façade", "Ærø"]


def lognormal_int(rng, median, sigma, lo, hi):
    return max(lo, min(hi, int(round(math.exp(rng.gauss(math.log(median), sigma))))))


def name(rng, used, kind):
    while True:
        r = rng.random()
        if r < 0.05:
            base = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789_-.")
                           for _ in range(rng.randint(100, 240)))
            base = base.lstrip(".") or "x"
        elif r < 0.10:
            base = rng.choice(UTF8_WORDS) + "_" + str(rng.randint(0, 9999))
        else:
            base = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz")
                           for _ in range(rng.randint(3, 12)))
        if kind == "file":
            base += rng.choice(EXTS)
        if len(base.encode()) <= 255 and base not in used:
            used.add(base)
            return base


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--files", type=int, default=10000, help="regular files to make")
    ap.add_argument("out")
    a = ap.parse_args()
    rng = random.Random(f"mixed/{a.seed}")
    os.makedirs(a.out)

    dirs = [(a.out, 0)]  # (path, depth)
    by_depth = {0: [(a.out, 0)]}
    names = {a.out: set()}
    files = []
    empty_dirs = 0
    while len(files) < a.files:
        want = rng.choices(range(1, MAX_DEPTH + 1), weights=DEPTH_WEIGHTS)[0]
        while not by_depth.get(want - 1):
            want -= 1
        parent, depth = rng.choice(by_depth[want - 1])
        path = os.path.join(parent, name(rng, names[parent], "dir"))
        os.mkdir(path)
        names[path] = set()
        dirs.append((path, depth + 1))
        by_depth.setdefault(depth + 1, []).append((path, depth + 1))
        if rng.random() < 0.05:
            empty_dirs += 1
            continue
        for _ in range(min(lognormal_int(rng, 6, 1.1, 1, 200), a.files - len(files))):
            files.append(os.path.join(path, name(rng, names[path], "file")))

    total = 0
    for p in files:
        size = 0 if rng.random() < 0.03 else lognormal_int(rng, 4096, 2.0, 1, MAX_SIZE)
        with open(p, "wb") as f:
            left = size
            while left:
                n = min(left, 1 << 20)
                f.write(rng.randbytes(n))
                left -= n
        total += size

    links = 0
    targets = files + [d for d, _ in dirs[1:]]
    for _ in range(int(0.02 * (len(files) + len(dirs)))):
        parent, _ = rng.choice(dirs)
        link = os.path.join(parent, name(rng, names[parent], "link"))
        if rng.random() < 0.1:
            target = "missing-" + str(rng.randint(0, 999))
        else:
            target = os.path.relpath(rng.choice(targets), parent)
        os.symlink(target, link)
        links += 1

    for root, ds, fs in os.walk(a.out):
        for e in ds + fs:
            os.utime(os.path.join(root, e), (MTIME, MTIME), follow_symlinks=False)
    os.utime(a.out, (MTIME, MTIME))
    print(f"{len(files)} files, {len(dirs) - 1} directories ({empty_dirs} empty), "
          f"{links} symlinks, {total} bytes")


if __name__ == "__main__":
    main()

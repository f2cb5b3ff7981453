#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate test trees for the end-to-end tests, deterministically from a seed.

  mktree.py many DIR --files N --dirs D --max-size BYTES [--seed S]
      N regular files of random size 0..BYTES spread over D nested directories (up to
      four levels), random modes among 0644/0600/0755/0444, mtimes in the past.
  mktree.py sizes DIR SIZE...
      one file per size (random bytes), named size-<SIZE>.
  mktree.py special DIR
      names with spaces, UTF-8 and leading dashes, symlinks to a file, to a directory and
      dangling (relative and absolute), empty directories, modes 0600/0755/0444/0700/0555,
      mtimes in the past on files, directories and the root.

Prints the number of regular files it made on stdout.
"""
import argparse
import os
import random
import sys

PAST = 1_000_000_000  # 2001-09-09, whole seconds
MODES = (0o644, 0o600, 0o755, 0o444)


def write(path, data, mode, mtime):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    os.utime(path, ns=(mtime, mtime))


def set_dir_times(root, rnd):
    """Directory mtimes last (children change them), deepest first; the root too."""
    for dirpath, _, _ in sorted(os.walk(root), key=lambda w: -w[0].count(os.sep)):
        t = (PAST + rnd.randrange(10**8)) * 10**9 + rnd.randrange(10**9)
        os.utime(dirpath, ns=(t, t), follow_symlinks=False)


def many(args):
    rnd = random.Random(args.seed)
    # Slices at random offsets of one random pool: distinct contents, generated fast.
    pool = rnd.randbytes((1 << 20) + args.max_size)
    dirs = [""]
    for i in range(args.dirs):
        parent = rnd.choice([d for d in dirs if d.count("/") < 4])
        d = os.path.join(parent, "d%03d" % i)
        os.makedirs(os.path.join(args.dir, d))
        dirs.append(d)
    for i in range(args.files):
        d = dirs[1 + i % args.dirs] if args.dirs else ""
        size = rnd.randint(0, args.max_size)
        off = rnd.randrange(1 << 20)
        t = (PAST + rnd.randrange(10**8)) * 10**9 + rnd.randrange(10**9)
        write(os.path.join(args.dir, d, "f%05d.bin" % i), pool[off:off + size],
              rnd.choice(MODES), t)
    set_dir_times(args.dir, rnd)
    return args.files


def sizes(args):
    rnd = random.Random(args.seed)
    for s in args.size:
        t = (PAST + rnd.randrange(10**8)) * 10**9
        write(os.path.join(args.dir, "size-%d" % s), rnd.randbytes(s), 0o644, t)
    set_dir_times(args.dir, rnd)
    return len(args.size)


def special(args):
    rnd = random.Random(args.seed)
    root = args.dir
    names = [
        "with space.txt",
        "  two leading spaces",
        "trailing space ",
        "-leading-dash",
        "--double-dash",
        "-",
        "ünïcödé-😀.dat",
        "日本語のファイル名",
        "tab\there",
        "new\nline",
        "quote'and\"dquote",
        "back\\slash",
        "*star?and[brackets]",
        ".hidden",
        "..dots..",
    ]
    dirs = ["dir with space", "-dashdir", "ünï/nested/déeper", "-dashdir/--sub"]
    for d in dirs:
        os.makedirs(os.path.join(root, d))
    count = 0
    for i, n in enumerate(names):
        d = dirs[i % len(dirs)] if i % 3 else ""
        t = (PAST + rnd.randrange(10**8)) * 10**9 + rnd.randrange(10**9)
        write(os.path.join(root, d, n), rnd.randbytes(rnd.randint(0, 5000)),
              MODES[i % len(MODES)], t)
        count += 1
    # Modes: each on a file, and on directories (a 0555 directory still receives files:
    # the receiver must set it after its children).
    for m in (0o600, 0o755, 0o444, 0o700, 0o640, 0o555, 0o711):
        write(os.path.join(root, "mode-%04o" % m), b"mode %o\n" % m, m,
              (PAST + m) * 10**9)
        count += 1
    os.makedirs(os.path.join(root, "ro-dir/inner"))
    write(os.path.join(root, "ro-dir/inner/file"), b"inside a read-only dir\n", 0o644,
          PAST * 10**9)
    count += 1
    os.chmod(os.path.join(root, "ro-dir/inner"), 0o555)
    os.makedirs(os.path.join(root, "private-dir"))
    write(os.path.join(root, "private-dir/secret"), b"x" * 100, 0o600, PAST * 10**9)
    count += 1
    os.chmod(os.path.join(root, "private-dir"), 0o700)
    # Empty directories, one nested, one with an odd name.
    os.makedirs(os.path.join(root, "empty"))
    os.makedirs(os.path.join(root, "empty-outer/empty-inner"))
    os.makedirs(os.path.join(root, "-empty dash"))
    # Empty file, a file with mtime 0 and one with an mtime before 1970.
    write(os.path.join(root, "empty-file"), b"", 0o644, PAST * 10**9)
    write(os.path.join(root, "epoch"), b"epoch\n", 0o644, 0)
    write(os.path.join(root, "before-1970"), b"1969\n", 0o644, -86400 * 10**9)
    count += 3
    # Symlinks: to a file, to a directory, dangling, absolute, to a name with spaces,
    # a chain, and one inside a subdirectory pointing up.
    links = {
        "link-to-file": "mode-0600",
        "link-to-dir": "dir with space",
        "link-dangling": "does/not/exist",
        "link-absolute": "/nonexistent/absolute/target",
        "link to spaced": "with space.txt",
        "link-chain": "link-to-file",
        "-dashdir/link-up": "../ünï/nested",
        "link-unicode-ünï": "ünï/nested/déeper",
    }
    for name, target in links.items():
        os.symlink(target, os.path.join(root, name))
        t = (PAST + rnd.randrange(10**6)) * 10**9
        os.utime(os.path.join(root, name), ns=(t, t), follow_symlinks=False)
    # Directory modes and times last, after their children exist.
    set_dir_times(root, rnd)
    os.chmod(os.path.join(root, "ro-dir"), 0o555)
    os.chmod(os.path.join(root, "dir with space"), 0o750)
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("many")
    m.add_argument("dir")
    m.add_argument("--files", type=int, required=True)
    m.add_argument("--dirs", type=int, default=0)
    m.add_argument("--max-size", type=int, default=8192)
    m.add_argument("--seed", type=int, default=1)
    s = sub.add_parser("sizes")
    s.add_argument("dir")
    s.add_argument("size", type=int, nargs="+")
    s.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("special")
    p.add_argument("dir")
    p.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    n = {"many": many, "sizes": sizes, "special": special}[args.cmd](args)
    print(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())

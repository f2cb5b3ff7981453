#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Signature cache entries made at commit, end to end (docs/DELTA.md, "Signature cache").
# A pushes a tree of NFILES files to B (every file new: written whole), B signs each file
# of 64 KiB or more as it writes it and the commit gives the entry its key. Then NCHANGED
# files change at the source (4 x 100 B and the mtime) and A pushes again: B takes the
# signatures of exactly the changed files from its cache (hits == NCHANGED, no basis
# read for them), and the tree lands identical to the source; and once more, with
# files the push before built by DELTA among the changed ones. On a kernel whose file
# times are coarse (no multigrain timestamps) B makes no entry at commit: no hits.
#
#   sigcache-commit-test.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-sigcache-commit "${1:?usage: sigcache-commit-test.sh XFERD XFERCTL}" "${2:?}"
: "${NFILES:=24}"
: "${NCHANGED:=7}"
T=$PAIR_DIR
pair_start

# NFILES - 2 files of 256 KiB to 2 MiB, and 2 small ones (not signed: below 64 KiB).
python3 - "$T/src" "$NFILES" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(2125)
os.makedirs(os.path.join(root, "d"))
for i in range(n - 2):
    with open(os.path.join(root, "d" if i % 2 else "", "f%03d.bin" % i), "wb") as f:
        f.write(rng.randbytes(rng.randrange(256 << 10, 2 << 20)))
for i in range(2):
    with open(os.path.join(root, "small%d" % i), "wb") as f:
        f.write(rng.randbytes(4000))
PY

sc() { pair_json "$1" "j[\"delta\"][\"sig_cache\"][\"$2\"]" stats; }

# Does a chmod right after a stat move the ctime on B's volume (multigrain timestamps)?
fine=$(python3 - "$PAIR_VOL_B" <<'PY'
import os, sys
p = os.path.join(sys.argv[1], ".ctime-test")
fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o600)
fine = 1
for i in range(8):
    a = os.fstat(fd).st_ctime_ns
    os.fchmod(fd, 0o600 if i & 1 else 0o640)
    if os.fstat(fd).st_ctime_ns <= a:
        fine = 0
os.close(fd)
os.unlink(p)
print(fine)
PY
)
big=$((NFILES - 2))

# 1. The first push: every file whole; the large ones get entries at their commit.
pair_push "$T/src" tree >"$T/push1.out" || pair_fail "the first push failed: $(cat "$T/push1.out")"
pair_expect_field files_failed 0
pair_verify "$T/src" "$PAIR_VOL_B/tree"
committed=$(sc b committed)
pair_log "first push: $committed entries made at commit (fine ctime: $fine)"
[ "$committed" -eq $((fine ? big : 0)) ] ||
	pair_fail "B made $committed entries at commit, expected $((fine ? big : 0))"

# NCHANGED large files change at the source (and a small one: not signed).
change() {
	python3 - "$T/src" "$NCHANGED" "$1" <<'PY'
import os, random, sys
root, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
names = sorted(os.path.relpath(os.path.join(d, f), root)
               for d, _, fs in os.walk(root) for f in fs if f.endswith(".bin"))
for name in rng.sample(names, n) + ["small0"]:
    p = os.path.join(root, name)
    size = os.path.getsize(p)
    with open(p, "r+b") as f:
        for _ in range(4):
            f.seek(rng.randrange(0, size - 100))
            f.write(rng.randbytes(100))
    st = os.stat(p)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 3_000_000_000))
PY
}

# 2. and 3. Changed and pushed again, twice: the second time the changed files include
# files that were built by DELTA in the push before (their entries were made at its
# commits, from their bytes and their COPY ops' basis records).
for round in 2 3; do
	change $((70 + round))
	hits0=$(sc b hits)
	pair_push "$T/src" tree >"$T/push$round.out" ||
		pair_fail "push $round failed: $(cat "$T/push$round.out")"
	pair_expect_field files_failed 0
	pair_verify "$T/src" "$PAIR_VOL_B/tree"
	hits=$(($(sc b hits) - hits0))
	pair_log "push $round: $hits hits for $NCHANGED changed large files, $(sc b stale) stale, $(sc b committed) entries made at commit in all"
	[ "$hits" -eq $((fine ? NCHANGED : 0)) ] ||
		pair_fail "B had $hits hits in push $round, expected $((fine ? NCHANGED : 0))"
	[ "$(sc b stale)" -eq 0 ] || pair_fail "B found stale entries: nothing changed under it"
done
pair_pass

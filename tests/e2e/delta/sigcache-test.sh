#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The receiver's signature cache end to end (docs/DELTA.md, "Signature cache"). B holds
# an old version of a tree of 1 MiB files; a paced DELTA push of the changed tree is
# stopped (B and A shut down cleanly) once B has signed some files and before it has
# committed them all (its first commit is held back), so B's cache file holds entries of bases that are still there.
# Then one of those bases is rewritten in place with its size kept and its mtime put
# back by `touch -d` (only the ctime tells), and B restarts: the next push takes the
# untouched bases' signatures from the cache (hits: exactly the signed, uncommitted,
# untouched files), finds the rewritten one stale by its ctime, and the tree lands
# identical to the source: a stale entry never produces a wrong file. Last, B's cache
# file is damaged: B starts, counts it corrupt, and a push still lands exactly.
#
#   sigcache-test.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-sigcache "${1:?usage: sigcache-test.sh XFERD XFERCTL}" "${2:?}"
: "${NFILES:=32}"
T=$PAIR_DIR
# First run: paced, and B's first commit held 3 s (an io_uring completion held back,
# volumes[].fault.rename_hold_ms), so that B signs files well before it commits any.
pair_start --set session.rate_mbit=1 --set session.timeout_ms=4000 \
	--set transfer.io=io_uring --set 'volumes[0].fault.rename_hold_ms=3000'

python3 - "$T/src" "$NFILES" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(2121)
os.makedirs(root)
for i in range(n):
    with open(os.path.join(root, "f%03d.bin" % i), "wb") as f:
        f.write(rng.randbytes(1 << 20))
PY
cp -a --reflink=never "$T/src" "$PAIR_VOL_B/tree"
sync -f "$PAIR_VOL_B/tree"
# The new version: 4 x 100 B and 256 KiB per file changed, mtimes moved on. The 256 KiB
# of literal data take 2 s per file at the first run's pace: most files are still on
# their way when it stops.
python3 - "$T/src" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(7)
for name in sorted(os.listdir(root)):
    p = os.path.join(root, name)
    with open(p, "r+b") as f:
        for _ in range(4):
            f.seek(rng.randrange(0, (1 << 20) - 100))
            f.write(rng.randbytes(100))
        f.seek(512 << 10)
        f.write(rng.randbytes(256 << 10))
    st = os.stat(p)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 7_000_000_000))
PY

sc() { pair_json "$1" "j[\"delta\"][\"sig_cache\"][\"$2\"]" stats; }

# 1. The paced push, stopped once B has stored 4 entries.
PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl a push "$T/src" b:tree --wait >"$T/push1.out" 2>&1 &
push_pid=$!
deadline=$((SECONDS + 60))
until [ "$(sc b stored)" -ge 4 ]; do
	[ "$SECONDS" -lt "$deadline" ] || pair_fail "B stored no 4 cache entries in 60 s"
	sleep 0.05
done
pair_log "B stored $(sc b stored) entries, committed $(python3 - "$PAIR_VOL_B/tree" "$T/src" <<'PY'
import os, sys
b, src = sys.argv[1:]
print(sum(os.stat(os.path.join(b, n)).st_mtime_ns == os.stat(os.path.join(src, n)).st_mtime_ns for n in os.listdir(src)))
PY
)"
pair_stop
wait "$push_pid" || true
[ -s "$PAIR_VOL_B/.xferd/sigcache.0" ] || pair_fail "B left no cache file in .xferd"

# Committed files (the source's mtime) are a prefix of the list; the first file after
# them was signed (4 entries or more, in list order) and is still the old version.
read -r committed victim < <(python3 - "$PAIR_VOL_B/tree" "$T/src" <<'PY'
import os, sys
b, src = sys.argv[1:]
names = sorted(os.listdir(src))
c = 0
while c < len(names) and os.stat(os.path.join(b, names[c])).st_mtime_ns == os.stat(os.path.join(src, names[c])).st_mtime_ns:
    c += 1
print(c, names[c] if c < len(names) else "-")
PY
)
pair_log "stopped with $committed of $NFILES files committed; rewriting $victim in place"
[ "$victim" != - ] || pair_fail "every file was committed before the stop: nothing left to find in the cache"
v=$PAIR_VOL_B/tree/$victim
mtime=$(stat -c %.9Y "$v")
size=$(stat -c %s "$v")
python3 - "$v" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
for off in range(0, 1 << 20, 65536):
    os.pwrite(fd, b"\x5a" * 100, off)
os.close(fd)
PY
touch -m -d "@$mtime" "$v"
[ "$(stat -c %.9Y "$v")" = "$mtime" ] && [ "$(stat -c %s "$v")" = "$size" ] ||
	pair_fail "touch -d did not put $victim's mtime back"
# The rewrite must be older than a clock tick when B looks (as any settled basis).
ctime=$(stat -c %.9Z "$v")
until python3 -c 'import sys, time; sys.exit(0 if time.time() > float(sys.argv[1]) + 0.02 else 1)' "$ctime"; do
	:
done

# 2. B restarts with its cache; the push completes. (The daemons' outputs start over:
# pair_start waits for their ready lines.)
: >"$T/a.out"
: >"$T/b.out"
pair_start
loaded=$(sc b loaded)
pair_push "$T/src" tree >"$T/push2.out" || pair_fail "the second push failed: $(cat "$T/push2.out")"
pair_expect_field files_failed 0
pair_verify "$T/src" "$PAIR_VOL_B/tree"
hits=$(sc b hits)
stale=$(sc b stale)
pair_log "cache: $loaded entries loaded, $hits hits, $stale stale"
[ "$stale" -eq 1 ] || pair_fail "B found $stale stale entries, expected 1 ($victim)"
# A file committed before the stop left its basis's entry (its old inode, never looked
# up again) and may have made one at its commit (its new inode, UPTODATE now).
[ "$hits" -le $((loaded - committed - 1)) ] && [ "$hits" -ge $((loaded - 2 * committed - 1)) ] ||
	pair_fail "B had $hits hits, expected $((loaded - 2 * committed - 1)) to $((loaded - committed - 1)) (loaded $loaded, committed $committed, 1 rewritten)"
[ "$hits" -ge 1 ] || pair_fail "no hit: the cache saved nothing a push could use"
[ "$(sc b corrupt)" -eq 0 ] || pair_fail "B counted its own cache file corrupt"

# 3. The cache file damaged: counted, ignored, and the push is exact.
pair_stop
python3 - "$PAIR_VOL_B/.xferd/sigcache.0" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    data = bytearray(f.read())
    data[len(data) // 2] ^= 0x01
    f.seek(0)
    f.write(data)
PY
python3 - "$T/src" <<'PY'
import os, sys
root = sys.argv[1]
for name in sorted(os.listdir(root))[:4]:
    p = os.path.join(root, name)
    with open(p, "r+b") as f:
        f.seek(12345)
        f.write(b"changed again")
    st = os.stat(p)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
PY
: >"$T/a.out"
: >"$T/b.out"
pair_start
[ "$(sc b corrupt)" -eq 1 ] || pair_fail "B did not count its damaged cache file"
[ "$(sc b loaded)" -eq 0 ] || pair_fail "B loaded entries from a damaged file"
pair_push "$T/src" tree >"$T/push3.out" || pair_fail "the push after the damage failed"
pair_expect_field files_failed 0
pair_verify "$T/src" "$PAIR_VOL_B/tree"
pair_pass

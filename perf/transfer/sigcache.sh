#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The receiver's signature cache on a re-push (docs/DELTA.md, "Signature cache"): N files
# of 4 MiB on a fresh XFS (reflink=1, loop device over /dev/shm), the old version at B,
# written back (clean bases are cloned), and the `delta` change of each file (4 x 100 B)
# pushed from A. Three ways, run by run alternately, K runs each, medians:
#   cache    B signed these very bases in a push that was stopped before it committed
#            any file (paced, its first commit held back), B restarted: the re-push
#            takes every basis's signatures from B's cache and does not read it;
#   nocache  volumes[].sig_cache_mb=0: the re-push reads and signs every basis;
#   rsync    rsync --no-whole-file of the same change onto a copy of the old version on
#            the same XFS (sender and receiver processes over a pipe), the baseline.
# Figures: the job's elapsed_ms (xferd) and wall time (rsync), B's CPU seconds during
# the re-push (utime + stime of the process), and B's cache hits.
#
#   perf/transfer/sigcache.sh [--build DIR] [-k K] [-n FILES]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build/release
runs=5
nfiles=64
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	-k) runs=$2; shift 2 ;;
	-n) nfiles=$2; shift 2 ;;
	*) echo "usage: $0 [--build DIR] [-k K] [-n FILES]" >&2; exit 2 ;;
	esac
done
export PAIR_FS=xfs PAIR_XFS_MB=$((nfiles * 4 * 4 + 256))
# shellcheck source=tests/e2e/lib/pair.sh
. "$repo/tests/e2e/lib/pair.sh"
pair_init perf-sigcache "$build/control/xferd/xferd" "$build/control/xferctl/xferctl"
T=$PAIR_DIR

python3 - "$T/orig" "$nfiles" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(4)
os.makedirs(root)
for i in range(n):
    with open(os.path.join(root, "f%03d.bin" % i), "wb") as f:
        f.write(rng.randbytes(4 << 20))
PY
# mk_src SEED BIG SHIFT: $T/src = orig with 4 x 100 B changed per file (and 1 MiB at
# 1 MiB with BIG=1: the stopped push's literal data), mtimes moved on by SHIFT s.
mk_src() {
	rm -rf "$T/src"
	cp -a --reflink=never "$T/orig" "$T/src"
	python3 - "$T/src" "$1" "$2" "$3" <<-'PY'
		import os, random, sys
		root, seed, big, shift = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
		rng = random.Random(seed)
		for name in sorted(os.listdir(root)):
		    p = os.path.join(root, name)
		    with open(p, "r+b") as f:
		        for _ in range(4):
		            f.seek(rng.randrange(0, (4 << 20) - 100))
		            f.write(rng.randbytes(100))
		        if big:
		            f.seek(1 << 20)
		            f.write(rng.randbytes(1 << 20))
		    st = os.stat(p)
		    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + shift * 1_000_000_000))
	PY
}
fresh_basis() {
	rm -rf "$PAIR_VOL_B/tree" "$T/rs"
	cp -a --reflink=never "$T/orig" "$PAIR_VOL_B/tree"
	cp -a --reflink=never "$T/orig" "$T/rs"
	sync -f "$T/orig"
}
restart() {
	[ -z "$PAIR_PID_A$PAIR_PID_B" ] || pair_stop
	: >"$T/a.out"
	: >"$T/b.out"
	pair_start "$@"
}
# B's xferd (PAIR_PID_B is the `timeout` wrapped around it): utime + stime, in ticks.
cpu_b() {
	local child
	child=$(cut -d' ' -f1 "/proc/$PAIR_PID_B/task/$PAIR_PID_B/children")
	awk '{print $14 + $15}' "/proc/$child/stat"
}
sc() { pair_json b "j[\"delta\"][\"sig_cache\"][\"$1\"]" stats; }

# repush MODE: the timed re-push; appends "MODE job_ms cpu_s hits" to $T/res.
repush() {
	local mode=$1 c0 c1 job hits
	mk_src delta 0 14
	c0=$(cpu_b)
	pair_push "$T/src" tree >/dev/null || pair_fail "$mode: push failed"
	c1=$(cpu_b)
	pair_expect_field files_failed 0
	job=$(pair_job_field elapsed_ms)
	hits=$(sc hits)
	echo "$mode $job $(python3 -c "import os, sys; print((int(sys.argv[2]) - int(sys.argv[1])) / os.sysconf('SC_CLK_TCK'))" "$c0" "$c1") $hits" >>"$T/res"
	pair_verify "$T/src" "$PAIR_VOL_B/tree"
}

: >"$T/res"
for r in $(seq 1 "$runs"); do
	# cache: the stopped push signs every basis and commits nothing.
	fresh_basis
	mk_src big 1 7
	restart --set session.rate_mbit=1 --set session.timeout_ms=4000 \
		--set transfer.io=io_uring --set 'volumes[0].fault.rename_hold_ms=3000'
	PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl a push "$T/src" b:tree --wait >/dev/null 2>&1 &
	pp=$!
	deadline=$((SECONDS + 120))
	until [ "$(sc stored)" -ge "$nfiles" ]; do
		[ "$SECONDS" -lt "$deadline" ] || pair_fail "B stored no $nfiles entries"
		sleep 0.1
	done
	pair_stop
	wait "$pp" || true
	restart
	repush cache
	# nocache: the same bases, no cache.
	fresh_basis
	restart --set 'volumes[0].sig_cache_mb=0'
	repush nocache
	# rsync on the same file system, the same change.
	mk_src delta 0 14
	t0=$EPOCHREALTIME
	rsync -a --no-whole-file "$T/src/" "$T/rs/"
	echo "rsync $(python3 -c "import sys; print(round((float(sys.argv[2]) - float(sys.argv[1])) * 1000))" "$t0" "$EPOCHREALTIME") 0 0" >>"$T/res"
	pair_log "run $r: $(tail -n 3 "$T/res" | tr '\n' ' ')"
done
echo "perf-sigcache: $nfiles files of 4 MiB (4 x 100 B changed each) on XFS, $runs runs," \
	"build $(basename "$build"), load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$T/res" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for m in ("cache", "nocache", "rsync"):
    r = [x for x in rows if x[0] == m]
    med[m] = [statistics.median(float(x[i]) for x in r) for i in (1, 2, 3)]
    print("%-8s job/wall %8.0f ms  B cpu %6.2f s  hits %5.0f   (runs: %s)" % (
        m, med[m][0], med[m][1], med[m][2], " ".join(x[1] for x in r)))
print("cache/nocache time %.2f, B cpu %.2f; rsync/cache time %.2f, rsync/nocache %.2f" % (
    med["cache"][0] / med["nocache"][0], med["cache"][1] / max(med["nocache"][1], 1e-9),
    med["rsync"][0] / med["cache"][0], med["rsync"][0] / med["nocache"][0]))
PY
pair_pass

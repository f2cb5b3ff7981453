#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Trees of many files over the emulated WAN: the dev pair over both ports' fault stages
# (docs/RELIABILITY.md, "The port's fault stage"), RATE Mbit/s, DELAY ms each way, no
# loss, BBR, pushes each tree RUNS times into fresh destinations and prints per push the
# job's time, its goodput as a share of the bottleneck, files per second, the files sent
# as one DATA frame with their end (docs/PROTOCOL.md 6.9) and the retransmissions; then
# the medians, and where each side's stage dropped frames. The bottleneck is the
# baseline: no other tool crosses this link. Every push must arrive identical (the last
# push of each tree is compared with diff -r).
#
#   perf/wan/tree.sh [--build DIR] [--runs N] [--data DIR] [--sets "small usr-include"]
#                    [--rate-mbit R] [--delay-ms D] [--set K=V]...
#
#   --build DIR      build with control/xferd/xferd and control/xferctl/xferctl
#                    (default <repo>/build/release)
#   --runs N         pushes of each tree (default 3)
#   --data DIR       where perf/datasets.sh keeps its sets (made there if missing; default
#                    a temp dir in /dev/shm, removed at exit)
#   --sets LIST      datasets to push (default "small usr-include": 20,000 files of 4 KiB;
#                    the copy of /usr/include)
#   --rate-mbit R    the bottleneck (default 1000)
#   --delay-ms D     one-way delay (default 20: 40 ms RTT)
#   --set K=V        a config setting for both appliances (repeatable), e.g.
#                    session.window_files=4096
#
# No root. Each tree is copied once under the pair's push root; about 1-15 s a push.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build="$repo/build/release"
runs=3
data=
sets="small usr-include"
rate=1000
delay=20
extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--sets) sets=$2; shift 2 ;;
	--rate-mbit) rate=$2; shift 2 ;;
	--delay-ms) delay=$2; shift 2 ;;
	--set) extra+=(--set "$2"); shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--runs N] [--data DIR] [--sets LIST] [--rate-mbit R] [--delay-ms D] [--set K=V]" >&2; exit 2 ;;
	esac
done
xferd=$build/control/xferd/xferd
xferctl=$build/control/xferctl/xferctl
[ -x "$xferd" ] && [ -x "$xferctl" ] || { echo "tree.sh: no xferd or xferctl in $build" >&2; exit 2; }

export TMPDIR=${TMPDIR:-/dev/shm}
# shellcheck source=tests/e2e/lib/pair.sh
. "$repo/tests/e2e/lib/pair.sh"
pair_init wan-tree "$xferd" "$xferctl"
PAIR_PUSH_TIMEOUT=600
if [ -z "$data" ]; then
	data=$PAIR_DIR/data
fi
want=
for s in $sets; do
	case $s in
	small | mixed | large) want="$want $s" ;;
	usr-include | usr-lib) want="$want usr" ;;
	*) pair_fail "unknown set $s (small, mixed, large, usr-include, usr-lib)" ;;
	esac
done
need=
for s in $sets; do
	[ -d "$data/$s" ] || need=1
done
[ -z "$need" ] || "$repo/perf/datasets.sh" "$data" $want >/dev/null
mkdir -p "$PAIR_DIR/src"
for s in $sets; do
	cp -a "$data/$s" "$PAIR_DIR/src/$s"
done

echo "wan tree: $rate Mbit/s, $((2 * delay)) ms RTT, no loss, bbr; $runs runs a tree;${extra[*]:+ ${extra[*]};}" \
	"$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'); load $(cut -d' ' -f1-3 /proc/loadavg)"
pair_start --set "ports[0].fault.rate_mbit=$rate" --set "ports[0].fault.delay_ms=$delay" \
	--set "ports[0].fault.loss_ppm=0" --set "ports[0].fault.seed=20" \
	--set "session.congestion=bbr" --set "session.rate_mbit=0" \
	--set "session.window_max_frames=4096" "${extra[@]}"
out=$PAIR_DIR/runs.txt
: >"$out"
for s in $sets; do
	for i in $(seq "$runs"); do
		pair_push "$PAIR_DIR/src/$s" "$s-$i" >/dev/null 2>&1 || pair_fail "push of $s: exit $?"
		pair_expect_field state done
		pair_expect_field files_failed 0
		python3 - "$PAIR_DIR/job.json" "$s" "$i" "$rate" >>"$out" <<-'PY'
			import json, sys
			j = json.load(open(sys.argv[1]))
			ms = max(j["elapsed_ms"], 1)
			rate = float(sys.argv[4]) * 1e6 / 8
			print(sys.argv[2], sys.argv[3], ms, j["files_total"], j["bytes_total"],
			      100.0 * j["bytes_total"] / (ms / 1000.0) / rate,
			      j["files_total"] / (ms / 1000.0), j.get("files_data_end", 0), j["retransmits"])
		PY
		tail -1 "$out" | awk '{ printf "%s run %s: %.2f s, goodput %.1f%% of the bottleneck, %.0f files/s, %s files in one frame, %s retransmits\n", $1, $2, $3 / 1000, $6, $7, $8, $9 }'
	done
	diff -r --no-dereference "$PAIR_DIR/src/$s" "$PAIR_VOL_B/$s-$runs" >/dev/null || pair_fail "$s: the last push's copy differs"
done
# Where the retransmitted frames were lost: the emulated link's queue (the bottleneck's
# drop-tail: congestion) or nowhere on it (the receiver's ring).
for side in a b; do
	echo "$side's stage, every push: $(pair_json "$side" '"%d frames, %d dropped at the queue, %d at random" % (j["fault"]["frames"], j["fault"]["drop_queue_full"], j["fault"]["drop_random"])' stats)," \
		"port rx_missed $(pair_json "$side" 'sum(p["rx_missed"] for p in j["ports"])' stats)"
done
python3 - "$out" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for s in dict.fromkeys(r[0] for r in rows):
    r = [x for x in rows if x[0] == s]
    t = [float(x[2]) / 1000 for x in r]
    g = [float(x[5]) for x in r]
    f = [float(x[6]) for x in r]
    print("%s: %s files, %s bytes: median %.2f s (%.2f-%.2f), goodput %.1f%% of the bottleneck, %.0f files/s"
          % (s, r[0][3], r[0][4], statistics.median(t), min(t), max(t), statistics.median(g),
             statistics.median(f)))
PY
pair_pass

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Per-core scaling (issue 22, "Benchmark"): the dev pair of xferd (config/dev, net_memif)
# with 1, 2, 4 and 8 RX cores on each side and as many workers (each RX lcore is also a
# worker, combined mode; one memif queue pair per RX core), pushing `large` and `mixed`
# (perf/datasets.sh) with `xferctl push --lanes N`, so that lane k runs on RX core k on
# both sides (docs/ENGINE.md, "Lanes"). Prints MB/s per point (median of -k runs), its
# ratio to the one-core point of the same run (the baseline), the target check (at N
# cores at least 0.8 x N times the one-core throughput), memcpy per core as the ceiling
# (xf-bench-csum, same run), and a gnuplot PNG of throughput against cores.
#
#   perf/scale/run.sh [--dry-plan] [--cpus N|LIST] [--cores "1 2 4 8"] [--sets "large mixed"]
#                     [-k K] [--quick] [--build DIR] [--data DIR] [--workdir DIR] [--out DIR]
#                     [--oversubscribed] [--keep]
#
#   --dry-plan      print the plan for --cpus (default: this host's CPUs) and exit 0:
#                   nothing is built, started or measured
#   --cpus N|LIST   the CPUs to plan for: a count (CPUs 0..N-1) or a list ('0-5,8'); for a
#                   run, a subset of the CPUs this process may use (default: all of them)
#   --cores LIST    RX cores per appliance to try, each 1..8 (default "1 2 4 8")
#   --sets LIST     data sets (default "large mixed")
#   -k K            runs per point and set (default 5; fewer than 5 prints no figure)
#   --quick         CI-sized data sets (datasets.sh --quick), 1 run unless -k says
#   --build DIR     release build (default <repo>/build/release; set up if absent)
#   --data DIR      where data sets live (made if missing; default inside the work dir)
#   --workdir DIR   parent of the temp dir (default /dev/shm)
#   --out DIR       where results.tsv and scale.png go (default perf/out/scale-<date>)
#   --oversubscribed  also push once at each point that does not fit, with every lcore
#                   floating over the CPUs there are, and check the tree arrived
#                   identical: a correctness pass, printed without any time or rate
#   --keep          keep the temp dir
#
# A point of N RX cores needs 2 x (N + 1) CPUs: each xferd has its main lcore and N RX
# lcores, each pinned to a CPU of its own (lcore id = CPU id), and the two never share a
# CPU; RX and worker cores poll (cores.idle=poll), as on the appliance. A point that does
# not fit is skipped and named; no figure is ever taken on shared CPUs, because there
# the throughput measures the scheduler, not the cores. With no point that fits, the
# run exits 77 after printing the plan (unless --oversubscribed).
#
# Times: the job's elapsed_ms (daemon side, first frame to last commit), as in
# perf/transfer/run.sh; MB = 10^6 bytes of file data; every push goes to a new
# destination (whole files), which is removed after it; the first push of each point
# and set is checked identical with rsync -a -n -i --checksum. Sessions are encrypted
# (session.security aead, as deployed).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=${XF_REPO:-$(cd "$here/../.." && pwd)}

dry=0
cpus_arg=
cores="1 2 4 8"
sets="large mixed"
runs=
quick=0
build=$repo/build/release
data=
workdir=
out=
over=0
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--dry-plan) dry=1; shift ;;
	--cpus) cpus_arg=$2; shift 2 ;;
	--cores) cores=$2; shift 2 ;;
	--sets) sets=$2; shift 2 ;;
	-k) runs=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	--build) build=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--workdir) workdir=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--oversubscribed) over=1; shift ;;
	--keep) keep=1; shift ;;
	-h | --help) sed -n '3,44p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "scale/run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -n "$runs" ] || { [ "$quick" = 1 ] && runs=1; } || runs=5
case "$runs" in '' | *[!0-9]* | 0) echo "scale/run.sh: -k needs a positive count" >&2; exit 2 ;; esac
for s in $sets; do
	case "$s" in large | mixed | small) ;; *) echo "scale/run.sh: unknown set $s" >&2; exit 2 ;; esac
done

log() { echo "scale/run.sh: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }
skip() { log "SKIP: $*"; exit 77; }

# ---- the CPUs: those this process may run on (cgroup cpusets and taskset included)
mine=$(python3 -c 'import os; print(",".join(str(c) for c in sorted(os.sched_getaffinity(0))))')
[ -n "$cpus_arg" ] || cpus_arg=$mine
# --cpus as a list; a run may plan on fewer CPUs than it has, never on more.
cpus=$(python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import scale
want = scale.parse_cpu_arg(sys.argv[2])
extra = [c for c in want if c not in set(scale.parse_cpus(sys.argv[3]))]
if extra and sys.argv[4] == "0":
    sys.exit("--cpus names CPUs this process cannot use: %s" % extra)
print(",".join(map(str, want)))
' "$here" "$cpus_arg" "$mine" "$dry") || die "bad --cpus"
plan=$(python3 "$here/scale.py" plan --cpus "$cpus" --cores "$cores") || exit 2
echo "# perf/scale/run.sh: per-core scaling of the dev pair over net_memif"
echo "# ${plan//$'\n'/$'\n'# }"
if [ "$dry" = 1 ]; then
	exit 0
fi
fit=$(echo "$plan" | awk '$1 == "point" && $3 == "measure" {print $2}')
unfit=$(echo "$plan" | awk '$1 == "point" && $3 == "skip" {print $2}')
if [ -z "$fit" ] && [ "$over" = 0 ]; then
	skip "no point fits these $(echo "$cpus" | tr ',' '\n' | wc -l) CPUs: no scaling figure (--dry-plan shows the plan, --oversubscribed runs a correctness pass)"
fi

command -v rsync >/dev/null || skip "needs rsync (verification)"
command -v openssl >/dev/null || skip "needs openssl (datasets)"
[ "$(id -u)" -eq 0 ] || skip "needs root (DPDK EAL runtime dirs)"

# ---- build
if [ ! -f "$build/build.ninja" ]; then
	log "setting up $build (release)"
	meson setup "$build" "$repo" --buildtype=release >/dev/null
fi
ninja -C "$build" -j2 control/xferd/xferd control/xferctl/xferctl perf/csum/xf-bench-csum >/dev/null
XFERD=$build/control/xferd/xferd
XFERCTL=$build/control/xferctl/xferctl
buildtype=$(meson introspect --buildoptions "$build" 2>/dev/null |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))' ||
	echo unknown)

[ -n "$out" ] || out=$repo/perf/out/scale-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
[ -n "$workdir" ] || workdir=/dev/shm
T=$(mktemp -d "$workdir/xf-perf-scale.XXXXXX")
pids=()
npair=0
# Stops the running pair, B (the memif client, started last) first: docs/OPERATIONS.md,
# "Stopping".
stop_pair() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
	pids=()
	npair=$((npair + 1))
}
# shellcheck disable=SC2317 # cleanup: called by the EXIT trap
cleanup() {
	stop_pair
	if [ "$keep" = 1 ]; then log "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ -n "$data" ] || data=$T/data

# ---- what ran, so that a figure can be reproduced
echo "# commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown), build $buildtype ($build)"
echo "# cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), usable CPUs $mine, planned on $cpus"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# sets: $sets$([ "$quick" = 1 ] && echo ' (--quick sizes)'); runs per point: $runs; session.security aead"

# ---- data sets
gen=
qflag=
[ "$quick" = 0 ] || qflag=--quick
for s in $sets; do [ -d "$data/$s" ] || gen="$gen $s"; done
if [ -n "$gen" ]; then
	log "generating$gen into $data"
	# shellcheck disable=SC2086 # gen: a list of names
	"$repo/perf/datasets.sh" ${qflag:+"$qflag"} "$data" $gen >&2
fi
ds_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}'; }

# ---- the ceiling: memcpy on one core, measured now (xf-bench-csum, 256 MiB buffers), when
# a point is measured
ceil=0
if [ -n "$fit" ] && "$build/perf/csum/xf-bench-csum" --runs 5 --csv "$T/csum.csv" >"$T/csum.txt" 2>&1; then
	ceil=$(awk -F, '$2 == "buffer" && $3 == "memcpy" {print $9; exit}' "$T/csum.csv")
fi
[ -n "$ceil" ] || ceil=0
[ -z "$fit" ] ||
	echo "# ceiling: memcpy on one core, 256 MiB buffers, median of 5: ${ceil} GB/s (xf-bench-csum)"

# ---- the pair
pub_a=$("$XFERD" keygen "$T/a.key") || die "xferd keygen failed"
pub_b=$("$XFERD" keygen "$T/b.key") || die "xferd keygen failed"
tag=xfsc$$
# start_side SIDE ROLE MAIN RX_LIST CPUS_LIST IDLE: one xferd of the dev pair
start_side() {
	local s=$1 role=$2 main=$3 rx=$4 cpuset=$5 idle=$6 fd line peer_pub=$pub_a
	[ "$s" = a ] && peer_pub=$pub_b
	mkdir -p "$T/$s"
	rm -f "$T/$s.ready"
	mkfifo "$T/$s.ready"
	"$XFERD" -c "$repo/config/dev/$s.yaml" \
		--set "session.private_key_file=$T/$s.key" --set "peers[0].public_key=$peer_pub" \
		--set "eal.file_prefix=$tag-$s-$npair" --set "control.socket=$T/$s.sock" \
		--set "ports[0].device=net_memif0,role=$role,socket=$T/memif-$npair.sock,bsize=9216" \
		--set "volumes[0].path=$T/$s" --set "control.push_roots=[\"$data\"]" \
		--set "cores.main=$main" --set "cores.rx=[$rx]" --set "cores.workers=[$rx]" \
		--set "cores.cpus=[$cpuset]" --set "cores.idle=$idle" \
		>"$T/$s.ready" 2>"$T/$s-$npair.log" &
	pids+=($!)
	exec {fd}<"$T/$s.ready"
	IFS= read -r -t 60 -u "$fd" line || die "xferd $s did not start; log: $(tail -5 "$T/$s-$npair.log")"
	exec {fd}<&-
	[ "$line" = "xferd: ready" ] || die "xferd $s said '$line'"
}
link_up() { "$XFERCTL" -s "$T/$1.sock" --json status | grep -q '"link_up": true'; }
start_pair() { # A_MAIN A_RX B_MAIN B_RX CPUS IDLE
	start_side a server "$1" "$2" "$5" "$6"
	start_side b client "$3" "$4" "$5" "$6"
	local i
	for i in $(seq 200); do
		link_up a && link_up b && return 0
		sleep 0.1
	done
	die "memif link of the pair did not come up"
}
verify() { # SRC DST
	local o
	o=$(rsync -a -n -i --checksum -- "$1/" "$2/" 2>&1) || die "verify: rsync failed: $o"
	[ -z "$o" ] || die "verify: $2 differs from $1: $(echo "$o" | head -5)"
}
# push_once SET LANES DEST -> P_MS (job elapsed_ms)
push_once() {
	local s=$1 n=$2 d=$3 rc=0
	"$XFERCTL" -s "$T/a.sock" push "$data/$s" "b:$d" --lanes "$n" --wait >"$T/push.out" 2>&1 || rc=$?
	if [ "$rc" != 0 ]; then
		"$XFERCTL" -s "$T/a.sock" --json jobs >"$T/jobs.json" 2>&1 || true
		log "what differs: $(rsync -a -n -i --checksum -- "$data/$s/" "$T/b/$d/" 2>&1 | head -5)"
		die "push of $s over $n lanes exited $rc: $(cat "$T/push.out")"
	fi
	"$XFERCTL" -s "$T/a.sock" --json jobs >"$T/jobs.json"
	read -r P_MS P_STATE P_LANES < <(python3 -c '
import json, sys
j = max(json.load(open(sys.argv[1]))["jobs"], key=lambda j: j["id"])
print(j["elapsed_ms"], j["state"], j.get("lanes", 1))
' "$T/jobs.json")
	[ "$P_STATE" = "done" ] || die "job of $s ended $P_STATE"
	[ "$P_LANES" = "$n" ] || die "job of $s ran $P_LANES lanes, not $n"
}
list() { seq -s, "$1" "$2"; }

: >"$out/results.tsv"
for n in $fit; do
	# "point N measure need X a main M rx LIST b main M rx LIST"
	read -r am arx bm brx < <(echo "$plan" | awk -v n="$n" '$1 == "point" && $2 == n {print $8, $10, $13, $15}')
	log "point $n: A main $am rx $arx, B main $bm rx $brx (pinned, polling)"
	start_pair "$am" "$arx" "$bm" "$brx" "" poll
	for i in $(seq "$runs"); do
		for s in $sets; do
			push_once "$s" "$n" "s$n-$s-$i"
			[ "$i" != 1 ] || verify "$data/$s" "$T/b/s$n-$s-$i"
			echo "$s $n $i $P_MS $(ds_bytes "$data/$s")" >>"$out/results.tsv"
			rm -rf "${T:?}/b/s$n-$s-$i"
		done
	done
	stop_pair
done

if [ "$over" = 1 ] && [ -n "$unfit" ]; then
	# Correctness only: 2 x (N + 1) lcores float over the CPUs there are. No time is kept.
	for n in $unfit; do
		start_pair 0 "$(list 1 "$n")" 0 "$(list 1 "$n")" "$cpus" backoff
		for s in $sets; do
			push_once "$s" "$n" "o$n-$s"
			verify "$data/$s" "$T/b/o$n-$s"
			rm -rf "${T:?}/b/o$n-$s"
			echo "# oversubscribed correctness pass, $n RX cores = workers per side ($((2 * (n + 1))) lcores over $(echo "$cpus" | tr ',' '\n' | wc -l) CPUs): $s over $n lanes arrived identical; not a figure"
		done
		stop_pair
	done
fi

echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -z "$unfit" ] || echo "# skipped: $(echo "$unfit" | tr ' ' ',') RX cores (do not fit: no figure)"
status=0
python3 "$here/scale.py" report --tsv "$out/results.tsv" --ceiling-gbps "$ceil" \
	--plot "$out/scale.png" || status=$?
[ "$status" = 0 ] || [ "$status" = 3 ] || die "report failed"
[ "$status" = 0 ] || log "a measured point missed the target (0.8 x N times one core)"
exit "$status"

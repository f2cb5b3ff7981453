#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Transfer benchmark: the standard datasets (perf/datasets.sh) pushed between the dev
# pair of xferd processes (config/dev, net_memif), and the same data through an rsync
# daemon on loopback in the same run, interleaved run by run so both see the same noise.
#
#   perf/transfer/run.sh [--quick] [-k K] [--csv FILE] [--sets "large small delta mixed usr"]
#                        [--build DIR] [--data DIR] [--workdir DIR] [--profile DIR [--polls]]
#                        [--fs tmpfs|xfs|ext4] [--floor] [--keep] [--settle] [--old-atimes]
#
#   --quick        1 run (unless -k says), CI-sized datasets (datasets.sh --quick)
#   -k K           runs per case, medians reported (default 3)
#   --csv FILE     also write the summary table as CSV (columns: see perf/transfer/README.md)
#   --sets LIST    which cases (default "large small delta mixed usr"); delta is pushed on
#                  top of large in the same destination, so it implies a large push first;
#                  usr is two cases, usr-include and usr-lib (copies of this machine's
#                  /usr/include and /usr/lib/x86_64-linux-gnu; usr-include only with --quick)
#                  compressible (not in the default) is two cases on the usr-include copy:
#                  compressible (xferd and rsync as for usr-include) and compressible-z
#                  (xferctl push --compress, rsync -z), run one after the other
#                  mirror (not in the default) re-pushes onto small's destination with
#                  --delete (rsync --delete), after 10% of the files were removed and as
#                  many added (datasets.sh mirror); it implies a small push first
#   --build DIR    release build dir (default <repo>/build/release; set up if absent)
#   --data DIR     where datasets live (made if missing; default inside the work dir)
#   --workdir DIR  parent of the run's temp dir (default /dev/shm if it has room, else /tmp;
#                  with --fs xfs, /tmp: only the mount point is made there; with --fs
#                  ext4, /var/tmp)
#   --fs FS        the work dir's file system (datasets unless --data, both volumes,
#                  rsync's and the floor's destinations): tmpfs (default; /tmp when
#                  /dev/shm lacks room, the header says) or xfs: a fresh XFS (reflink=1) on
#                  a loop device over a sparse image in /dev/shm (tests/e2e/lib/xfs.sh),
#                  unmounted and detached at exit, or ext4: the work dir on the machine's
#                  own disk, which must be ext4 (checked), writeback and all
#   --profile DIR  record both xferd processes with `perf record -g` (at XF_PERF_FREQ
#                  samples a second, default 499) during the first
#                  xferd push of each case (perf-<case>-a.data, -b.data, stats JSON)
#                  (+ stat-<case>-a.csv: per-thread task-clock, context switches, sleeps)
#                  (XF_STAT_EVENTS=E1,E2: more events for that perf stat, e.g.
#                  syscalls:sys_enter_openat2 to count one call per thread)
#   --polls        with --profile: instead of sampling, count port_poll calls and
#                  non-empty polls with uprobes (pstat-<case>-a.csv; slows the run), and
#                  frames offered to / taken by xf_port_tx_burst (txprobe-<case>-a.data)
#   --xferd-set K=V  extra --set for both xferd (repeatable), e.g. cores.idle=poll,
#                  session.rate_mbit=4000: for experiments; printed in the header
#   --devargs S    appended to both memif device strings, e.g. rsize=12 (ring 4096)
#   --memif-copy   the memif clients (B, D) without zero-copy=yes:
#                  the PMD copies every frame on both sides (for A/B comparisons)
#   --floor        also run perf/floor/xf-bench-floor after each rsync push (same case,
#                  same destination history, in $T/f): the least CPU any atomic,
#                  verifying receiver and sender need here; adds a second table and
#                  floor_* CSV columns
#   --keep         keep the temp dir (logs, volumes; not with --fs xfs, whose mount goes)
#   --no-plain     push only through the encrypted pair (session.security aead, as
#                  deployed); by default a second pair in session.security none (c and d)
#                  takes the same push after it, run by run, and the table adds its
#                  columns: p job s, p cpu s, ratio_p, cpu_rat_p and aead/plain cpu
#   --old-atimes   before each push (xferd's, the plaintext pair's, rsync's, the floor's),
#                  untimed: every source entry's access time set two days back, so that
#                  relatime updates it on the next read, as for a tree pushed once a day
#                  (else only the first read of a run pays for that)
#   --settle       before each delta run, write every destination back (sync -f, not
#                  timed): bases pushed long before, as on an appliance; without it they
#                  were written seconds before and are still dirty, and xferd does not
#                  clone a dirty basis (docs/DELTA.md, "Apply by clone")
#
# Times: xferd "job" = the job's elapsed_ms (daemon side, first frame to last commit);
# xferd "wall" = xferctl push --wait start to exit (includes its 20 ms polling); rsync
# = wall clock of the rsync client. MB = 10^6 bytes of file data. ratio = xferd MB/s
# (job) / rsync MB/s; ratio_wall uses the xferd wall clock. Wire bytes: xferd
# wire_bytes_sent + wire_bytes_received of the job; rsync total bytes sent + received.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=${XF_REPO:-$(cd "$here/../.." && pwd)} # XF_REPO: when run from a copy

quick=0
runs=
csv=
sets="large small delta mixed usr"
build=$repo/build/release
data=
workdir=
profile=
polls=0
xsets=()
devargs=
floor=0
keep=0
settle=0
old_atimes=0
plain=1
fs=tmpfs
zc=1
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; shift ;;
	-k) runs=$2; shift 2 ;;
	--csv) csv=$2; shift 2 ;;
	--sets) sets=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--workdir) workdir=$2; shift 2 ;;
	--profile) profile=$2; shift 2 ;;
	--polls) polls=1; shift ;;
	--xferd-set) xsets+=(--set "$2"); shift 2 ;;
	--devargs) devargs=",$2"; shift 2 ;;
	--fs) fs=$2; shift 2 ;;
	--floor) floor=1; shift ;;
	--keep) keep=1; shift ;;
	--settle) settle=1; shift ;;
	--old-atimes) old_atimes=1; shift ;;
	--no-plain) plain=0; shift ;;
	--memif-copy) zc=0; shift ;;
	-h | --help) sed -n '3,70p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -n "$runs" ] || { [ "$quick" = 1 ] && runs=1; } || runs=3
case "$runs" in '' | *[!0-9]* | 0) echo "run.sh: -k needs a positive count" >&2; exit 2 ;; esac
case "$fs" in tmpfs | xfs | ext4) ;; *) echo "run.sh: --fs is tmpfs, xfs or ext4, not '$fs'" >&2; exit 2 ;; esac

log() { echo "run.sh: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }
skip() { log "SKIP: $*"; exit 77; }
command -v rsync >/dev/null || skip "needs rsync"
command -v python3 >/dev/null || skip "needs python3"
command -v openssl >/dev/null || skip "needs openssl (datasets)"
[ "$(id -u)" -eq 0 ] || skip "needs root (DPDK EAL runtime dirs, rsync daemon uid)"

# ---- build (only the two programs: a release build of the tests is not needed here)
if [ ! -f "$build/build.ninja" ]; then
	log "setting up $build (release)"
	meson setup "$build" --buildtype=release >/dev/null
fi
targets=(control/xferd/xferd control/xferctl/xferctl)
[ "$floor" = 1 ] && targets+=(perf/floor/xf-bench-floor)
ninja -C "$build" -j2 "${targets[@]}" >/dev/null
XFERD=$build/control/xferd/xferd
XFERCTL=$build/control/xferctl/xferctl
FLOOR=$build/perf/floor/xf-bench-floor
buildtype=$(meson introspect --buildoptions "$build" 2>/dev/null |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))' ||
	echo unknown)

# ---- work dir: tmpfs if it has room for sources + two destinations, or a fresh XFS
if [ "$quick" = 1 ]; then need_mb=600; else need_mb=5500; fi
[ "$floor" = 1 ] && need_mb=$((need_mb + need_mb / 5)) # a third destination (and its arena)
[ "$plain" = 1 ] && need_mb=$((need_mb + need_mb / 5))   # the plaintext pair's destination
avail=$(df -Pm /dev/shm 2>/dev/null | awk 'NR==2 {print $4}')
if [ "$fs" = xfs ]; then
	# The image's memory comes from /dev/shm: no fallback to a disk, which would measure it.
	[ "${avail:-0}" -gt "$need_mb" ] || die "--fs xfs: /dev/shm has ${avail:-0} MB free, needs $need_mb"
	# shellcheck source=tests/e2e/lib/xfs.sh
	. "$repo/tests/e2e/lib/xfs.sh"
	[ -n "$workdir" ] || workdir=/tmp
elif [ "$fs" = ext4 ]; then
	# The machine's own disk, as an appliance without NVMe would write it.
	[ -n "$workdir" ] || workdir=/var/tmp
	[ "$(df -PT "$workdir" | awk 'NR==2 {print $2}')" = ext4 ] || die "--fs ext4: $workdir is not on ext4"
	avail=$(df -Pm "$workdir" | awk 'NR==2 {print $4}')
	[ "${avail:-0}" -gt "$need_mb" ] || die "--fs ext4: $workdir has ${avail:-0} MB free, needs $need_mb"
elif [ -z "$workdir" ]; then
	if [ "${avail:-0}" -gt "$need_mb" ]; then workdir=/dev/shm; else workdir=/tmp; fi
fi
T=$(mktemp -d "$workdir/xf-perf-xfer.XXXXXX")

pids=()
# shellcheck disable=SC2034 # c_pid, d_pid: set and read through eval (start_xferd, side_pid)
a_pid='' b_pid='' c_pid='' d_pid=''
fds=()
cleanup() {
	local i
	# One at a time, B (the memif client, started last) first: docs/OPERATIONS.md, "Stopping".
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
	if [ "${probes_added:-0}" = 1 ]; then perf probe -q -d 'probe_xferd:*' 2>/dev/null || true; fi
	if [ "$fs" = xfs ]; then
		# Everything that had files open on it is stopped above.
		xfs_cleanup
		rm -rf "$T"
		[ "$keep" = 0 ] || log "--keep: nothing kept, $T was an XFS mount and is gone"
	elif [ "$keep" = 1 ]; then log "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
# Room for sources, both destinations and XFS's own metadata and log; sparse, so only
# what is written takes memory.
[ "$fs" != xfs ] || xfs_mount "$T" $((need_mb * 3 / 2 + 512))
trap 'exit 130' INT TERM
voltype=$(df -PT "$T" | awk 'NR==2 {print $2}')
[ "$fs" = tmpfs ] || [ "$voltype" = "$fs" ] || die "$T is $voltype, not $fs"
fsnote=
[ "$fs" != xfs ] || fsnote=", loop device ${XFS_LOOPS[0]} on a RAM-backed image, reflink=1"
[ "$fs" != ext4 ] || fsnote=", the machine's disk ($(df -P "$T" | awk 'NR==2 {print $1}'))"
[ -n "$data" ] || data=$T/data

# ---- datasets
qflag=
[ "$quick" = 1 ] && qflag=--quick
# usr stands for two cases, usr-include and usr-lib (only usr-include with --quick: the
# copy of /usr/lib is over 1 GB).
want=
cases=
for s in $sets; do
	case "$s" in
	large | small | mixed) want="$want $s" cases="$cases $s" ;;
	delta) want="$want large delta" cases="$cases delta" ;;
	usr) want="$want usr" cases="$cases usr-include$([ "$quick" = 1 ] || echo ' usr-lib')" ;;
	compressible) want="$want usr" cases="$cases compressible compressible-z" ;;
	mirror) want="$want small mirror" cases="$cases small mirror" ;;
	*) die "unknown case $s (large, small, delta, mixed, usr, compressible, mirror)" ;;
	esac
done
gen=
for s in large small delta mixed mirror; do
	case " $want " in *" $s "*) [ -d "$data/$s" ] || gen="$gen $s" ;; esac
done
case " $want " in *" usr "*) [ -d "$data/usr-include" ] || gen="$gen usr" ;; esac
if [ -n "$gen" ]; then
	log "generating$gen into $data"
	"$repo/perf/datasets.sh" $qflag "$data" $gen >&2
fi
# The data set of a case: compressible and compressible-z push the usr-include copy.
case_data() {
	case $1 in
	compressible*) echo "$data/usr-include" ;;
	*) echo "$data/$1" ;;
	esac
}
ds_files() { find "$1" -type f | wc -l; }
ds_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}'; }

# ---- the xferd pair (A server, B client; B only after A listens: a memif client does
# not retry a connection that failed), and unless --no-plain a second pair, C and D (the
# same configs, its own memif link), in session.security none
tag=xfpx$$
mkdir -p "$T/a" "$T/b"
# Keys of the pair (session.security aead, as deployed): made here, never committed.
pub_a=$("$XFERD" keygen "$T/a.key") || die "xferd keygen failed"
pub_b=$("$XFERD" keygen "$T/b.key") || die "xferd keygen failed"
start_xferd() { # SIDE ROLE CONFIG(a|b) LINK [--set K=V ...]
	local s=$1 role=$2 conf=$3 link=$4 fd line peer_pub=$pub_a zcargs=(--set "eal.extra_args=[]")
	shift 4
	[ "$conf" = a ] && peer_pub=$pub_b
	# The client as config/dev/b.yaml has it: memif zero-copy, which needs its DPDK
	# memory in one file (docs/ENGINE.md, "The dev pair's link").
	if [ "$role" = client ] && [ "$zc" = 1 ]; then
		zcargs=(--set 'eal.extra_args=["--single-file-segments"]')
		role=client,zero-copy=yes
	fi
	mkdir -p "$T/$s"
	mkfifo "$T/$s.ready"
	"$XFERD" -c "$repo/config/dev/$conf.yaml" \
		--set "session.private_key_file=$T/$conf.key" --set "peers[0].public_key=$peer_pub" \
		--set "eal.file_prefix=$tag-$s" --set "control.socket=$T/$s.sock" \
		--set "ports[0].device=net_memif0,role=$role,socket=$T/$link.sock,bsize=9216$devargs" \
		--set "volumes[0].path=$T/$s" --set "control.push_roots=[\"$data\"]" \
		"${zcargs[@]}" "${xsets[@]}" "$@" >"$T/$s.ready" 2>"$T/$s.log" &
	pids+=($!)
	eval "${s}_pid=$!" # sets a_pid, b_pid, c_pid, d_pid
	exec {fd}<"$T/$s.ready" # held open to the end: xferd never writes to a closed pipe
	fds+=("$fd")
	IFS= read -r -t 30 -u "$fd" line || die "xferd $s did not start; log: $(tail -5 "$T/$s.log")"
	[ "$line" = "xferd: ready" ] || die "xferd $s said '$line'"
}
start_xferd a server a memif
start_xferd b client b memif
if [ "$plain" = 1 ]; then
	start_xferd c server a memif-plain --set session.security=none
	start_xferd d client b memif-plain --set session.security=none
fi
link_up() { "$XFERCTL" -s "$T/$1.sock" --json status | grep -q '"link_up": true'; }
sides="a b$([ "$plain" = 0 ] || echo ' c d')"
links_up() {
	local s
	for s in $sides; do link_up "$s" || return 1; done
}
for _ in $(seq 100); do
	links_up && break
	sleep 0.1
done
links_up || die "memif link between a pair did not come up"

# ---- the rsync daemon on loopback
port=$((20000 + $$ % 20000))
mkdir -p "$T/r"
[ "$floor" = 0 ] || mkdir -p "$T/f" # xf-bench-floor's destinations
# use chroot = yes: without a chroot, rsyncd munges symlinks and trims the leading ../ of
# their targets, and the trees with symlinks (mixed, usr) would not arrive as they are.
cat >"$T/rsyncd.conf" <<EOF
use chroot = yes
pid file = $T/rsyncd.pid
log file = $T/rsyncd.log
[mod]
	path = $T/r
	read only = no
	uid = root
	gid = root
EOF
rsync --daemon --no-detach --address 127.0.0.1 --port "$port" --config "$T/rsyncd.conf" &
pids+=($!)
rsyncd_pid=$!
for _ in $(seq 100); do
	rsync "rsync://127.0.0.1:$port/" >/dev/null 2>&1 && break
	sleep 0.1
done
rsync "rsync://127.0.0.1:$port/" >/dev/null 2>&1 || die "rsync daemon did not answer on port $port"

now_ns() { date +%s%N; }
# CPU time in clock ticks: a process's own (all its threads, live and exited), or the
# children it has reaped (the rsync daemon's per-connection processes).
hz=$(getconf CLK_TCK)
cpu_self() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_children() { awk '{print $16 + $17}' "/proc/$1/stat"; }

# One line per thread of both xferd processes: side pid tid comm, then schedstat (ns on
# CPU, ns waiting on a run queue, timeslices), then voluntary and involuntary switches.
threads_snapshot() {
	local p t side
	echo "# t_ns $(now_ns)"
	for side in a b; do
		eval "p=\$${side}_pid"
		for t in /proc/$p/task/*; do
			echo "$side $p ${t##*/} $(tr ' ' '_' <"$t/comm") $(cat "$t/schedstat" 2>/dev/null || echo 0 0 0)" \
				"$(awk '/^(non)?voluntary_ctxt_switches/ {printf "%s ", $2}' "$t/status")"
		done
	done
}

# Bytes both ways through A's port (what really crossed the memif link), from its stats.
port_bytes() {
	"$XFERCTL" -s "$T/$xs.sock" --json stats |
		python3 -c 'import json,sys; print(sum(p["tx_bytes"] + p["rx_bytes"] for p in json.load(sys.stdin)["ports"]))'
}

# The pair a push goes through: sender xs, receiver xr (a b: encrypted; c d: plaintext;
# peer "b" of config a is the receiver either way).
xs=a xr=b
side_pid() { eval "echo \$${1}_pid"; }

# xferd_push SRC DEST [PROFILE_CASE] (through xs -> xr; profiles only a b) -> sets X_JOB_MS X_WALL_MS X_CPU_MS (= X_CPU_A_MS +
# X_CPU_B_MS, sender and receiver) X_WIRE (job's
# wire_bytes_sent + received) X_PWIRE (port bytes) X_RETX
xferd_push() {
	local src=$1 dest=$2 t0 t1 rc=0 prof=${3:-}
	local perf_a="" perf_b=""
	if [ -n "$prof" ]; then
		if [ "$polls" = 1 ]; then
			# counting pass: uprobes on port_poll cost ~1 us a call, so no samples here
			perf stat --per-thread -x, -e "$stat_events,probe_xferd:port_poll" \
				-e probe_xferd:port_poll__return --filter 'arg1 != 0' -p "$a_pid" \
				-o "$profile/pstat-$prof-a.csv" >/dev/null 2>&1 &
			perf_a=$!
			perf stat --per-thread -x, -e "$stat_events,probe_xferd:port_poll" \
				-e probe_xferd:port_poll__return --filter 'arg1 != 0' -p "$b_pid" \
				-o "$profile/pstat-$prof-b.csv" >/dev/null 2>&1 &
			perf_b=$!
			# frames offered to and accepted by the port, per burst (sum n - sum sent = frames
			# the engine freed because the TX ring was full)
			perf record -e probe_xferd:xf_port_tx_burst -e probe_xferd:xf_port_tx_burst__return \
				-p "$a_pid" -o "$profile/txprobe-$prof-a.data" >/dev/null 2>&1 &
			perf_a="$perf_a $!"
			perf record -e probe_xferd:xf_port_tx_burst -e probe_xferd:xf_port_tx_burst__return \
				-p "$b_pid" -o "$profile/txprobe-$prof-b.data" >/dev/null 2>&1 &
			perf_b="$perf_b $!"
		else
			perf record -g -F "${XF_PERF_FREQ:-499}" -p "$a_pid" -o "$profile/perf-$prof-a.data" >/dev/null 2>"$T/perf-a.err" &
			perf_a=$!
			perf record -g -F "${XF_PERF_FREQ:-499}" -p "$b_pid" -o "$profile/perf-$prof-b.data" >/dev/null 2>"$T/perf-b.err" &
			perf_b=$!
			perf stat --per-thread -x, -e "$stat_events" -p "$a_pid" -o "$profile/stat-$prof-a.csv" >/dev/null 2>&1 &
			perf_a="$perf_a $!"
			perf stat --per-thread -x, -e "$stat_events" -p "$b_pid" -o "$profile/stat-$prof-b.csv" >/dev/null 2>&1 &
			perf_b="$perf_b $!"
		fi
		"$XFERCTL" -s "$T/a.sock" --json stats >"$profile/stats-$prof-a-before.json"
		"$XFERCTL" -s "$T/b.sock" --json stats >"$profile/stats-$prof-b-before.json"
		grep -s -E '^(cpu|ctxt)' /proc/stat >"$profile/procstat-$prof-before.txt" || true
		threads_snapshot >"$profile/threads-$prof-before.txt"
		sleep 0.5 # perf attaches asynchronously; the push must start after it has
	fi
	local ca0 cb0 w0
	ca0=$(cpu_self "$(side_pid "$xs")")
	cb0=$(cpu_self "$(side_pid "$xr")")
	w0=$(port_bytes)
	t0=$(now_ns)
	"$XFERCTL" -s "$T/$xs.sock" push "$src" "b:$dest" --wait ${push_opt:+"$push_opt"} >"$T/push.out" 2>&1 || rc=$?
	t1=$(now_ns)
	if [ -n "$prof" ]; then
		"$XFERCTL" -s "$T/a.sock" --json stats >"$profile/stats-$prof-a-after.json"
		"$XFERCTL" -s "$T/b.sock" --json stats >"$profile/stats-$prof-b-after.json"
		grep -s -E '^(cpu|ctxt)' /proc/stat >"$profile/procstat-$prof-after.txt" || true
		threads_snapshot >"$profile/threads-$prof-after.txt"
		echo "$(((t1 - t0) / 1000000))" >"$profile/wall-$prof-ms.txt"
		kill -INT $perf_a $perf_b 2>/dev/null || true
		wait $perf_a $perf_b 2>/dev/null || true
		cp "$T/push.out" "$profile/push-$prof.txt"
	fi
	[ "$rc" = 0 ] || die "xferctl push $src exited $rc: $(cat "$T/push.out")"
	"$XFERCTL" -s "$T/$xs.sock" --json jobs >"$T/jobs.json"
	[ -z "$prof" ] || cp "$T/jobs.json" "$profile/jobs-$prof.json"
	read -r X_JOB_MS X_WIRE X_RETX X_STATE < <(python3 -c '
import json, sys
j = max(json.load(open(sys.argv[1]))["jobs"], key=lambda j: j["id"])
print(j["elapsed_ms"], j["wire_bytes_sent"] + j["wire_bytes_received"], j["retransmits"], j["state"])
' "$T/jobs.json")
	[ "$X_STATE" = "done" ] || die "job ended $X_STATE: $(cat "$T/push.out")"
	X_WALL_MS=$(((t1 - t0) / 1000000))
	X_CPU_A_MS=$((($(cpu_self "$(side_pid "$xs")") - ca0) * 1000 / hz))
	X_CPU_B_MS=$((($(cpu_self "$(side_pid "$xr")") - cb0) * 1000 / hz))
	X_CPU_MS=$((X_CPU_A_MS + X_CPU_B_MS))
	X_PWIRE=$(($(port_bytes) - w0))
}

# rsync_push SRC DEST -> sets R_MS R_WIRE R_CPU_MS (client + daemon) R_CPU_RECV_MS (the
# daemon's connection processes: the receiver, generator and receiver alike)
rsync_push() {
	local src=$1 dest=$2 t0 t1 c0 cc
	c0=$(cpu_children "$rsyncd_pid")
	t0=$(now_ns)
	# the client runs under a shell that reports the CPU of its reaped child (the client)
	cc=$(sh -c 'rsync -a --stats $4 "$1" "$2" >"$3" 2>&1 || exit 1; awk "{print \$16 + \$17}" /proc/$$/stat' \
		sh "$src/" "rsync://127.0.0.1:$port/mod/$dest/" "$T/rsync.out" "$rsync_opt") ||
		die "rsync failed: $(tail -5 "$T/rsync.out")"
	t1=$(now_ns)
	R_MS=$(((t1 - t0) / 1000000))
	# the daemon's connection process counts once the daemon has reaped it (after t1)
	for _ in $(seq 100); do
		[ -n "$(ps -o pid= --ppid "$rsyncd_pid")" ] || break
		sleep 0.05
	done
	R_CPU_RECV_MS=$((($(cpu_children "$rsyncd_pid") - c0) * 1000 / hz))
	R_CPU_MS=$((cc * 1000 / hz + R_CPU_RECV_MS))
	R_WIRE=$(awk -F: '/^Total bytes (sent|received)/ {gsub(/[ ,]/, "", $2); s += $2} END {printf "%d", s}' "$T/rsync.out")
}

# floor_push SRC DEST [--delta] -> sets F_CPU F_FS F_RECV F_BOUND (seconds) from the
# FLOOR line of xf-bench-floor (its own CPU clocks: robust to the idle xferd pair).
# --warm: this VM hands freed memory back to its host (free page reporting) and bills the
# host's fault on the next write to it as the writer's CPU, up to 4 s per GiB; the floor
# warms the memory its receiver will take first (untimed), so it measures the receiver.
floor_push() {
	local src=$1 dest=$2 kv line
	shift 2
	"$FLOOR" --warm "$@" "$src" "$T/f/$dest" >"$T/floor.out" 2>&1 ||
		die "xf-bench-floor $src failed: $(tail -5 "$T/floor.out")"
	F_CPU='' F_FS='' F_RECV='' F_BOUND=''
	line=$(sed -n 's/^FLOOR //p' "$T/floor.out")
	for kv in $line; do
		case ${kv%%=*} in
		total_cpu) F_CPU=${kv#*=} ;;
		fs_cpu) F_FS=${kv#*=} ;;
		recv_wall) F_RECV=${kv#*=} ;;
		bound) F_BOUND=${kv#*=} ;;
		esac
	done
	if [ -z "$F_CPU" ] || [ -z "$F_FS" ] || [ -z "$F_RECV" ] || [ -z "$F_BOUND" ]; then
		die "xf-bench-floor printed no complete FLOOR line: $(tail -5 "$T/floor.out")"
	fi
}

# Verify one destination against its source (contents and sizes; not timed).
# --no-dereference: symlinks compare as links (the mixed and usr trees have dangling ones).
verify() { diff -rq --no-dereference "$1" "$2" >/dev/null || die "$3: destination differs from $1"; }

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%d\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

declare -A XJ XW XB XP XR XC XCB RJ RB RC RCB FC FF FW FB PJ PC
push_opt=
rsync_opt=
# --old-atimes: every entry of SRC read last two days ago (untimed, before each push)
age_atimes() { [ "$old_atimes" = 0 ] || find "$1" -exec touch -a -h -d '2 days ago' {} +; }

run_case_push() { # CASE SRC DEST_PREFIX I
	local c=$1 src=$2 d=$3 i=$4 prof=
	[ -n "$profile" ] && [ "$i" = 1 ] && prof=$c
	# compressible-z: both compress (xferd per frame, igzip; rsync -z, zlib)
	push_opt=
	rsync_opt=
	if [ "$c" = compressible-z ]; then
		push_opt=--compress
		rsync_opt=-z
	fi
	if [ "$c" = mirror ]; then
		push_opt=--delete
		rsync_opt=--delete
	fi
	# the destinations (xferd's, rsync's, the floor's) are on one file system
	if [ "$settle" = 1 ] && [ "$c" = delta ]; then sync -f "$T"; fi
	age_atimes "$src"
	xferd_push "$src" "$d" "$prof"
	XJ[$c]+=" $X_JOB_MS"
	XC[$c]+=" $X_CPU_MS"
	XCB[$c]+=" $X_CPU_B_MS"
	XW[$c]+=" $X_WALL_MS"
	XB[$c]+=" $X_WIRE"
	XP[$c]+=" $X_PWIRE"
	XR[$c]+=" $X_RETX"
	local xmsg="xferd job ${X_JOB_MS} ms wall ${X_WALL_MS} ms cpu ${X_CPU_MS} ms (a ${X_CPU_A_MS} b ${X_CPU_B_MS}) wire $X_PWIRE (job says $X_WIRE) retx $X_RETX"
	local pmsg=
	if [ "$plain" = 1 ]; then
		# the same push through the plaintext pair (never profiled)
		age_atimes "$src"
		xs=c xr=d xferd_push "$src" "$d"
		PJ[$c]+=" $X_JOB_MS"
		PC[$c]+=" $X_CPU_MS"
		pmsg="; plain job ${X_JOB_MS} ms cpu ${X_CPU_MS} ms (c ${X_CPU_A_MS} d ${X_CPU_B_MS})"
	fi
	age_atimes "$src"
	rsync_push "$src" "$d"
	RJ[$c]+=" $R_MS"
	RB[$c]+=" $R_WIRE"
	RC[$c]+=" $R_CPU_MS"
	RCB[$c]+=" $R_CPU_RECV_MS"
	local fmsg=
	if [ "$floor" = 1 ]; then
		# delta goes onto the copy of large the large run left, as xferd and rsync do
		age_atimes "$src"
		if [ "$c" = delta ]; then floor_push "$src" "$d" --delta; else floor_push "$src" "$d"; fi
		FC[$c]+=" $F_CPU"
		FF[$c]+=" $F_FS"
		FW[$c]+=" $F_RECV"
		FB[$c]+=" $F_BOUND"
		fmsg="; floor cpu $F_CPU s (fs $F_FS s) recv $F_RECV s bound $F_BOUND s"
	fi
	if [ "$i" = 1 ]; then
		verify "$src" "$T/b/$d" "xferd $c"
		[ "$plain" = 0 ] || verify "$src" "$T/d/$d" "xferd plain $c"
		verify "$src" "$T/r/$d" "rsync $c"
		# the floor writes what changed and deletes nothing: no mirror of its own
		[ "$floor" = 0 ] || [ "$c" = mirror ] || verify "$src" "$T/f/$d" "floor $c"
	fi
	log "$c run $i: $xmsg$pmsg; rsync ${R_MS} ms cpu ${R_CPU_MS} ms (receiver ${R_CPU_RECV_MS}) wire $R_WIRE$fmsg"
}

stat_events=task-clock,context-switches,syscalls:sys_enter_clock_nanosleep,syscalls:sys_enter_nanosleep
# XF_STAT_EVENTS: more events for the profile's perf stat, e.g. the file system's syscalls
[ -z "${XF_STAT_EVENTS:-}" ] || stat_events="$stat_events,$XF_STAT_EVENTS"
if [ -n "$profile" ]; then
	mkdir -p "$profile"
	command -v perf >/dev/null || die "--profile needs perf (Debian: linux-perf)"
	if [ "$polls" = 1 ]; then
		perf probe -q -d 'probe_xferd:*' 2>/dev/null || true
		perf probe -q -x "$XFERD" -a port_poll && perf probe -q -x "$XFERD" -a 'port_poll%return $retval:u8' &&
			perf probe -q -x "$XFERD" -a 'xf_port_tx_burst n=%cx:u16' &&
			perf probe -q -x "$XFERD" -a 'xf_port_tx_burst%return $retval:u16' ||
			die "cannot place uprobes on port_poll / xf_port_tx_burst in $XFERD"
		probes_added=1
	fi
fi
for i in $(seq "$runs"); do
	case " $cases " in *" large "* | *" delta "*)
		run_case_push large "$data/large" "large$i" "$i"
		case " $cases " in *" delta "*) run_case_push delta "$data/delta" "large$i" "$i" ;; esac
		rm -rf "${T:?}/b/large$i" "${T:?}/d/large$i" "${T:?}/r/large$i" "${T:?}/f/large$i"
		;;
	esac
	# mirror, like delta, goes onto the destination small's push left
	case " $cases " in *" mirror "*)
		run_case_push small "$data/small" "small$i" "$i"
		run_case_push mirror "$data/mirror" "small$i" "$i"
		rm -rf "${T:?}/b/small$i" "${T:?}/r/small$i" "${T:?}/f/small$i"
		;;
	esac
	for c in $cases; do
		case $c in large | delta | mirror) continue ;; esac
		case " $cases " in *" mirror "*) [ "$c" = small ] && continue ;; esac
		run_case_push "$c" "$(case_data "$c")" "$c$i" "$i"
		rm -rf "${T:?}/b/$c$i" "${T:?}/d/$c$i" "${T:?}/r/$c$i" "${T:?}/f/$c$i"
	done
done

# ---- report
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
cores=$(nproc)
echo "xferd transfer benchmark: $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "cpu: $cpu, $cores cores; build: $buildtype ($build); runs: $runs (medians)$([ "$quick" = 1 ] && echo ', quick datasets')"
echo "file system: $voltype$fsnote; datasets: $data ($(df -PT "$data" | awk 'NR==2 {print $2}'))$([ "$settle" = 0 ] || echo "; --settle: destinations written back before each delta run")$([ "$old_atimes" = 0 ] || echo "; --old-atimes: source access times two days back before each push")"
echo "volumes: $T ($voltype); xferd: config/dev pair over net_memif${devargs}$([ "$zc" = 1 ] && echo ' (client zero-copy)' || echo ' (copy mode)')${xsets[*]:+ with ${xsets[*]}}$([ "$plain" = 0 ] || echo '; and a second pair with session.security none'); rsync: daemon on 127.0.0.1:$port"
# One python pass: medians, speeds, ratios, the table and the CSV (columns in README.md).
{
	for c in large delta small mirror mixed usr-include usr-lib compressible compressible-z; do
		[ -n "${XJ[$c]:-}" ] || continue
		echo "$c $(ds_files "$(case_data "$c")") $(ds_bytes "$(case_data "$c")") | ${XJ[$c]} | ${XW[$c]} | ${XC[$c]} |" \
			"${XB[$c]} | ${XP[$c]} | ${XR[$c]} | ${RJ[$c]} | ${RC[$c]} | ${RB[$c]}" \
			"| ${XCB[$c]} | ${RCB[$c]}" \
			"| ${PJ[$c]:-} | ${PC[$c]:-}" \
			"$([ "$floor" = 0 ] || echo "| ${FF[$c]} | ${FC[$c]} | ${FW[$c]} | ${FB[$c]}")"
	done
} | python3 -c '
import statistics, sys
csv_path, runs, buildtype, cpu, cores, vol, floor_path, plain_path, recv_path = sys.argv[1:10]
med = lambda f: statistics.median(int(v) for v in f.split())
fmed = lambda f: statistics.median(float(v) for v in f.split())
hdr = ("case", "files", "MB", "x job s", "x wall", "x MB/s", "r s", "r MB/s", "ratio",
       "r_wall", "x cpu s", "r cpu s", "x MB/cpu", "r MB/cpu", "cpu_rat", "xferd wire",
       "rsync wire", "wire_rat", "retx", "x job wire")
fmt = "%-34s %6s %7s | %7s %7s %7s | %7s %7s | %5s %6s | %7s %7s %8s %8s %7s | %13s %13s %8s %7s %13s"
print(fmt % hdr)
cols = ("case,label,runs,files,bytes,xferd_job_s,xferd_wall_s,xferd_MBps,rsync_s,rsync_MBps,"
        "ratio,ratio_wall,xferd_cpu_s,rsync_cpu_s,xferd_MB_per_cpu_s,rsync_MB_per_cpu_s,"
        "cpu_ratio,xferd_wire_bytes,rsync_wire_bytes,wire_ratio,xferd_retransmits,xferd_job_wire_bytes,"
        "buildtype,cpu,cores,volumes,xferd_recv_cpu_s,rsync_recv_cpu_s,recv_cpu_ratio")
rows = []
rfmt = "%-34s | %13s %13s %14s"
rtab = [rfmt % ("case", "x recv cpu s", "r recv cpu s", "recv cpu ratio")]
if plain_path:
    cols += (",plain_job_s,plain_MBps,ratio_plain,plain_cpu_s,plain_MB_per_cpu_s,cpu_ratio_plain,"
             "aead_plain_cpu")
    pfmt = "%-34s | %7s %7s | %7s %7s | %7s %7s %14s | %7s %9s"
    ptab = [pfmt % ("case", "x job s", "p job s", "ratio", "ratio_p", "x cpu s", "p cpu s",
                    "aead/plain cpu", "cpu_rat", "cpu_rat_p")]
if floor_path:
    cols += ",floor_fs_cpu_s,floor_cpu_s,floor_recv_s,floor_bound_s,max_ratio"
    ffmt = "%-34s | %14s %11s %12s %18s | %7s | %25s %18s"
    ftab = [ffmt % ("case", "floor fs cpu s", "floor cpu s", "floor recv s", "floor s (cpu/ncpu)",
                    "r s", "max ratio (r s / floor s)", "x job s / floor s")]
for line in sys.stdin:
    head, xj, xw, xc, xb, xp, xr, rj, rc, rb, xcb, rcb, pj, pc, *fl = line.split("|")
    c, files, b = head.split()
    b = int(b)
    xj, xw, xc, xb, xp, xr, rj, rc, rb, xcb, rcb = (
        med(v) for v in (xj, xw, xc, xb, xp, xr, rj, rc, rb, xcb, rcb))
    mb = b / 1e6
    per = lambda ms: mb / (max(ms, 1) / 1000.0)
    xs, xws, rs, xe, re_ = per(xj), per(xw), per(rj), per(xc), per(rc)
    label = {"delta": "delta (re-push of large, 4x100 B changed per file)",
             "mirror": "mirror (small again, --delete)",
             "compressible": "compressible (usr-include, plain)",
             "compressible-z": "compressible-z (--compress, rsync -z)"}.get(c, c)
    print(fmt % (label, files, "%.1f" % mb, "%.3f" % (xj / 1e3), "%.3f" % (xw / 1e3), "%.1f" % xs,
                 "%.3f" % (rj / 1e3), "%.1f" % rs, "%.2f" % (xs / rs), "%.2f" % (xws / rs),
                 "%.2f" % (xc / 1e3), "%.2f" % (rc / 1e3), "%.1f" % xe, "%.1f" % re_,
                 "%.2f" % (xe / re_), "%d" % xp, "%d" % rb, "%.2f" % (xp / max(rb, 1)), "%d" % xr, "%d" % xb))
    rows.append([c, "\"%s\"" % label, runs, files, str(b), "%.3f" % (xj / 1e3), "%.3f" % (xw / 1e3),
                 "%.1f" % xs, "%.3f" % (rj / 1e3), "%.1f" % rs, "%.3f" % (xs / rs), "%.3f" % (xws / rs),
                 "%.2f" % (xc / 1e3), "%.2f" % (rc / 1e3), "%.1f" % xe, "%.1f" % re_,
                 "%.3f" % (xe / re_), "%d" % xp, "%d" % rb, "%.3f" % (xp / max(rb, 1)), "%d" % xr, "%d" % xb,
                 buildtype, "\"%s\"" % cpu, cores, vol,
                 "%.2f" % (xcb / 1e3), "%.2f" % (rcb / 1e3), "%.3f" % (xcb / max(rcb, 1))])
    rtab.append(rfmt % (label, "%.2f" % (xcb / 1e3), "%.2f" % (rcb / 1e3), "%.2f" % (xcb / max(rcb, 1))))
    if plain_path:
        pj, pc = med(pj), med(pc)
        ps, pe = per(pj), per(pc)
        ptab.append(pfmt % (label, "%.3f" % (xj / 1e3), "%.3f" % (pj / 1e3), "%.2f" % (xs / rs),
                            "%.2f" % (ps / rs), "%.2f" % (xc / 1e3), "%.2f" % (pc / 1e3),
                            "%.2f" % (xc / max(pc, 1)), "%.2f" % (xe / re_), "%.2f" % (pe / re_)))
        rows[-1] += ["%.3f" % (pj / 1e3), "%.1f" % ps, "%.3f" % (ps / rs), "%.2f" % (pc / 1e3),
                     "%.1f" % pe, "%.3f" % (pe / re_), "%.3f" % (xc / max(pc, 1))]
    if floor_path:
        ff, fc, fw, fb = (fmed(v) for v in fl)
        fbs = max(fb, 0.001)
        ftab.append(ffmt % (label, "%.3f" % ff, "%.3f" % fc, "%.3f" % fw, "%.3f" % fb,
                            "%.3f" % (rj / 1e3), "%.2f" % (rj / 1e3 / fbs), "%.2f" % (xj / 1e3 / fbs)))
        rows[-1] += ["%.3f" % ff, "%.3f" % fc, "%.3f" % fw, "%.3f" % fb, "%.3f" % (rj / 1e3 / fbs)]
if csv_path:
    with open(csv_path, "w") as f:
        f.write(cols + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")
with open(recv_path, "w") as f:
    f.write("\n".join(rtab) + "\n")
if floor_path:
    with open(floor_path, "w") as f:
        f.write("\n".join(ftab) + "\n")
if plain_path:
    with open(plain_path, "w") as f:
        f.write("\n".join(ptab) + "\n")
' "$csv" "$runs" "$buildtype" "$cpu" "$cores" "$voltype" "$([ "$floor" = 0 ] || echo "$T/floor-table.txt")" \
	"$([ "$plain" = 0 ] || echo "$T/plain-table.txt")" "$T/recv-table.txt"
echo "ratio = xferd MB/s (job elapsed) / rsync MB/s; r_wall: xferd wall clock instead; x/r cpu s:"
echo "CPU time of both xferd processes / rsync client + daemon; MB/cpu = MB per CPU second"
echo "(cpu_rat = xferd / rsync efficiency: robust on a loaded machine); wire = bytes both ways"
echo "(xferd: A's port counters; 'x job wire' = the job's wire_bytes_sent + received, which also"
echo "counts frames the TX path dropped)"
echo
echo "the receiving side's CPU alone (xferd: the receiving process; rsync: the daemon's"
echo "connection processes, generator and receiver), medians:"
cat "$T/recv-table.txt"
echo "recv cpu ratio = x recv cpu s / r recv cpu s (lower is better)"
if [ "$plain" = 1 ]; then
	echo
	echo "encrypted (x: session.security aead, as deployed) against plaintext (p: the c d pair in"
	echo "session.security none), the same pushes, run by run after each other:"
	cat "$T/plain-table.txt"
	echo "ratio_p, cpu_rat_p: as ratio and cpu_rat, for the plaintext pair; aead/plain cpu = x cpu s"
	echo "/ p cpu s: what encryption costs in CPU"
fi
if [ "$floor" = 1 ]; then
	echo
	echo "floor: perf/floor/xf-bench-floor on the same case and destination history, after rsync"
	cat "$T/floor-table.txt"
	echo "floor fs cpu = scan + read + the receiver's file-system work (create, write, mode, mtime,"
	echo "rename; with delta the basis cloned, not read: its signatures are taken as cached); floor"
	echo "cpu adds the CRC-64s (and delta's block CRC-32Cs of the new data); floor recv = wall"
	echo "time of its receive phase; floor s = floor cpu / online CPUs: a perfectly parallel"
	echo "transfer with no protocol cost. max ratio = the most any"
	echo "implementation could beat rsync by here; x job s / floor s = how far xferd is from it"
fi

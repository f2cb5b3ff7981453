# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Sourced by end-to-end tests: an appliance pair A and B (config/dev/a.yaml, b.yaml joined
# by net_memif) with every path, socket, EAL file prefix and memif socket moved into a
# fresh temp dir, so that any number of tests can run at once. Everything is bounded in
# time; an EXIT trap kills whatever is left and removes the temp dir (it is kept, and the
# daemons' logs are printed, when the test fails).
#
#   . tests/e2e/lib/pair.sh
#   pair_init NAME XFERD XFERCTL      # temp dir $PAIR_DIR, volumes $PAIR_VOL_A, $PAIR_VOL_B
#   pair_start [--set K=V]...          # both, extra overrides for both; waits for ready+link
#   pair_push SRC DEST [ARG]...        # xferctl -s A push SRC b:DEST --wait; sets PAIR_JOB
#   pair_job_field FIELD               # that job's counter from `xferctl --json jobs`
#   pair_expect_io SIDE DIR volume|job # the file I/O back end reported for DIR
#   pair_verify SRC DST                # rsync -a -n -i --checksum prints nothing, diff -r
#   pair_stop                          # xferctl shutdown, both exit 0
#   pair_pass                          # pair_stop if needed, "NAME: PASS", exit 0
#
# Tests fail with pair_fail MSG (exit 1) and skip with pair_skip MSG (exit 77).
# PAIR_IO=io_uring|inline in the environment starts both with that transfer.io, and
# PAIR_FSYNC=none|file|batch with that volumes[0].fsync (config/dev: none), and
# PAIR_WORKERS=[1,2] with those cores.workers (config/dev: [1], the RX core's lcore).
# PAIR_VOLUMES="NAME[@LCORE+LCORE...] ..." gives each side one volume per word: the first
# at $PAIR_VOL_A / $PAIR_VOL_B as usual, each other at $PAIR_DIR/SIDE-NAME; @ lists the
# volume's workers (volumes[].workers).
# PAIR_FS=xfs puts $PAIR_DIR (both volumes, and sources tests make in it) on a fresh XFS
# loop mount (tests/e2e/lib/xfs.sh), unmounted by the EXIT trap; PAIR_KEEP keeps no copy.
# PAIR_FS=ext4 does the same with ext4.
# PAIR_SET_A=K=V and PAIR_SET_B=K=V give one side one more override, after those of
# pair_start (the last --set of a key wins).
# B, the memif client, runs zero-copy as config/dev/b.yaml has it; PAIR_MEMIF_COPY=1
# starts it in copy mode instead (docs/ENGINE.md, "The dev pair's link").

# Upper bounds (seconds); a test may raise them before pair_start.
: "${PAIR_READY_TIMEOUT:=30}"  # start until `xferd: ready` and link up
: "${PAIR_PUSH_TIMEOUT:=120}"  # one push --wait
: "${PAIR_STOP_TIMEOUT:=20}"   # shutdown until exit
: "${PAIR_LIFETIME:=600}"      # backstop: timeout(1) kills a daemon that outlives this
: "${PAIR_XFS_MB:=512}"        # MiB of the XFS (ext4) with PAIR_FS (sparse, in /dev/shm)

PAIR_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PAIR_SRC_ROOT=$(cd "$PAIR_LIB_DIR/../../.." && pwd)

PAIR_NAME=
PAIR_DIR=
PAIR_XFERD=
PAIR_XFERCTL=
PAIR_VOL_A=
PAIR_VOL_B=
PAIR_PID_A=
PAIR_PID_B=
PAIR_JOB=
PAIR_PASSED=0

# pair_since T0: seconds since $EPOCHREALTIME was T0, two decimals.
pair_since() {
	python3 -c 'import sys, time; print("%.2f" % (time.time() - float(sys.argv[1])))' "$1"
}

pair_log() {
	echo "$PAIR_NAME: $*" >&2
}

# Print the tail of each daemon's stdout and stderr (on failure).
pair_dump_logs() {
	local f
	[ -n "$PAIR_DIR" ] || return 0
	for f in "$PAIR_DIR"/a.out "$PAIR_DIR"/a.err "$PAIR_DIR"/b.out "$PAIR_DIR"/b.err; do
		[ -s "$f" ] || continue
		echo "--- ${f##*/} (last 40 lines) ---" >&2
		tail -n 40 "$f" >&2
	done
}

pair_fail() {
	echo "$PAIR_NAME: FAIL: $*" >&2
	# A daemon that died under the test explains most failures: say so first.
	if [ -n "$PAIR_PID_A" ] && ! kill -0 "$PAIR_PID_A" 2>/dev/null; then
		echo "$PAIR_NAME: xferd a is no longer running (see a.err below)" >&2
	fi
	if [ -n "$PAIR_PID_B" ] && ! kill -0 "$PAIR_PID_B" 2>/dev/null; then
		echo "$PAIR_NAME: xferd b is no longer running (see b.err below)" >&2
	fi
	# The counters of whichever is still up: drops, retransmits, rings, sessions.
	local side
	for side in a b; do
		[ -S "$PAIR_DIR/$side.sock" ] || continue
		echo "--- $side: xferctl --json stats; sessions ---" >&2
		PAIR_CTL_TIMEOUT=5 pair_ctl "$side" --json stats >&2 2>&1 || true
		PAIR_CTL_TIMEOUT=5 pair_ctl "$side" --json sessions >&2 2>&1 || true
	done
	exit 1
}

pair_skip() {
	echo "$PAIR_NAME: SKIP: $*" >&2
	PAIR_PASSED=1 # nothing to dump
	exit 77
}

# Kill a daemon still running (the pid is timeout(1)'s, which forwards the signal).
pair_kill() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# EAL's runtime dirs of our two file prefixes (config and fbarray files stay behind
# after a clean exit too): /var/run/dpdk/PREFIX as root, else under XDG_RUNTIME_DIR or /tmp.
pair_rm_eal_dirs() {
	local base side
	[ -n "$PAIR_DIR" ] || return 0
	for base in /var/run/dpdk "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk" /tmp/dpdk; do
		for side in a b; do
			rm -rf "${base:?}/$(pair_eal_prefix "$side")" 2>/dev/null || true
		done
	done
}

pair_eal_prefix() {
	echo "xfe2e-$1-${PAIR_DIR##*.}"
}

pair_cleanup() {
	local rc=$?
	trap - EXIT
	set +e # clean up as much as possible, whatever fails
	pair_kill "$PAIR_PID_A"
	pair_kill "$PAIR_PID_B"
	PAIR_PID_A=''
	PAIR_PID_B=''
	pair_rm_eal_dirs
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$PAIR_PASSED" -eq 0 ]; then
		pair_dump_logs
		if [ -n "${PAIR_KEEP:-}" ] && [ -z "${PAIR_FS:-}" ]; then
			echo "$PAIR_NAME: kept $PAIR_DIR" >&2
			exit "$rc"
		fi
	fi
	# The daemons are gone: nothing holds files on the XFS (or ext4) any more.
	[ -z "${PAIR_FS:-}" ] || ! declare -F xfs_cleanup >/dev/null || xfs_cleanup
	[ -n "$PAIR_DIR" ] && rm -rf "$PAIR_DIR"
	exit "$rc"
}

# pair_init NAME XFERD XFERCTL
pair_init() {
	PAIR_NAME=${1:?pair_init NAME XFERD XFERCTL}
	PAIR_XFERD=${2:?pair_init NAME XFERD XFERCTL}
	PAIR_XFERCTL=${3:?pair_init NAME XFERD XFERCTL}
	local t
	for t in timeout python3 rsync diff; do
		command -v "$t" >/dev/null || pair_skip "needs $t"
	done
	[ -x "$PAIR_XFERD" ] || pair_fail "xferd $PAIR_XFERD is not executable"
	[ -x "$PAIR_XFERCTL" ] || pair_fail "xferctl $PAIR_XFERCTL is not executable"
	# Short: the control socket path must stay under 108 characters.
	PAIR_DIR=$(mktemp -d "${TMPDIR:-/tmp}/xfe2e.XXXXXX") || pair_fail "mktemp failed"
	trap pair_cleanup EXIT
	case ${PAIR_FS:-} in
	'') ;;
	xfs)
		# Not a skip: the machines that run the suite have loop devices and xfsprogs.
		# shellcheck source=tests/e2e/lib/xfs.sh
		. "$PAIR_LIB_DIR/xfs.sh"
		xfs_mount "$PAIR_DIR" "$PAIR_XFS_MB"
		pair_log "$PAIR_DIR: XFS of $PAIR_XFS_MB MiB on ${XFS_LOOPS[0]}"
		;;
	ext4)
		# A disk file system that cannot clone (docs/DELTA.md, "Apply by clone").
		# shellcheck source=tests/e2e/lib/xfs.sh
		. "$PAIR_LIB_DIR/xfs.sh"
		xfs_mount "$PAIR_DIR" "$PAIR_XFS_MB" ext4
		pair_log "$PAIR_DIR: ext4 of $PAIR_XFS_MB MiB on ${XFS_LOOPS[0]}"
		;;
	*) pair_fail "PAIR_FS=$PAIR_FS: only xfs, ext4 (or unset) are known" ;;
	esac
	PAIR_VOL_A=$PAIR_DIR/a
	PAIR_VOL_B=$PAIR_DIR/b
	mkdir -p "$PAIR_VOL_A" "$PAIR_VOL_B"
	pair_keygen
}

# pair_keygen: key pairs of A and B and a shared PSK for this test (xferd keygen: mode
# 0600, never committed), public keys in PAIR_PUB_A and PAIR_PUB_B. The dev pair runs
# session.security aead, as a deployment does.
pair_keygen() {
	PAIR_PUB_A=$("$PAIR_XFERD" keygen "$PAIR_DIR/a.key") || pair_fail "xferd keygen failed"
	PAIR_PUB_B=$("$PAIR_XFERD" keygen "$PAIR_DIR/b.key") || pair_fail "xferd keygen failed"
	"$PAIR_XFERD" keygen "$PAIR_DIR/psk.key" >/dev/null || pair_fail "xferd keygen failed"
}

# pair_ctl SIDE ARG...: xferctl on A's or B's socket, bounded.
pair_ctl() {
	local side=$1
	shift
	timeout -k 2 "${PAIR_CTL_TIMEOUT:-20}" "$PAIR_XFERCTL" -s "$PAIR_DIR/$side.sock" "$@"
}

# pair_json SIDE PYEXPR ARG...: evaluate PYEXPR on `xferctl --json ARG...` (bound to `j`).
pair_json() {
	local side=$1 expr=$2
	shift 2
	local out
	out=$(pair_ctl "$side" --json "$@") || return 1
	printf '%s' "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
' "$expr"
}

# pair_volumes SIDE: the --set value of PAIR_VOLUMES for SIDE (its directories made).
pair_volumes() {
	local side=$1 list="" dir w name workers
	for w in $PAIR_VOLUMES; do
		name=${w%%@*}
		workers=
		[ "$name" = "$w" ] || workers=", workers: [${w#*@}]"
		workers=${workers//+/, }
		dir=$PAIR_DIR/$side-$name
		[ -n "$list" ] || dir=$PAIR_DIR/$side
		mkdir -p "$dir"
		list+="${list:+, }{name: $name, path: $dir, fsync: none$workers}"
	done
	printf 'volumes=[%s]' "$list"
}

# pair_start_one SIDE ROLE EXTRA...: start one daemon in the background. With
# PAIR_ETC_A (PAIR_ETC_B), a directory holding passwd and group, that side runs in a
# mount namespace of its own where they are /etc/passwd and /etc/group: its own
# accounts, the host's untouched (root only).
pair_start_one() {
	local side=$1 role=$2
	shift 2
	local pid peer_pub=$PAIR_PUB_A own=${PAIR_SET_B:-} etc=${PAIR_ETC_B:-} wrap=() zc=
	[ "$role" = client ] && [ "${PAIR_MEMIF_COPY:-0}" != 1 ] && zc=,zero-copy=yes
	[ "$side" = a ] && peer_pub=$PAIR_PUB_B && own=${PAIR_SET_A:-} && etc=${PAIR_ETC_A:-}
	if [ -n "$etc" ]; then
		# shellcheck disable=SC2016 # expanded by the inner shell
		wrap=(unshare -m --propagation private sh -c 'mount --bind "$1/passwd" /etc/passwd &&
			mount --bind "$1/group" /etc/group && shift && exec "$@"' sh "$etc")
	fi
	timeout -k 5 "$PAIR_LIFETIME" "${wrap[@]}" "$PAIR_XFERD" -c "$PAIR_SRC_ROOT/config/dev/$side.yaml" \
		--set "session.private_key_file=$PAIR_DIR/$side.key" \
		--set "session.psk_file=$PAIR_DIR/psk.key" \
		--set "peers[0].public_key=$peer_pub" \
		--set "eal.file_prefix=$(pair_eal_prefix "$side")" \
		--set "control.socket=$PAIR_DIR/$side.sock" \
		--set "control.push_roots=[\"$PAIR_DIR\"]" \
		--set "volumes[0].path=$PAIR_DIR/$side" \
		${PAIR_VOLUMES:+--set "$(pair_volumes "$side")"} \
		--set "ports[0].device=net_memif0,role=$role,socket=$PAIR_DIR/memif.sock,bsize=9216$zc" \
		${PAIR_IO:+--set "transfer.io=$PAIR_IO"} \
		${PAIR_FSYNC:+--set "volumes[0].fsync=$PAIR_FSYNC"} \
		${PAIR_WORKERS:+--set "cores.workers=$PAIR_WORKERS"} \
		"$@" ${own:+--set "$own"} >"$PAIR_DIR/$side.out" 2>"$PAIR_DIR/$side.err" </dev/null &
	pid=$!
	if [ "$side" = a ]; then PAIR_PID_A=$pid; else PAIR_PID_B=$pid; fi
}

# pair_wait_ready_line SIDE PID DEADLINE: `xferd: ready` on its stdout.
pair_wait_ready_line() {
	local side=$1 pid=$2 deadline=$3
	until grep -qx 'xferd: ready' "$PAIR_DIR/$side.out" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || pair_fail "xferd $side exited before it was ready"
		[ "$SECONDS" -lt "$deadline" ] || pair_fail "xferd $side not ready in ${PAIR_READY_TIMEOUT}s"
		sleep 0.02
	done
}

# pair_wait_link SIDE PID DEADLINE: `xferctl status` says every port's link is up.
pair_wait_link() {
	local side=$1 pid=$2 deadline=$3
	until [ "$(pair_json "$side" 'all(p["link_up"] for p in j["ports"])' status)" = true ]; do
		kill -0 "$pid" 2>/dev/null || pair_fail "xferd $side exited before its link came up"
		[ "$SECONDS" -lt "$deadline" ] || pair_fail "xferd $side: link not up in ${PAIR_READY_TIMEOUT}s"
		sleep 0.02
	done
}

# pair_start [--set K=V]...: start A (memif server) and B (client), wait for both.
# B starts once A is ready: a memif client whose server is not listening yet when it
# starts never connects (the PMD does not retry), so the link would stay down.
# shellcheck disable=SC2120 # the overrides are optional
pair_start() {
	local deadline=$((SECONDS + PAIR_READY_TIMEOUT)) t0=$EPOCHREALTIME
	pair_start_one a server "$@"
	pair_wait_ready_line a "$PAIR_PID_A" "$deadline"
	pair_start_one b client "$@"
	pair_wait_ready_line b "$PAIR_PID_B" "$deadline"
	pair_wait_link a "$PAIR_PID_A" "$deadline"
	pair_wait_link b "$PAIR_PID_B" "$deadline"
	pair_log "pair ready in $(pair_since "$t0")s ($PAIR_DIR)"
}

# pair_push SRC DEST [ARG]...: push SRC (absolute) from A to b:DEST and wait; returns
# xferctl's exit code (output on stdout); PAIR_JOB is the newest job's id afterwards.
pair_push() {
	local src=$1 dest=$2 rc=0 t0=$EPOCHREALTIME
	shift 2
	PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl a push "$src" "b:$dest" --wait "$@" || rc=$?
	pair_log "push ${src#"$PAIR_DIR"/} -> b:$dest: exit $rc in $(pair_since "$t0")s"
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		pair_fail "push $src b:$dest: not done in ${PAIR_PUSH_TIMEOUT}s"
	fi
	# The newest job is this push's: one client at a time drives A in these tests.
	pair_json a 'max(j["jobs"], key=lambda x: x["id"])' jobs >"$PAIR_DIR/job.json" ||
		pair_fail "cannot read jobs"
	PAIR_JOB=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' \
		"$PAIR_DIR/job.json") || pair_fail "cannot read the job id"
	pair_log "job $PAIR_JOB: $(python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(" ".join("%s=%s" % (k, j[k]) for k in ("state", "files_total", "files_sent",
      "files_uptodate", "files_failed", "bytes_done", "wire_bytes_sent", "retransmits")))' \
		"$PAIR_DIR/job.json")"
	return "$rc"
}

# pair_wait_job FIELD FRAC LAST: until A's first job with an id above LAST has FIELD (a
# byte count of `xferctl jobs`) at FRAC of its bytes_total or more; prints its id. One
# Python process polls every 5 ms, so that a loaded machine still samples often. Returns
# 1 if the job ended first, 2 if it did not get there in 60 s.
pair_wait_job() {
	python3 - "$PAIR_XFERCTL" "$PAIR_DIR/a.sock" "$1" "$2" "$3" <<-'PY'
		import json, subprocess, sys, time
		ctl, sock, field = sys.argv[1], sys.argv[2], sys.argv[3]
		frac, last = float(sys.argv[4]), int(sys.argv[5])
		end = time.monotonic() + 60
		while time.monotonic() < end:
		    out = subprocess.run([ctl, "-s", sock, "--json", "jobs"], capture_output=True,
		                         timeout=20).stdout
		    jobs = [x for x in json.loads(out)["jobs"] if x["id"] > last]
		    if jobs and jobs[0]["state"] not in ("queued", "running"):
		        sys.exit(1)
		    if jobs and jobs[0][field] >= frac * jobs[0]["bytes_total"]:
		        print(jobs[0]["id"])
		        sys.exit(0)
		    time.sleep(0.005)
		sys.exit(2)
	PY
}

# pair_expect_io SIDE DIR WHAT: the back end xferd reports for DIR (WHAT: "volume" from
# SIDE's stats, or "job" from the last job) is PAIR_IO if set, else what transfer.io auto
# gives DIR's file system: inline on tmpfs, ramfs and XFS, io_uring elsewhere for a
# volume (with all but fsync routed inline), and inline for a job's reads everywhere
# (docs/PIPELINE.md, "Which operation runs where").
pair_expect_io() {
	local side=$1 dir=$2 what=$3 want got
	want=${PAIR_IO:-}
	if [ -z "$want" ]; then
		case $(stat -f -c %T "$dir") in
		tmpfs | ramfs | xfs) want=inline ;;
		*) [ "$what" = volume ] && want=io_uring || want=inline ;;
		esac
	fi
	if [ "$what" = volume ]; then
		got=$(pair_json "$side" 'j["volumes"][0]["io"]' stats) || pair_fail "cannot read $side's stats"
	else
		got=$(pair_job_field io)
	fi
	[ "$got" = "$want" ] || pair_fail "$what I/O for $dir ($(stat -f -c %T "$dir")) is $got, expected $want"
}

# pair_job_field FIELD: one counter of the last pushed job, as it was when it ended.
pair_job_field() {
	python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))[sys.argv[2]]).strip(chr(34)))' \
		"$PAIR_DIR/job.json" "$1" || pair_fail "cannot read field $1 of job $PAIR_JOB"
}

# pair_expect_field FIELD EXPECTED: fail unless the last job's FIELD is EXPECTED.
pair_expect_field() {
	local v
	v=$(pair_job_field "$1")
	[ "$v" = "$2" ] || pair_fail "job $PAIR_JOB: $1 is $v, expected $2"
}

# pair_verify SRC DST: DST is a byte-identical copy of SRC with modes, mtimes and symlinks,
# checked independently of xferd: rsync's itemized dry run lists nothing, diff -r agrees.
pair_verify() {
	local src=$1 dst=$2 out t0=$EPOCHREALTIME
	[ -d "$dst" ] || pair_fail "verify: $dst is not a directory"
	out=$(timeout 300 rsync -a -n -i --checksum -- "$src/" "$dst/" 2>&1) ||
		pair_fail "verify: rsync failed: $out"
	if [ -n "$out" ]; then
		echo "$out" | head -n 40 >&2
		pair_fail "verify: rsync -a -n -i --checksum $src/ $dst/ lists $(echo "$out" | wc -l) differences"
	fi
	# The other direction: nothing extra in DST (xferd's own .xferd dir lives at the volume
	# root, never inside a destination below it).
	out=$(timeout 300 rsync -a -n -i --checksum --delete --exclude=/.xferd -- "$src/" "$dst/" 2>&1) ||
		pair_fail "verify: rsync --delete failed: $out"
	if [ -n "$out" ]; then
		echo "$out" | head -n 40 >&2
		pair_fail "verify: $dst has entries $src has not"
	fi
	out=$(timeout 300 diff -r --no-dereference -x .xferd -- "$src" "$dst" 2>&1) || {
		echo "$out" | head -n 40 >&2
		pair_fail "verify: diff -r $src $dst differs"
	}
	pair_log "verified ${dst#"$PAIR_DIR"/} in $(pair_since "$t0")s"
}

# pair_stop: `xferctl shutdown` to B, then (once B has exited) to A; both must exit 0 in
# time. One after the other: DPDK 22.11's net_memif is not safe against both ends
# stopping at once. The later one's rte_eth_dev_stop then races its own interrupt thread,
# which is handling the peer's disconnect, and both free the device's memory: A then dies
# of SIGSEGV at exit (xferd's fatal-signal report: xf_engine_destroy -> xf_port_stop ->
# rte_eth_dev_stop -> memif -> rte_free). docs/OPERATIONS.md, "Stopping".
pair_stop() {
	local side pid rc deadline
	deadline=$((SECONDS + PAIR_STOP_TIMEOUT))
	for side in b a; do
		pair_ctl "$side" shutdown >/dev/null || pair_fail "xferctl shutdown $side failed"
		if [ "$side" = a ]; then pid=$PAIR_PID_A; else pid=$PAIR_PID_B; fi
		while kill -0 "$pid" 2>/dev/null; do
			[ "$SECONDS" -lt "$deadline" ] || pair_fail "xferd $side did not exit in ${PAIR_STOP_TIMEOUT}s"
			sleep 0.02
		done
		rc=0
		wait "$pid" || rc=$?
		if [ "$side" = a ]; then PAIR_PID_A=; else PAIR_PID_B=; fi
		[ "$rc" -eq 0 ] || pair_fail "xferd $side exited $rc"
	done
}

pair_pass() {
	if [ -n "$PAIR_PID_A$PAIR_PID_B" ]; then
		pair_stop
	fi
	PAIR_PASSED=1
	echo "$PAIR_NAME: PASS (${SECONDS}s)" >&2
	exit 0
}

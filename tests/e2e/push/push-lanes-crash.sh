#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A crash with lanes (docs/PIPELINE.md, "Lanes"): 2 RX cores and 2 workers on each side,
# a push of 2 lanes paced so that it lasts seconds, the receiver killed with SIGKILL once
# some files are committed.
# - every final path holds the old or the new version of its file, never a mix;
# - the files at their new version are a prefix of each lane's list: the tree is one
#   directory of NFILES files of one size, so the list is their names in byte order and
#   the split (docs/ENGINE.md, "Lanes") cuts it in two halves of equal weight;
# - the kill came while at least one lane was partly committed (else it proves nothing);
# - how far each lane had got is printed (that the sender reads in list order, so a
#   lane commits as its data comes, is unit-push's "paced: reads asked oldest file
#   first", in simulated time: a ratio of wall-clock progress is not asserted here);
# - with the receiver back, a push of 2 lanes makes the tree identical, and the
#   receiver's staging directory is empty;
# - xferctl cancel of a push of 2 lanes cancels both: the job ends cancelled, the
#   receiver's sessions end, and neither lane reached its end.
#
#   push-lanes-crash.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-lanes-crash "${1:?usage: push-lanes-crash.sh XFERD XFERCTL}" "${2:?}"
: "${NFILES:=200}"
T=$PAIR_DIR
CORES=(--set 'cores.rx=[1, 2]' --set 'cores.workers=[1, 2]')
# 8 Mbit/s per lane: 200 files of 64 KiB take about 7 s; A gives up on the killed
# session after 3 s.
PACE=(--set session.rate_mbit=8 --set session.timeout_ms=3000)
pair_start "${CORES[@]}" "${PACE[@]}"

python3 - "$T/src" "$NFILES" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(2222)
os.makedirs(root)
for i in range(n):
    with open(os.path.join(root, "f%04d" % i), "wb") as f:
        f.write(rng.randbytes(65536))
PY
# new_version SEED [SIZE]: a new version of every file at A (other bytes, SIZE bytes,
# 65536 by default, 7 s later mtime).
new_version() {
	python3 - "$T/src" "$1" "${2:-65536}" <<-'PY'
	import os, random, sys
	rng = random.Random(int(sys.argv[2]))
	for name in sorted(os.listdir(sys.argv[1])):
	    p = os.path.join(sys.argv[1], name)
	    with open(p, "wb") as f:
	        f.write(rng.randbytes(int(sys.argv[3])))
	    st = os.stat(p)
	    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 7_000_000_000))
	PY
}

# B's old version (crash_once puts it in place), then a new version of every file at A
# (other bytes, a later mtime).
cp -a "$T/src" "$T/old"
new_version 2223

# crash_once: B's tree at its old version, a push of 2 lanes, B killed by SIGKILL once a
# quarter of the files are at their new version; then the per-lane prefix rule checked.
# Returns 3 when no lane was partly committed at the kill, or every file was committed
# before it (each lane's commits can come as one burst when its chain waited: the kill
# then proves nothing, and the caller tries again), 0 otherwise.
crash_once() {
	rm -rf "${PAIR_VOL_B:?}/tree" && cp -a "$T/old" "$PAIR_VOL_B/tree"
	# The killer first (it polls B's tree and sends SIGKILL itself once a quarter of the
	# files are at their new version: a loaded machine still samples every few
	# milliseconds), then the push.
	xferd_b=$(pgrep -P "$PAIR_PID_B" -x xferd) || pair_fail "no xferd under $PAIR_PID_B"
	python3 - "$PAIR_VOL_B/tree" "$T/src" "$xferd_b" >"$T/kill.out" 2>&1 <<-'PY' &
	import os, signal, sys, time
	b, src, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
	names = sorted(os.listdir(src))
	want = {n: os.stat(os.path.join(src, n)).st_mtime_ns for n in names}
	end = time.monotonic() + 60
	while time.monotonic() < end:
	    new = sum(os.stat(os.path.join(b, n)).st_mtime_ns == want[n] for n in names)
	    if new >= len(names) // 4:
	        os.kill(pid, signal.SIGKILL)
	        sys.exit(1 if new == len(names) else 0)
	    time.sleep(0.002)
	sys.exit(2)
	PY
	kill_pid=$!
	PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl a push "$T/src" b:tree --lanes 2 --wait \
		>"$T/push1.out" 2>&1 &
	push_pid=$!
	rc=0
	wait "$kill_pid" || rc=$?
	[ "$rc" -le 1 ] || pair_fail "no moment to kill B: a quarter not committed in 60 s"
	wait "$PAIR_PID_B" 2>/dev/null || true
	PAIR_PID_B=
	if [ "$rc" -eq 1 ]; then
		# Every file was committed between two looks (one burst): nothing to judge.
		wait "$push_pid" || true
		echo "every file committed at once" >&2
		return 3
	fi
	wait "$push_pid" && pair_fail "the push succeeded with its receiver killed: $(cat "$T/push1.out")"
	grep -q "lane [01] of 2\|directory pass" "$T/push1.out" ||
		pair_fail "the push's error names no lane: $(cat "$T/push1.out")"

	# What the crash left: old or new, and the new ones a prefix of each half.
	rc=0
	python3 - "$PAIR_VOL_B/tree" "$T/src" "$T/old" <<-'PY' || rc=$?
	import os, sys
	b, src, old = sys.argv[1:4]
	names = sorted(os.listdir(src), key=os.fsencode)
	state = []
	for n in names:
	    got = open(os.path.join(b, n), "rb").read()
	    if got == open(os.path.join(src, n), "rb").read():
	        state.append(1)
	    elif got == open(os.path.join(old, n), "rb").read():
	        state.append(0)
	    else:
	        sys.exit("%s holds neither the old nor the new version" % n)
	half = len(names) // 2
	lanes = [state[:half], state[half:]]
	done = [sum(l) for l in lanes]
	print("new versions per lane after the crash: %s of %d" % (done, half), file=sys.stderr)
	for k, l in enumerate(lanes):
	    if l != [1] * done[k] + [0] * (len(l) - done[k]):
	        sys.exit("lane %d: new versions are not a prefix: %s" % (k, "".join(map(str, l))))
	if all(d in (0, half) for d in done):
	    print("no lane was partly committed at the kill: %s" % done, file=sys.stderr)
	    sys.exit(3)
	PY
	[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || pair_fail "the crash broke the per-lane prefix rule"
	return "$rc"
}

# restart_b: B back (its temps were unnamed or are removed at start).
restart_b() {
	: >"$T/b.out"
	deadline=$((SECONDS + PAIR_READY_TIMEOUT))
	pair_start_one b client "${CORES[@]}" "${PACE[@]}"
	pair_wait_ready_line b "$PAIR_PID_B" "$deadline"
	pair_wait_link b "$PAIR_PID_B" "$deadline"
}

for try in 1 2 3; do
	rc=0
	crash_once || rc=$?
	restart_b
	[ "$rc" -eq 3 ] || break
	[ "$try" -lt 3 ] || pair_fail "no lane was partly committed at the kill, in 3 tries"
	pair_log "try $try: no lane partly committed at the kill; again"
done

# The next push completes it.
pair_push "$T/src" tree --lanes 2 >/dev/null || pair_fail "the push after the crash: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_verify "$T/src" "$PAIR_VOL_B/tree"
[ -z "$(ls -A "$PAIR_VOL_B/.xferd/tmp")" ] || pair_fail "left in B's staging directory: $(ls -A "$PAIR_VOL_B/.xferd/tmp")"

# xferctl cancel of the job cancels every lane: the job ends cancelled, B's sessions all
# end, and neither lane went on to its end. Files of 256 KiB: a lane needs 26 s at its
# 8 Mbit/s, far more than a loaded machine takes to see the job start and cancel it (at
# 64 KiB, 6.5 s a lane, one lane once finished first at load 20).
new_version 2224 262144
id=$(pair_json a 'j["job"]' push "$T/src" b:tree --lanes 2) || pair_fail "push to cancel"
deadline=$((SECONDS + 30))
until [ "$(pair_json a "[x for x in j['jobs'] if x['id'] == $id][0]['wire_bytes_sent'] > 0" jobs)" = true ]; do
	[ "$SECONDS" -lt "$deadline" ] || pair_fail "job $id sent nothing in 30 s"
	sleep 0.02
done
pair_ctl a cancel "$id" >/dev/null || pair_fail "cancel $id"
deadline=$((SECONDS + 10))
until [ "$(pair_json a "[x for x in j['jobs'] if x['id'] == $id][0]['state']" jobs)" = cancelled ]; do
	[ "$SECONDS" -lt "$deadline" ] || pair_fail "job $id not cancelled in 10 s: $(pair_ctl a jobs)"
	sleep 0.02
done
[ "$(pair_json a "[x for x in j['jobs'] if x['id'] == $id][0]['error']" jobs)" = cancelled ] ||
	pair_fail "job $id: error is not 'cancelled'"
deadline=$((SECONDS + 10))
until [ "$(pair_json b 'len(j["sessions"])' sessions)" -eq 0 ]; do
	[ "$SECONDS" -lt "$deadline" ] || pair_fail "B still serves sessions 10 s after the cancel"
	sleep 0.02
done
python3 - "$PAIR_VOL_B/tree" "$T/src" <<'PY' || pair_fail "a lane went on after the cancel"
import os, sys
b, src = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(src), key=os.fsencode)
new = [os.stat(os.path.join(b, n)).st_mtime_ns == os.stat(os.path.join(src, n)).st_mtime_ns
       for n in names]
half = len(names) // 2
done = [sum(new[:half]), sum(new[half:])]
print("new versions per lane after the cancel: %s of %d" % (done, half), file=sys.stderr)
sys.exit(0 if max(done) < half else 1)
PY

pair_pass

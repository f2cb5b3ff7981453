#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Apply by clone under trouble, on XFS (docs/DELTA.md, "Apply by clone"). A tree of
# 1 MiB files, copied to B, is changed (4 x 100 B per file) and pushed as DELTA, paced
# (1 Mbit/s) so that the push lasts seconds; meanwhile a watcher scans B's destination
# and fails on the first final path that is neither the old nor the new version.
#  1. Bases changed in place mid-push (every file B has not replaced yet, mtimes put
#     back): none is committed as a mix. A file whose basis changed after its
#     signatures is rebuilt from the kept basis as A has it, or fails its CRC-64 and is
#     sent again whole (the push is cancelled once one is: at this pace that takes
#     minutes), or fails; one changed before its signatures is simply the basis. The
#     next push makes the tree identical. (tests/unit/pipeline changes a basis at
#     the exact moment, after its signatures and before its COPY ops.)
#  2. ROUNDS times (default 2): B killed (SIGKILL) at a seeded moment of the DELTA push
#     (a kill after B's last commit does not count: the next moment is tried, up to
#     2 x ROUNDS), the tree completed: no final path ever held a partial file, the
#     tree ends identical, and B's temp directory is empty once it is back.
# B must report COPY ops by clone, and clone.
#
#   delta-crash.sh XFERD XFERCTL      (XF_CRASH_SEED=N picks other moments)
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
: "${PAIR_FS:=xfs}"
pair_init e2e-delta-crash "${1:?usage: delta-crash.sh XFERD XFERCTL}" "${2:?}"
: "${ROUNDS:=2}"
: "${NFILES:=64}"
seed=${XF_CRASH_SEED:-2107}
watcher=$PAIR_LIB_DIR/../net/watcher.py
T=$PAIR_DIR

# Paced so that a DELTA push of the tree lasts seconds; A gives up on a killed session
# after 4 s. The pushes that complete the tree (whole files among them) run unpaced:
# the pair is restarted for them (restart paced|unpaced).
PACED=(--set session.rate_mbit=1 --set session.timeout_ms=4000)
restart() {
	[ -z "$PAIR_PID_A$PAIR_PID_B" ] || pair_stop
	: >"$T/a.out"
	: >"$T/b.out"
	if [ "$1" = paced ]; then pair_start "${PACED[@]}"; else pair_start; fi
}
# complete WHAT: push the tree unpaced, then the tree is identical; back to paced.
complete() {
	restart unpaced
	pair_push "$T/src" tree >"$T/push.out" || pair_fail "$1: completing the tree failed: $(cat "$T/push.out")"
	pair_expect_field files_failed 0
	pair_verify "$T/src" "$PAIR_VOL_B/tree"
	sync -f "$PAIR_VOL_B/tree" # written back: bases not written back are not cloned
	restart paced
}
pair_start "${PACED[@]}"

# mktree SEED: the tree under $T/src, NFILES files of 1 MiB of seeded random bytes.
python3 - "$T/src" "$NFILES" "$seed" <<'PY'
import os, random, sys
root, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
os.makedirs(root)
for i in range(n):
    with open(os.path.join(root, "f%03d.bin" % i), "wb") as f:
        f.write(rng.randbytes(1 << 20))
PY

# change TAG: 4 runs of 100 bytes per file at seeded offsets, mtimes moved on.
change() {
	python3 - "$T/src" "$seed" "$1" <<-'PY'
		import os, random, sys
		root, seed, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
		rng = random.Random("%s-%s" % (seed, tag))
		for name in sorted(os.listdir(root)):
		    p = os.path.join(root, name)
		    with open(p, "r+b") as f:
		        for _ in range(4):
		            f.seek(rng.randrange(0, (1 << 20) - 100))
		            f.write(rng.randbytes(100))
		    st = os.stat(p)
		    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 7_000_000_000))
	PY
}

# wait_committed FRAC [PID]: until FRAC of B's files have the source's mtime, i.e. are
# committed (A learns of commits late: B's acknowledgements queue behind its paced
# signatures); then SIGKILL to PID, at once, if given. 0: reached, 1: every file was
# committed at once, 2: timeout.
wait_committed() {
	python3 - "$PAIR_VOL_B/tree" "$T/src" "$1" "${2:-0}" <<-'PY'
		import os, signal, sys, time
		b, src, frac, pid = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
		names = sorted(os.listdir(src))
		want = {n: os.stat(os.path.join(src, n)).st_mtime_ns for n in names}
		end = time.monotonic() + 60
		while time.monotonic() < end:
		    new = 0
		    for n in names:
		        try:
		            new += os.stat(os.path.join(b, n)).st_mtime_ns == want[n]
		        except FileNotFoundError:
		            pass
		    if new >= frac * len(names) and pid:
		        os.kill(pid, signal.SIGKILL)
		    if new == len(names):
		        sys.exit(1)
		    if new >= frac * len(names):
		        sys.exit(0)
		    time.sleep(0.002)
		sys.exit(2)
	PY
}

# B's old version: a plain copy (a whole push would take minutes at this pace).
cp -a --reflink=never "$T/src" "$PAIR_VOL_B/tree"
sync -f "$PAIR_VOL_B/tree" # written back: bases not written back are not cloned
apply=$(pair_json b 'j["volumes"][0]["apply"]' stats) || pair_fail "cannot read B's stats"
[ "$apply" = clone ] || pair_fail "B applies COPY ops by $apply on $PAIR_FS, not clone"

watch_pid=
# The watcher goes with the test, whatever ends it; pair_cleanup then stops the daemons
# and unmounts (set +e: a failing step of the trap must not skip it).
trap 'rc=$?; set +e; [ -z "$watch_pid" ] || { kill "$watch_pid"; wait "$watch_pid"; } 2>/dev/null; (exit $rc); pair_cleanup' EXIT
# watch_start: scan B's tree against the new (src) and the old (old) versions.
watch_start() {
	rm -f "$T/watch.stop"
	python3 "$watcher" "$T/src" "$PAIR_VOL_B/tree" "$T/watch.stop" "$T/old" \
		>"$T/watch.out" 2>&1 &
	watch_pid=$!
}
watch_stop() {
	local rc=0
	touch "$T/watch.stop"
	wait "$watch_pid" || rc=$?
	watch_pid=
	[ "$rc" -eq 0 ] || pair_fail "$1: a final path held a partial or mixed file: $(cat "$T/watch.out")"
}

# 1. Bases changed at B while the DELTA push runs: every file not yet replaced (its
# mtime is still the old one) gets one byte changed in place, size and mtime kept (only
# the ctime tells), once a tenth of the files are committed. The watcher accepts the old
# version, the new one, and the changed basis (made beforehand in $T/changed), but no
# mix of them.
rm -rf "$T/old" "$T/changed"
cp -a "$PAIR_VOL_B/tree" "$T/old"
cp -a "$PAIR_VOL_B/tree" "$T/changed"
python3 - "$T/changed" <<'PY'
import os, sys
for name in os.listdir(sys.argv[1]):
    p = os.path.join(sys.argv[1], name)
    with open(p, "r+b") as f:
        f.seek(4096)
        b = f.read(1)
        f.seek(4096)
        f.write(bytes([b[0] ^ 0xFF]))
PY
change 1
rm -f "$T/watch.stop"
python3 "$watcher" "$T/src" "$PAIR_VOL_B/tree" "$T/watch.stop" "$T/old" "$T/changed" \
	>"$T/watch.out" 2>&1 &
watch_pid=$!
PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl a push "$T/src" b:tree --wait >"$T/push1.out" 2>&1 &
push_pid=$!
rc=0
wait_committed 0.1 || rc=$?
[ "$rc" -eq 0 ] || pair_fail "the DELTA push ended (or stalled) before a tenth of it was committed"
# One byte each (a write a reader sees whole), through a descriptor opened before its
# mtime is looked at: a file replaced after that is not the one written to.
nchanged=$(python3 - "$PAIR_VOL_B/tree" "$T/changed" "$T/src" <<'PY'
import os, sys
b, changed, src = sys.argv[1:]
n = 0
for name in sorted(os.listdir(b)):
    with open(os.path.join(changed, name), "rb") as f:
        f.seek(4096)
        byte = f.read(1)
    fd = os.open(os.path.join(b, name), os.O_RDWR)
    try:
        st = os.fstat(fd)
        if st.st_mtime_ns == os.stat(os.path.join(src, name)).st_mtime_ns:
            continue  # already replaced
        os.pwrite(fd, byte, 4096)
        os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
        n += 1
    finally:
        os.close(fd)
print(n)
PY
)
# A file whose basis changed after its signatures and was not kept is sent again whole
# (docs/DELTA.md, "Sent again whole"): at this pace seconds per MiB. Once B has asked
# for one (or the push ended by itself), the push is cancelled; the watcher has looked
# all the while, and complete() below finishes the tree.
deadline=$((SECONDS + 60))
until [ "$(pair_json b 'j["delta"]["redone"]' stats)" -ge 1 ] || ! kill -0 "$push_pid" 2>/dev/null; do
	[ "$SECONDS" -lt "$deadline" ] || pair_fail "the push neither ended nor sent a file again in 60 s"
	sleep 0.05
done
redone=$(pair_json b 'j["delta"]["redone"]' stats)
job=$(pair_json a 'max(j["jobs"], key=lambda x: x["id"])["id"]' jobs)
pair_ctl a cancel "$job" >/dev/null 2>&1 || true # it may have ended: nothing to cancel
rc=0
wait "$push_pid" || rc=$?
failed=$(pair_json a 'max(j["jobs"], key=lambda x: x["id"])["files_failed"]' jobs)
changed=$(pair_json b 'j["delta"]["basis_changed"]' stats)
cloned=$(pair_json b 'j["delta"]["cloned_bytes"]' stats)
[ "$cloned" -gt 0 ] || pair_fail "B cloned nothing"
pair_log "$nchanged bases changed mid-push: push exit $rc, $failed files failed, B saw $changed bases change after their signatures and asked for $redone again whole"
[ "$nchanged" -gt 0 ] || pair_fail "every file was replaced before a tenth of the push: nothing changed"
[ "$failed" -le "$changed" ] || pair_fail "$failed files failed, more than the $changed bases B saw change"
watch_stop "bases changed"
complete "after the bases changed"

# 2. B killed mid-push, ROUNDS times at seeded moments.
mapfile -t moments < <(python3 -c 'import random, sys
r = random.Random(int(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    print(round(r.uniform(0.15, 0.75), 3))' "$seed" $((2 * ROUNDS)))
round=0
for ((attempt = 1; round < ROUNDS; attempt++)); do
	[ "$attempt" -le $((2 * ROUNDS)) ] || pair_fail "$ROUNDS kills mid-apply not reached in $((attempt - 1)) attempts"
	round=$((round + 1))
	frac=${moments[attempt - 1]}
	rm -rf "$T/old"
	cp -a "$PAIR_VOL_B/tree" "$T/old"
	change "a$attempt"
	watch_start
	PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl a push "$T/src" b:tree --wait >"$T/push1.out" 2>&1 &
	push_pid=$!
	rc=0
	xferd_b=$(pgrep -P "$PAIR_PID_B" -x xferd) || pair_fail "round $round: no xferd under $PAIR_PID_B"
	wait_committed "$frac" "$xferd_b" || rc=$?
	[ "$rc" -le 1 ] || pair_fail "round $round: $frac of the files not committed in 60 s"
	wait "$PAIR_PID_B" 2>/dev/null || true
	new=$(cd "$PAIR_VOL_B/tree" && for f in *; do if cmp -s "$f" "$T/src/$f"; then echo "$f"; fi; done | wc -l)
	pair_log "round $round: B killed at $frac of the files committed, $new files new"
	PAIR_PID_B=
	xferd_a=$(pgrep -P "$PAIR_PID_A" -x xferd) || pair_fail "round $round: no xferd under $PAIR_PID_A"
	kill -TERM "$xferd_a"
	wait "$PAIR_PID_A" 2>/dev/null || true
	PAIR_PID_A=
	wait "$push_pid" || true
	complete "round $round"
	watch_stop "round $round"
	if [ "$rc" -eq 1 ] || [ "$new" -eq "$NFILES" ]; then
		# B had committed every file (a loaded machine answers late): not a kill
		# mid-apply; again at the next moment.
		pair_log "round $round: the kill came after the last commit; again"
		round=$((round - 1))
		continue
	fi
	left=$(find "$PAIR_VOL_B/.xferd/tmp" -mindepth 1 2>/dev/null | head -n 5)
	[ -z "$left" ] || pair_fail "round $round: B's temp directory is not empty: $left"
done
pair_pass

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Resume inside a file (docs/PIPELINE.md, "Partial files"). Paced pushes (rate cap) are
# cut mid-file, and the next push of the same file uses what the receiver kept:
#  1. A 64 MiB file, B killed (SIGKILL) once it has written 90% of it: the
#     final path holds nothing; B started again finds the tagged temp file and keeps it
#     as a partial (`recovered` 1); the next push sends at most 20% of the file as
#     literal bytes, B used the partial as its basis (`used` 1, `bytes_saved` at least
#     70% of the file), the copy is identical and the partial is gone.
#  2. A 32 MiB file, its job cancelled at half way: B keeps the partial when the session
#     ends (`kept` 1). The source's mtime then changes: the next push does not use the
#     partial (`stale` 1, `used` still 1), sends the whole file, identical.
# Progress is polled (xferctl jobs / stats) with deadlines; no sleep stands for an event.
#
#   push-resume.sh XFERD XFERCTL      (PAIR_FS=xfs: on an XFS loop mount)
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-resume "${1:?usage: push-resume.sh XFERD XFERCTL}" "${2:?}"
MiB=$((1024 * 1024))
src=$PAIR_DIR/src
mkdir -p "$src/r1" "$src/r2"
python3 - "$src/r1/big" $((64 * MiB)) "$src/r2/other" $((32 * MiB)) <<'PY'
import random, sys
for path, size in zip(sys.argv[1::2], sys.argv[2::2]):
    r = random.Random(path.encode())
    with open(path, "wb") as f:
        left = int(size)
        while left:
            n = min(left, 1 << 20)
            f.write(r.randbytes(n))
            left -= n
PY
# About 12 MB/s: the 64 MiB push takes about 5 s, room to stop it at 90%. A gives up on
# the killed session after 4 s.
pair_start --set session.rate_mbit=100 --set session.timeout_ms=4000

# partial KEY: B's stats counter delta.partial.KEY.
partial() {
	pair_json b "j['delta']['partial']['$1']" stats || pair_fail "cannot read B's stats"
}

# partial_kept: B has kept one partial (the cancelled file's).
# shellcheck disable=SC2317 # called through wait_for
partial_kept() { [ "$(partial kept)" = 1 ]; }

# wait_for DESC CMD...: poll CMD until it succeeds, at most 30 s.
wait_for() {
	local desc=$1 deadline=$((SECONDS + 30))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || pair_fail "not in 30 s: $desc"
		sleep 0.05
	done
}

last_job() {
	pair_json a 'max([x["id"] for x in j["jobs"]], default=0)' jobs || pair_fail "cannot read A's jobs"
}

# written: the file bytes B's volumes have written (volumes[].bytes_written).
written() {
	pair_json b 'sum(v["bytes_written"] for v in j["volumes"])' stats || pair_fail "cannot read B's stats"
}

# wait_written JOB_AFTER BASE BYTES: poll until B has written BYTES more than BASE, or A's
# newest job after JOB_AFTER ended (exit 1), at most 60 s (exit 2); prints that job's id.
# B's writes, not A's bytes_done: A's window lets it run tens of MB ahead of what B's
# workers have written (with io_uring on XFS most of all), and only written bytes make
# a partial.
wait_written() {
	python3 - "$PAIR_XFERCTL" "$PAIR_DIR/a.sock" "$PAIR_DIR/b.sock" "$1" "$2" "$3" <<-'PY'
		import json, subprocess, sys, time
		ctl, a, b = sys.argv[1:4]
		last, base, want = (int(x) for x in sys.argv[4:7])
		q = lambda s, c: json.loads(subprocess.run([ctl, "-s", s, "--json", c],
		                                           capture_output=True, timeout=20).stdout)
		end = time.monotonic() + 60
		while time.monotonic() < end:
		    jobs = [x for x in q(a, "jobs")["jobs"] if x["id"] > last]
		    if jobs and jobs[0]["state"] not in ("queued", "running"):
		        sys.exit(1)
		    if jobs and sum(v["bytes_written"] for v in q(b, "stats")["volumes"]) - base >= want:
		        print(jobs[0]["id"])
		        sys.exit(0)
		    time.sleep(0.005)
		sys.exit(2)
	PY
}

# cut_push SRC DEST FRAC SIZE: push SRC (SIZE bytes) to b:DEST in the background (its pid
# in push_pid) and return once B has written FRAC of it (the job's id in job). A push
# that ended before that was seen (a loaded machine samples late) does not count: its
# copy on B is removed and it runs again, three times at most.
cut_push() {
	local try rc last base
	for try in 1 2 3; do
		last=$(last_job)
		base=$(written)
		PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl a push "$1" "b:$2" --wait \
			>"$PAIR_DIR/cut.out" 2>&1 &
		push_pid=$!
		rc=0
		job=$(wait_written "$last" "$base" "$(python3 -c "print(int($3 * $4))")") || rc=$?
		[ "$rc" -ne 0 ] || return 0
		wait "$push_pid" || true
		[ "$rc" -eq 1 ] || pair_fail "the push of $2 did not reach $3 of its bytes in 60 s"
		pair_log "try $try: the push of $2 ended before $3 of its bytes were seen done; again"
		rm -rf "${PAIR_VOL_B:?}/$2"
	done
	pair_fail "the push of $2 was not cut at $3 in 3 tries"
}

# ---- 1: kill -9 of the receiver at 90% ----
size=$((64 * MiB))
cut_push "$src/r1" r1 0.9 $((64 * MiB))
xferd_b=$(pgrep -P "$PAIR_PID_B" -x xferd) || pair_fail "no xferd under $PAIR_PID_B"
kill -KILL "$xferd_b"
wait "$PAIR_PID_B" 2>/dev/null || true
[ ! -e "$PAIR_VOL_B/r1/big" ] || pair_fail "kill -9 left a file at the final path"
tagged=$(find "$PAIR_VOL_B/.xferd/tmp" -type f | wc -l)
[ "$tagged" -eq 1 ] || pair_fail "expected one temp file after the kill, found $tagged"
rc=0
wait "$push_pid" || rc=$?
[ "$rc" -ne 0 ] || pair_fail "the first push completed although B was killed"
: >"$PAIR_DIR/b.out"
deadline=$((SECONDS + PAIR_READY_TIMEOUT))
pair_start_one b client --set session.rate_mbit=100 --set session.timeout_ms=4000
pair_wait_ready_line b "$PAIR_PID_B" "$deadline"
pair_wait_link b "$PAIR_PID_B" "$deadline"
[ "$(partial recovered)" = 1 ] || pair_fail "B did not keep the killed run's temp file: recovered $(partial recovered)"
kept=$(find "$PAIR_VOL_B/.xferd/partial" -type f -printf '%s\n')
[ -n "$kept" ] || pair_fail "no partial file in .xferd/partial"
pair_log "B restarted: partial of $kept bytes kept"
[ ! -e "$PAIR_VOL_B/r1/big" ] || pair_fail "a file at the final path after the restart"
pair_push "$src/r1" r1 >"$PAIR_DIR/push2.out" || pair_fail "the resumed push failed: $(cat "$PAIR_DIR/push2.out")"
pair_expect_field state done
pair_expect_field files_failed 0
literal=$(pair_job_field bytes_literal)
matched=$(pair_job_field bytes_matched)
pair_log "resumed push: literal $literal B, matched $matched B of $size; B used $(partial used), saved $(partial bytes_saved) B"
[ "$literal" -le $((size / 5)) ] || pair_fail "the resumed push sent $literal literal bytes (more than 20% of $size)"
[ "$(partial used)" = 1 ] || pair_fail "partial used $(partial used), expected 1"
[ "$(partial bytes_saved)" -ge $((size * 7 / 10)) ] || pair_fail "bytes_saved $(partial bytes_saved) below 70% of $size"
[ "$(partial bytes_saved)" -eq "$matched" ] || pair_fail "bytes_saved $(partial bytes_saved) is not the job's matched $matched"
pair_verify "$src/r1" "$PAIR_VOL_B/r1"
left=$(find "$PAIR_VOL_B/.xferd/partial" "$PAIR_VOL_B/.xferd/tmp" -mindepth 1 | head -n 3)
[ -z "$left" ] || pair_fail "left after the commit: $left"

# ---- 2: cancel at half way, then the source changes ----
cut_push "$src/r2" r2 0.5 $((32 * MiB))
pair_ctl a cancel "$job" >/dev/null || pair_fail "cancel $job failed"
wait "$push_pid" || true
wait_for "B keeps the cancelled file's partial" partial_kept
[ ! -e "$PAIR_VOL_B/r2/other" ] || pair_fail "a cancelled file at its final path"
touch -d '2020-01-02 03:04:05' "$src/r2/other"
pair_push "$src/r2" r2 >"$PAIR_DIR/push4.out" || pair_fail "the push after the change failed: $(cat "$PAIR_DIR/push4.out")"
pair_expect_field state done
literal=$(pair_job_field bytes_literal)
[ "$literal" -eq $((32 * MiB)) ] || pair_fail "another version's partial served: literal $literal"
[ "$(partial stale)" = 1 ] || pair_fail "partial stale $(partial stale), expected 1"
[ "$(partial used)" = 1 ] || pair_fail "partial used $(partial used), expected still 1"
pair_verify "$src/r2" "$PAIR_VOL_B/r2"
left=$(find "$PAIR_VOL_B/.xferd/partial" -mindepth 1 | head -n 3)
[ -z "$left" ] || pair_fail "left after the commit: $left"
pair_pass

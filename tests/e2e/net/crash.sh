#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The receiver dies (SIGKILL) in the middle of a push of small and large files; started
# again, a second push completes the tree identical, finding the files committed before
# the crash up to date. A watcher scans the destination during both pushes and fails on
# the first file at a final path that is not byte-identical to its source; afterwards
# the receiver's temp directory (VOLUME/.xferd/tmp) must be empty.
#
#   crash.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-crash "${1:-}" "${2:-}"
here=$(cd "$(dirname "$0")" && pwd)

xfn_ns a
xfn_ns b
xfn_veth a "${XFN_TAG}a" b "${XFN_TAG}b"
# A paces its push (so the kill lands in its middle) and gives up on a silent peer soon.
xfn_start A a "${XFN_TAG}a" 10.213.12.1/24 10.213.12.2 --set session.rate_mbit=40 \
	--set session.timeout_ms=2000
start_b() {
	xfn_start B b "${XFN_TAG}b" 10.213.12.2/24 10.213.12.1
}
start_b
xfn_mktree "$T/src" 777 3000 6
total=$(find "$T/src" -type f | wc -l)

mkdir -p "$T/B/tree"
python3 "$here/watcher.py" "$T/src" "$T/B/tree" "$T/watch.stop" >"$T/watch.out" 2>&1 &
watch_pid=$!

t0=$(date +%s%N)
xfn_ctl A push "$T/src" peer:tree --wait >"$T/push1.out" 2>&1 &
push_pid=$!
# Wait (bounded) until about a third of the files are committed, then kill B.
for _ in $(seq 600); do
	done_files=$(find "$T/B/tree" -type f | wc -l)
	[ "$done_files" -ge $((total / 3)) ] && break
	kill -0 "$push_pid" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$push_pid" 2>/dev/null || xfn_fail "the first push ended before the crash"
xfn_kill9 B
echo "$XFN_NAME: killed B with $done_files of $total files at their final paths," \
	"$(find "$T/B/.xferd/tmp" -mindepth 1 2>/dev/null | wc -l) entries in its temp directory"
kill -0 "$watch_pid" 2>/dev/null || xfn_fail "watcher: $(cat "$T/watch.out")"

rc=0
wait "$push_pid" || rc=$?
[ "$rc" -ne 0 ] || xfn_fail "the first push succeeded although its receiver was killed"
echo "$XFN_NAME: first push ended with status $rc: $(xfn_q A jobs "r['jobs'][-1]['error']")"

start_b
rc=0
xfn_ctl A push "$T/src" peer:tree --wait >"$T/push2.out" 2>&1 || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
cat "$T/push2.out"
[ "$rc" -eq 0 ] || xfn_fail "the second push exited with status $rc"
touch "$T/watch.stop"
rc=0
wait "$watch_pid" || rc=$?
cat "$T/watch.out"
[ "$rc" -eq 0 ] || xfn_fail "the watcher found a partial file at a final path"

read -r sent uptodate failed < <(xfn_q A jobs \
	"' '.join(str(r['jobs'][-1][k]) for k in ('files_sent', 'files_uptodate', 'files_failed'))")
echo "$XFN_NAME: second push: files_sent=$sent files_uptodate=$uptodate files_failed=$failed ($ms ms for both)"
xfn_same "$T/src" "$T/B/tree"
[ "$uptodate" -gt 0 ] || xfn_fail "the second push found no file up to date"
left=$(find "$T/B/.xferd/tmp" -mindepth 1 2>/dev/null | head -n 5)
[ -z "$left" ] || xfn_fail "$T/B/.xferd/tmp is not empty after the second push:
$left"
xfn_stop A
xfn_stop B
echo "$XFN_NAME: PASS"

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A receiver whose storage stalls longer than the session timeout keeps its session:
# B's first commit rename completes 8 s late (volumes[].fault.rename_hold_ms, a step
# stalled behind its disk), with a 3 s session timeout on both sides (wide enough that a
# loaded machine's own pauses do not reach it, short enough that the hold does). Frames pile up
# behind the stalled commit; once B leaves them in the NIC queue it keeps its session
# alive and ACKs every keep-alive interval (docs/RELIABILITY.md,
# "Session timers"). The push must complete, identical, with no session timed out.
# (The hold delays the commits: the worker goes on polling meanwhile, while its paused
# batch waits for the rename; the pipeline fills, B leaves frames in the NIC queue.)
#
#   push-stall.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-stall "${1:?usage: push-stall.sh XFERD XFERCTL}" "${2:?}"
src=$PAIR_DIR/src
files=6000
python3 "$PAIR_LIB_DIR/mktree.py" many "$src" --files "$files" --dirs 120 --max-size 2048 \
	--seed 4242 >/dev/null
# The hold is an io_uring completion held back: force that back end (tmpfs would pick
# inline, where steps run in the caller and nothing can be held).
pair_start --set transfer.io=io_uring --set volumes[0].fault.rename_hold_ms=8000 \
	--set session.timeout_ms=3000 --set session.keepalive_ms=300 \
	--set session.window_files=8192
pair_push "$src" many >/dev/null || pair_fail "push: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_sent "$files"
pair_verify "$src" "$PAIR_VOL_B/many"
for side in a b; do
	to=$(pair_ctl "$side" --json stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["dataplane"]["sessions_timed_out"])')
	[ "$to" -eq 0 ] || pair_fail "$side timed out $to session(s)"
done
pair_pass

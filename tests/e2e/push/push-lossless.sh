#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A lossless link retransmits nothing (docs/RELIABILITY.md, "Lossless links"). net_memif
# never loses a frame on the wire, so a retransmission there means the sender outran the
# receiver or declared a loss that did not happen. Three seeded trees go from A to B:
#   deep  - thousands of small files nested deep (the shape of /usr/include);
#   large - a few large files;
#   mixed - perf/gen_mixed.py's realistic mix (sizes log-normal, symlinks, UTF-8 names).
# After each push: the copy is identical, the job retransmitted nothing, declared nothing
# lost and saw no spurious loss, and neither side's port missed or dropped a frame.
#
#   push-lossless.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-lossless "${1:?usage: push-lossless.sh XFERD XFERCTL}" "${2:?}"

t0=$EPOCHREALTIME
python3 "$PAIR_LIB_DIR/mktree.py" many "$PAIR_DIR/deep" --files 6000 --dirs 400 \
	--max-size 16384 --seed 18 >/dev/null
mkdir "$PAIR_DIR/large"
python3 "$PAIR_LIB_DIR/mktree.py" sizes "$PAIR_DIR/large" 50331648 16777216 9000000 \
	1048577 >/dev/null
python3 "$PAIR_SRC_ROOT/perf/gen_mixed.py" --seed 20 --files 3000 "$PAIR_DIR/mixed" >/dev/null
pair_log "generated the trees in $(pair_since "$t0")s"

# stat_sum SIDE: the counters that would show a frame lost between the two processes.
stat_sum() {
	pair_json "$1" 'j["ports"][0]["rx_missed"] + j["ports"][0]["tx_errors"]' stats
}

pair_start
for tree in deep large mixed; do
	pair_push "$PAIR_DIR/$tree" "$tree" >/dev/null || pair_fail "push $tree: exit $?"
	pair_expect_field state "done"
	pair_expect_field files_failed 0
	pair_log "$tree: retransmits=$(pair_job_field retransmits) lost=$(pair_job_field lost)" \
		"spurious=$(pair_job_field spurious) pto=$(pair_job_field pto)"
	pair_expect_field retransmits 0
	pair_expect_field lost 0
	pair_expect_field spurious 0
	pair_verify "$PAIR_DIR/$tree" "$PAIR_VOL_B/$tree"
done
for side in a b; do
	[ "$(stat_sum "$side")" = 0 ] || pair_fail "$side: the port missed or dropped frames"
	[ "$(pair_json "$side" 'j["dataplane"]["retransmits"]' stats)" = 0 ] ||
		pair_fail "$side: receive sessions retransmitted"
done
pair_pass

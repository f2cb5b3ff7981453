#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The dev pair over an emulated WAN: the fault stage of both ports (ports[].fault,
# docs/RELIABILITY.md "The port's fault stage") is a bottleneck of WAN_RATE_MBIT with
# WAN_DELAY_MS each way (RTT twice that) and a one-BDP drop-tail queue each way, with
# WAN_LOSS_PPM of random loss on the data (A to B) and WAN_BACK_LOSS_PPM on the
# acknowledgements and control frames (B to A; loss there stalled a push with every file
# committed, its COMMITs held by the receiver's pacer: docs/RELIABILITY.md, "Loss on the
# return path"). A tree of a
# few large and many small files goes from A to B with WAN_CC congestion control: it
# arrives identical, A's link dropped frames at random and the job retransmitted, and
# the goodput (the tree's bytes over the job's duration) reaches WAN_MIN_PERCENT of the
# bottleneck and never exceeds it (the stage shapes), the job's smoothed RTT is at least
# 3/4 of the emulated RTT (the stage delays) and its min RTT at least WAN_MIN_RTT_PERCENT
# of it; WAN_WINDOW_MAX sets session.window_max_frames on both (the sent-frame table may
# grow to it: docs/RELIABILITY.md, "Windows sized to the path"); WAN_LARGE_MIB (at most
# 255) sizes the large files (it, a half and a quarter of it) and WAN_LARGE_SETS how many
# such sets the tree holds (perf/wan/e2e.sh makes issue 20's 1 Gbit/s case of it).
# unit-fault checks the delay to the nanosecond; the min RTT checks the engine's
# timestamps: a frame received is stamped with a clock read after its burst, never before
# (docs/RELIABILITY.md, "Timestamps"; read at the start of the round instead, a preempted
# round measured 28 and 34 ms of 40 at a load of 17-20). The figures, of the
# push and of both stages, are printed.
#
#   push-wan.sh XFERD XFERCTL
#
# Defaults: 200 Mbit/s, 20 ms each way, 1% loss each way, bbr, at least 10%: a floor that
# catches a collapse (issue 20's 1 MB/s at 5% loss would be 4% here), not a figure; the
# push took 16 s once at a load of 20, about 14%. Issue 20's 1 Gbit/s case at >= 80% is
# perf/wan/e2e.sh (this script, measured on a quiet machine): in the CI it shares the 2
# CPUs with other tests, and there the host sets the pace, not the link.
# docs/RELIABILITY.md, "What this machine sustains", gives the figures of both.
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-wan "${1:?usage: push-wan.sh XFERD XFERCTL}" "${2:?}"

: "${WAN_RATE_MBIT:=200}"
: "${WAN_DELAY_MS:=20}"
: "${WAN_LOSS_PPM:=10000}"
: "${WAN_BACK_LOSS_PPM:=10000}"
: "${WAN_MIN_PERCENT:=10}"
: "${WAN_CC:=bbr}"
: "${WAN_PACE_MBIT:=0}"
: "${WAN_LARGE_MIB:=24}"
: "${WAN_LARGE_SETS:=1}"
: "${WAN_MIN_RTT_PERCENT:=90}"
: "${WAN_WINDOW_MAX:=4096}"

mkdir "$PAIR_DIR/src"
python3 "$PAIR_LIB_DIR/mktree.py" sizes "$PAIR_DIR/src" \
	$((WAN_LARGE_MIB * 1048576)) $((WAN_LARGE_MIB * 1048576 / 2)) \
	$((WAN_LARGE_MIB * 1048576 / 4)) >/dev/null
# further sets of the three, each in a directory of its own and from its own seed
for ((set = 2; set <= WAN_LARGE_SETS; set++)); do
	python3 "$PAIR_LIB_DIR/mktree.py" sizes "$PAIR_DIR/src/set-$set" --seed "$set" \
		$((WAN_LARGE_MIB * 1048576)) $((WAN_LARGE_MIB * 1048576 / 2)) \
		$((WAN_LARGE_MIB * 1048576 / 4)) >/dev/null
done
python3 "$PAIR_LIB_DIR/mktree.py" many "$PAIR_DIR/src/small" --files 300 --dirs 20 \
	--max-size 65536 --seed 20 >/dev/null
bytes=$(du -sb --apparent-size "$PAIR_DIR/src" | cut -f1)

PAIR_SET_B="ports[0].fault.loss_ppm=$WAN_BACK_LOSS_PPM"
pair_start --set "ports[0].fault.rate_mbit=$WAN_RATE_MBIT" \
	--set "ports[0].fault.delay_ms=$WAN_DELAY_MS" \
	--set "ports[0].fault.loss_ppm=$WAN_LOSS_PPM" --set "ports[0].fault.seed=20" \
	--set "session.congestion=$WAN_CC" --set "session.rate_mbit=$WAN_PACE_MBIT" \
	--set "session.window_max_frames=$WAN_WINDOW_MAX" ${WAN_EAL_MB:+--set "eal.memory_mb=$WAN_EAL_MB"}
pair_push "$PAIR_DIR/src" wan >/dev/null || pair_fail "push: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_verify "$PAIR_DIR/src" "$PAIR_VOL_B/wan"

# The job's duration and retransmissions; both stages' counters.
read -r ms retrans rtt_us min_rtt_us < <(python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(j["elapsed_ms"], j["retransmits"], j["rtt_us"], j["cc"]["min_rtt_us"])' \
	"$PAIR_DIR/job.json") || pair_fail "cannot read the job's duration"
[ "$rtt_us" -ge $((2 * WAN_DELAY_MS * 750)) ] ||
	pair_fail "smoothed RTT $rtt_us us, below 3/4 of the emulated $((2 * WAN_DELAY_MS)) ms"
[ "$min_rtt_us" -ge $((2 * WAN_DELAY_MS * 10 * WAN_MIN_RTT_PERCENT)) ] ||
	pair_fail "min RTT $min_rtt_us us, below $WAN_MIN_RTT_PERCENT% of the emulated" \
		"$((2 * WAN_DELAY_MS)) ms: a frame stamped before it was received"
for side in a b; do
	pair_json "$side" 'j["fault"]' stats >"$PAIR_DIR/fault-$side.json" ||
		pair_fail "$side: stats has no fault section"
	pair_log "$side: fault stage $(cat "$PAIR_DIR/fault-$side.json")"
done
read -r random a_frames a_queue < <(python3 -c 'import json, sys
a = json.load(open(sys.argv[1]))
print(a["drop_random"], a["frames"], a["drop_queue_full"])' "$PAIR_DIR/fault-a.json")
[ "$WAN_LOSS_PPM" -eq 0 ] || [ "$random" -gt 0 ] ||
	pair_fail "A's link dropped nothing at random over $a_frames frames"
# Not one for one: some of what A's link drops are untracked (ACKs of B's frames, probes).
[ "$WAN_LOSS_PPM" -eq 0 ] || [ "$retrans" -gt 0 ] ||
	pair_fail "A's link lost $random frames and the job retransmitted none"
pct=$(python3 -c 'import sys
b, ms, rate = (float(x) for x in sys.argv[1:4])
print("%.1f" % (b * 8 / (ms / 1000) / (rate * 1e6) * 100))' "$bytes" "$ms" "$WAN_RATE_MBIT")
pair_log "$bytes bytes in $ms ms over $WAN_RATE_MBIT Mbit/s, RTT $((2 * WAN_DELAY_MS)) ms," \
	"loss $WAN_LOSS_PPM / $WAN_BACK_LOSS_PPM ppm ($WAN_CC): goodput $pct% of the bottleneck;" \
	"A's link dropped $random at random and $a_queue at its queue of $a_frames frames," \
	"the job retransmitted $retrans; RTT $rtt_us us smoothed, $min_rtt_us us min"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' \
	"$pct" "$WAN_MIN_PERCENT" ||
	pair_fail "goodput $pct% of the bottleneck, below $WAN_MIN_PERCENT%"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 100 else 1)' "$pct" ||
	pair_fail "goodput $pct% of the bottleneck: the stage did not shape the link"
pair_pass

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A push over a lossy link: two appliances (each in its namespace, net_af_packet) joined
# by a bridge in a third one (xfn_lossy_link), nftables on both bridge ports' egress
# dropping 2% and duplicating 1% of the frames, and each appliance's seeded fault stage
# holding back 10% of what it receives (reordering). A seeded tree of small files in
# nested directories must arrive identical, and the job must have seen the loss
# (lost > 0) and repaired it (retransmits > 0), and so must the receiver's counter.
#
#   lossy.sh XFERD XFERCTL [FILES]     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-lossy "${1:-}" "${2:-}"
files=${3:-20000}

xfn_ns a
xfn_ns b
xfn_lossy_link a "${XFN_TAG}a" b "${XFN_TAG}b"
xfn_nft_loss s "${XFN_TAG}sb" 2 1
xfn_nft_loss s "${XFN_TAG}sa" 2 1

fault=(--set ports[0].fault.reorder_percent=10)
xfn_start A a "${XFN_TAG}a" 10.213.8.1/24 10.213.8.2 "${fault[@]}" --set ports[0].fault.seed=11
xfn_start B b "${XFN_TAG}b" 10.213.8.2/24 10.213.8.1 "${fault[@]}" --set ports[0].fault.seed=12

xfn_mktree "$T/src" 20261126 "$files"

start=$(date +%s%N)
rc=0
out=$(xfn_ctl A push "$T/src" peer:tree --wait 2>&1) || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
echo "$out"
[ "$rc" -eq 0 ] || xfn_fail "push exited with status $rc"

read -r state sent failed retx lost wire < <(xfn_q A jobs \
	"' '.join(str(r['jobs'][-1][k]) for k in ('state', 'files_sent', 'files_failed', 'retransmits', 'lost', 'wire_bytes_sent'))")
echo "$XFN_NAME: $files files in $ms ms: state=$state files_sent=$sent files_failed=$failed" \
	"retransmits=$retx lost=$lost wire_bytes_sent=$wire"
echo "$XFN_NAME: nft toward B: $(xfn_nft_counters s "${XFN_TAG}sb");" \
	"toward A: $(xfn_nft_counters s "${XFN_TAG}sa")"
echo "$XFN_NAME: receiver B dataplane: $(xfn_q B stats "r['dataplane']")"

[ "$state" = "done" ] || xfn_fail "job state is $state, expected done"
[ "$failed" -eq 0 ] || xfn_fail "$failed files failed"
xfn_same "$T/src" "$T/B/tree"
[ "$lost" -gt 0 ] || xfn_fail "the sender detected no loss (lost=$lost) on a lossy link"
[ "$retx" -gt 0 ] || xfn_fail "the sender retransmitted nothing (retransmits=$retx)"
# B's DECISIONs and COMMITs crossed the same loss; its counter counts them as they go,
# whether or not its session has been reaped yet.
brtx=$(xfn_q B stats "r['dataplane']['retransmits']")
[ "$brtx" -gt 0 ] || xfn_fail "the receiver counts no retransmission (dataplane.retransmits=$brtx)"

xfn_stop A
xfn_stop B
echo "$XFN_NAME: PASS ($files files identical in $ms ms; retransmits=$retx lost=$lost)"

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Lanes over a NIC-like port of 2 queues (docs/ENGINE.md, "Steering"): B runs 2 RX cores
# on net_af_packet with qpairs=2, A pushes with --lanes 2 over a veth.
# - net_af_packet has no rte_flow: B refuses all 31 rules (15 for the answers to its own
#   lanes, 16 for the lanes of its one peer), keeps none, and reports steering "rss": the
#   kernel's PACKET_FANOUT_HASH spreads frames over the queues by their 5-tuple. A (one
#   queue) reports "none" and tries no rule;
# - that hash is seeded at boot, so the test first finds, with datagrams from the kernel
#   side of A's veth, a base port whose lane ports 0 and 1 land on different queues of B,
#   and gives it to A: that is what a sender can do where the hash is not computable;
# - both of B's queues carry over 700 of the job's frames each: each lane's session lives
#   on the RX core its frames come to. A frame the kernel rolls over to the other queue
#   (PACKET_FANOUT_FLAG_ROLLOVER, when a queue's ring is full) finds no session there: it
#   is dropped, counted in drops.no_session (printed) and sent again, never served twice;
# - the tree arrives identical (rsync -a -n -i --checksum prints nothing).
#
#   steer-lanes.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-net-steer-lanes "${1:-}" "${2:-}"

ip_a=10.213.11.1
ip_b=10.213.11.2
xfn_ns a
xfn_ns b
xfn_veth a "${XFN_TAG}a" b "${XFN_TAG}b"
xfn_start B b "${XFN_TAG}b" $ip_b/24 $ip_a \
	--set "ports[0].device=net_af_packet0,iface=${XFN_TAG}b,qdisc_bypass=0,qpairs=2" \
	--set 'cores.rx=[1, 2]' --set 'cores.workers=[1, 2]'

read -r steer rules refused nq <<<"$(xfn_q B stats "r['ports'][0]['steering']" \
	"r['ports'][0]['flow_rules']" "r['ports'][0]['flow_rules_refused']" "len(r['queues'])" |
	tr '\n' ' ')"
xfn_log "B: steering=$steer flow_rules=$rules refused=$refused queues=$nq"
[ "$nq" -eq 2 ] || xfn_fail "B has $nq queues, not 2"
[ "$steer" = rss ] || xfn_fail "B steering '$steer', expected rss (kernel hash, no rte_flow)"
[ "$rules" -eq 0 ] && [ "$refused" -eq 31 ] ||
	xfn_fail "B: $rules rules installed, $refused refused; expected 0 and 31"

# Which of B's queues a datagram from port P of A's address lands on: 8 datagrams from
# the kernel side of A's veth, and the one queue whose counter grew by 8 or more.
queue_of() {
	local before after
	before=$(xfn_q B stats "[q['rx_packets'] for q in r['queues']]")
	ip netns exec "${XFN_TAG}a" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
for _ in range(8):
    s.sendto(b"probe" * 8, (sys.argv[3], 7010))
' $ip_a "$1" $ip_b || xfn_fail "probe from port $1 not sent"
	for _ in $(seq 50); do
		after=$(xfn_q B stats "[q['rx_packets'] for q in r['queues']]")
		q=$(python3 -c '
import sys
b, a = eval(sys.argv[1]), eval(sys.argv[2])
g = [i for i in range(len(b)) if a[i] - b[i] >= 8]
print(g[0] if len(g) == 1 else "")' "$before" "$after")
		[ -n "$q" ] && { echo "$q"; return; }
		sleep 0.1
	done
	xfn_fail "8 datagrams from port $1 did not show on one of B's queues ($before -> $after)"
}
ip -n "${XFN_TAG}a" addr add $ip_a/24 dev "${XFN_TAG}a"
base=
for u in $(seq 20000 2 20040); do
	q0=$(queue_of "$u")
	q1=$(queue_of $((u + 1)))
	xfn_log "ports $u, $((u + 1)): B's queues $q0, $q1"
	if [ "$q0" != "$q1" ]; then
		base=$u
		break
	fi
done
[ -n "$base" ] || xfn_fail "no base port of 20000..20040 spreads 2 lanes over B's 2 queues"
ip -n "${XFN_TAG}a" addr flush dev "${XFN_TAG}a"

xfn_start A a "${XFN_TAG}a" $ip_a/24 $ip_b --set "ports[0].udp_port=$base"
read -r steer rules refused <<<"$(xfn_q A stats "r['ports'][0]['steering']" \
	"r['ports'][0]['flow_rules']" "r['ports'][0]['flow_rules_refused']" | tr '\n' ' ')"
[ "$steer" = none ] && [ "$rules" -eq 0 ] && [ "$refused" -eq 0 ] ||
	xfn_fail "A (one queue): steering '$steer', $rules rules, $refused refused"

xfn_mktree "$T/src" 22 300 2
stats_b() { xfn_q B stats "[q['rx_packets'] for q in r['queues']]" "r['drops']['no_session']"; }
before=$(stats_b)
out=$(xfn_ctl A push "$T/src" peer:tree --wait --lanes 2 2>&1) || xfn_fail "push: $out"
after=$(stats_b)
held=$(xfn_q B stats "(r['dataplane']['arp_held'], r['dataplane']['arp_expired'])")
xfn_log "B: (arp_held, arp_expired) = $held"
python3 - "$before" "$after" <<'PY' || xfn_fail "the lanes did not each take one of B's queues"
import sys
(q0, n0), (q1, n1) = (s.split("\n") for s in sys.argv[1:3])
d = [b - a for a, b in zip(eval(q0), eval(q1))]
print("B's queues' frames during the push: %s; drops.no_session %s -> %s" % (d, n0, n1),
      file=sys.stderr)
# Each lane carries about half of 300 small files and 2 files of 1..4 MiB: over 700
# frames of 1500 bytes.
sys.exit(0 if len(d) == 2 and min(d) > 700 else 1)
PY
lanes=$(xfn_q A jobs "[j['lanes'] for j in r['jobs']][-1]")
[ "$lanes" -eq 2 ] || xfn_fail "the job ran $lanes lanes, not 2"
xfn_same "$T/src" "$T/B/tree"
xfn_stop A
xfn_stop B
echo "$XFN_NAME: PASS"

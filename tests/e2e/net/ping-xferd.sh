#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The kernel as a peer of xferd itself: the kernel end of a veth (with an address) pings
# the appliance, which owns the other end through net_af_packet. It must get 5 replies,
# and the appliance must count them (icmp_echo_replied >= 5) and the ARP it answered.
#
#   ping-xferd.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-ping-xferd "${1:-}" "${2:-}"
command -v ping >/dev/null || xfn_skip "needs 'ping' (iputils-ping)"

xfn_ns k
xfn_ns a
xfn_veth k "${XFN_TAG}k" a "${XFN_TAG}a"
ip -n "${XFN_TAG}k" addr add 10.213.9.1/24 dev "${XFN_TAG}k"
xfn_start A a "${XFN_TAG}a" 10.213.9.2/24 10.213.9.3

out=$(ip netns exec "${XFN_TAG}k" timeout 20 ping -n -c 5 -W 2 -i 0.2 10.213.9.2 2>&1) || true
echo "$out"
read -r echo arp < <(xfn_q A stats "r['dataplane']['icmp_echo_replied'], r['dataplane']['arp_replied']" | tr -d '(),')
echo "$XFN_NAME: appliance counted icmp_echo_replied=$echo arp_replied=$arp"
echo "$out" | grep -q ' 5 received' || xfn_fail "ping did not get 5 replies"
[ "$echo" -ge 5 ] || xfn_fail "icmp_echo_replied=$echo, expected >= 5"
[ "$arp" -ge 1 ] || xfn_fail "arp_replied=$arp, expected >= 1"
xfn_stop A
echo "$XFN_NAME: PASS"

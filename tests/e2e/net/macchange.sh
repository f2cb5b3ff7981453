#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The receiver comes back with another MAC (a NIC swapped, a spare in its place): B's
# veth gets a new address (`ip link set address`) between two pushes from the same A,
# and B restarts on it. A still holds B's old MAC from the push before; the next push
# must complete, identical, and A must have learned the new MAC (docs/ENGINE.md,
# "Neighbours"). Twice: first B's gratuitous ARP at link-up tells A (A counts the
# change before the push starts); then nftables drops B's announcements, and A must
# find B by probing its silent peer (a new session's second probe timeout, a few
# seconds, within the 10 s session timeout).
#
#   macchange.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-macchange "${1:-}" "${2:-}"

# A and B on a Linux bridge (namespace s): nftables can then drop B's announcements on
# their way to A at the bridge port's egress. (At B's own egress a drop would stall B's
# net_af_packet TX ring, which resends a refused frame before any later one.)
xfn_ns a
xfn_ns b
xfn_ns s
xfn_veth a "${XFN_TAG}a" s "${XFN_TAG}sa"
xfn_veth b "${XFN_TAG}b" s "${XFN_TAG}sb"
xfn_bridge s "${XFN_TAG}br" "" "${XFN_TAG}sa" "${XFN_TAG}sb"
xfn_start A a "${XFN_TAG}a" 10.213.14.1/24 10.213.14.2
xfn_start B b "${XFN_TAG}b" 10.213.14.2/24 10.213.14.1
xfn_mktree "$T/src" 1414 300

xfn_ctl A push "$T/src" peer:one --wait >"$T/push1.out" 2>&1 ||
	xfn_fail "the first push failed: $(cat "$T/push1.out")"
xfn_same "$T/src" "$T/B/one"

# new_mac DEST [DROP_ANNOUNCEMENTS]: B restarts with a new MAC, A pushes to DEST; sets ms.
new_mac() {
	local dest=$1 drop=${2:-} old new got t0 changed deadline
	old=$(xfn_q B status "r['ports'][0]['mac']")
	changed=$(xfn_q A stats "r['dataplane']['neigh_changed']")
	xfn_stop B
	new=02:5e:$(printf '%02x:%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))
	[ "$new" != "$old" ] || new=02:5e:00:00:00:01
	ip -n "${XFN_TAG}b" link set "${XFN_TAG}b" address "$new" || xfn_fail "ip link set address $new"
	if [ -n "$drop" ]; then
		ip netns exec "${XFN_TAG}s" nft -f - <<-NFT || xfn_fail "nft rule on ${XFN_TAG}sa"
			table netdev xfgarp {
				chain egress {
					type filter hook egress device "${XFN_TAG}sa" priority 0;
					# ARP (ether type 0x0806) requests whose target address (frame
					# bytes 38-41) is B's: B's announcements.
					ether type arp @ll,160,16 1 @ll,304,32 0x0ad50e02 counter drop
				}
			}
		NFT
	fi
	xfn_start B b "${XFN_TAG}b" 10.213.14.2/24 10.213.14.1
	deadline=$((SECONDS + 10))
	got=$(xfn_q B status "r['ports'][0]['mac']")
	[ "$got" = "$new" ] || xfn_fail "B uses $got, not the interface's new MAC $new"
	echo "$XFN_NAME: B's MAC $old -> $new${drop:+ (its announcements dropped)}"
	if [ -z "$drop" ]; then
		# B's gratuitous ARP at link-up tells A before anything is sent (bounded wait).
		until [ "$(xfn_q A stats "r['dataplane']['neigh_changed']")" -gt "$changed" ]; do
			[ "$SECONDS" -lt "$deadline" ] || xfn_fail "B's announcement did not reach A in 10 s"
			sleep 0.05
		done
	fi
	t0=$(date +%s%N)
	xfn_ctl A push "$T/src" "peer:$dest" --wait >"$T/$dest.out" 2>&1 ||
		xfn_fail "the push after the MAC change failed: $(cat "$T/$dest.out"); A: $(counters)"
	ms=$((($(date +%s%N) - t0) / 1000000))
	xfn_same "$T/src" "$T/B/$dest"
}
counters() {
	xfn_q A stats "' '.join('%s=%s' % (k, r['dataplane'][k]) for k in ('neigh_changed', 'arp_probes', 'arp_requests', 'neigh_failed'))"
}

new_mac two
echo "$XFN_NAME: push after the change done in $ms ms; A: $(counters)"

probes=$(xfn_q A stats "r['dataplane']['arp_probes']")
new_mac three drop
dropped=$(ip netns exec "${XFN_TAG}s" nft list table netdev xfgarp |
	awk '/counter/ { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }')
[ "${dropped:-0}" -ge 1 ] || xfn_fail "nftables dropped none of B's announcements: the test proves nothing"
[ "$(xfn_q A stats "r['dataplane']['arp_probes']")" -gt "$probes" ] ||
	xfn_fail "A found B again without probing it"
echo "$XFN_NAME: push with B's $dropped announcement(s) dropped done in $ms ms; A: $(counters)"
xfn_stop A
xfn_stop B
echo "$XFN_NAME: PASS"

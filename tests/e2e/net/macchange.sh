#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The receiver comes back with another MAC (a NIC swapped, a spare in its place): B's
# veth gets a new address (`ip link set address`) between two pushes from the same A,
# and B restarts on it. A still holds B's old MAC from the first push; the second push
# must complete, identical, and A must have learned the new MAC (docs/ENGINE.md,
# "Neighbours": B's gratuitous ARP at link-up, or A's probes of its silent peer).
#
#   macchange.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-macchange "${1:-}" "${2:-}"

xfn_ns a
xfn_ns b
xfn_veth a "${XFN_TAG}a" b "${XFN_TAG}b"
# A gives up on a silent peer after 4 s: without the fix the second push fails then.
xfn_start A a "${XFN_TAG}a" 10.213.14.1/24 10.213.14.2 --set session.timeout_ms=4000
xfn_start B b "${XFN_TAG}b" 10.213.14.2/24 10.213.14.1
xfn_mktree "$T/src" 1414 300

xfn_ctl A push "$T/src" peer:one --wait >"$T/push1.out" 2>&1 ||
	xfn_fail "the first push failed: $(cat "$T/push1.out")"
xfn_same "$T/src" "$T/B/one"
old=$(xfn_q B status "r['ports'][0]['mac']")

xfn_stop B
new=02:5e:$(printf '%02x:%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))
[ "$new" != "$old" ] || new=02:5e:00:00:00:01
ip -n "${XFN_TAG}b" link set "${XFN_TAG}b" address "$new" || xfn_fail "ip link set address $new"
xfn_start B b "${XFN_TAG}b" 10.213.14.2/24 10.213.14.1
got=$(xfn_q B status "r['ports'][0]['mac']")
[ "$got" = "$new" ] || xfn_fail "B uses $got, not the interface's new MAC $new"
echo "$XFN_NAME: B's MAC $old -> $new"

t0=$(date +%s%N)
xfn_ctl A push "$T/src" peer:two --wait >"$T/push2.out" 2>&1 ||
	xfn_fail "the push after the MAC change failed: $(cat "$T/push2.out")"
ms=$((($(date +%s%N) - t0) / 1000000))
xfn_same "$T/src" "$T/B/two"
changed=$(xfn_q A stats "r['dataplane']['neigh_changed']")
[ "$changed" -ge 1 ] || xfn_fail "A counts no neighbour whose MAC changed"
echo "$XFN_NAME: second push done in $ms ms; A: neigh_changed=$changed" \
	"$(xfn_q A stats "' '.join('%s=%s' % (k, r['dataplane'][k]) for k in ('arp_probes', 'arp_requests', 'neigh_failed'))")"
xfn_stop A
xfn_stop B
echo "$XFN_NAME: PASS"

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Hostile frames from the kernel side while the appliance serves a push. Two appliances
# and the kernel (an address on a bridge) share one segment; A pushes a tree to B while
# hostile.py sends B truncated, oversized, wrong-magic, wrong-version, unknown-type and
# random datagrams, valid headers with hostile bodies (bad counts, huge offsets, paths
# with ..), frames for sessions that do not exist, datagrams to another port, frames
# (a HELLO among them) to a port of the lanes that answer no push of B's, and
# HELLOs from an address outside B's peer allowlist. B must keep
# serving (the push completes identical) and count each drop under its exact reason.
#
#   badframes.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-badframes "${1:-}" "${2:-}"
command -v ping >/dev/null || xfn_skip "needs 'ping' (iputils-ping)"
here=$(cd "$(dirname "$0")" && pwd)

xfn_ns s
xfn_ns a
xfn_ns b
xfn_veth s "${XFN_TAG}sa" a "${XFN_TAG}a"
xfn_veth s "${XFN_TAG}sb" b "${XFN_TAG}b"
xfn_bridge s "${XFN_TAG}br" 10.213.10.3/24 "${XFN_TAG}sa" "${XFN_TAG}sb"

# A paces its push so that it is still running when the hostile frames have gone out.
xfn_start A a "${XFN_TAG}a" 10.213.10.1/24 10.213.10.2 --set session.rate_mbit=30
xfn_start B b "${XFN_TAG}b" 10.213.10.2/24 10.213.10.1
xfn_mktree "$T/src" 4242 3000

snap() {
	xfn_ctl B --json stats
}
before=$(snap)
start=$(date +%s%N)
xfn_ctl A push "$T/src" peer:tree --wait >"$T/push.out" 2>&1 &
push_pid=$!

echo "$XFN_NAME: hostile frames start at $((($(date +%s%N) - start) / 1000000)) ms"
expect=$(ip netns exec "${XFN_TAG}s" timeout 60 python3 "$here/hostile.py" 10.213.10.2) ||
	xfn_fail "hostile.py failed (the refused HELLOs were not answered as expected?)"
# Frames are handled in arrival order on B's one queue: once B has answered this echo
# request, it has classified every hostile frame sent before it.
ip netns exec "${XFN_TAG}s" timeout 10 ping -n -c 1 -W 5 10.213.10.2 >/dev/null ||
	xfn_fail "B does not answer ping after the hostile frames"
after=$(snap)
echo "$XFN_NAME: hostile frames done at $((($(date +%s%N) - start) / 1000000)) ms"
state=$(xfn_q A jobs "r['jobs'][-1]['state']")

rc=0
wait "$push_pid" || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
cat "$T/push.out"
[ "$rc" -eq 0 ] || xfn_fail "the concurrent push exited with status $rc"
xfn_same "$T/src" "$T/B/tree"
echo "$XFN_NAME: push of 3000 files done in $ms ms, identical; it was '$state' at the second snapshot"

# Compare the counters' growth with what was sent. A push that already ended may have
# left strays for its closed session, so no_session is then a lower bound.
python3 - "$before" "$after" "$expect" "$state" <<'PY' || xfn_fail "drop counters do not match what was sent"
import json, sys
b, a, exp = (json.loads(x) for x in sys.argv[1:4])
b, a = b.get("result", b), a.get("result", a)
running = sys.argv[4] == "running"
def get(r, k):
    return r["dataplane"][k] if k in r["dataplane"] else r["drops"].get(k, 0)
sent = exp.pop("sent")
ok = True
print("hostile datagrams sent: %d" % sent)
keys = sorted(set(exp) | {k for k in a["drops"] if a["drops"][k] != b["drops"].get(k, 0)})
for k in keys:
    d = get(a, k) - get(b, k)
    want = exp.get(k, 0)
    good = d == want or (k == "no_session" and not running and d >= want)
    print("  %-22s +%-6d expected %d%s" % (k, d, want, "" if good else "   <-- MISMATCH"))
    ok &= good
if a["ports"][0]["udp_checksum_tx"] != "software":
    print("  UDP checksums sent on af_packet: %s, expected software" % a["ports"][0]["udp_checksum_tx"])
    ok = False
d = a["ports"][0]["rx_missed"] - b["ports"][0]["rx_missed"]
print("  %-22s +%d" % ("rx_missed", d))
sys.exit(0 if ok else 1)
PY

xfn_stop A
xfn_stop B
echo "$XFN_NAME: PASS"

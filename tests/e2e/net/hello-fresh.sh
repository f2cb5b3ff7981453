#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A HELLO sent again carries a fresh Noise message 1 (docs/SECURITY.md 5): A pushes to B
# through a bridge that drops the first two HELLOs toward B and the first three
# HELLO_ACKs toward A. nonce_watch.py, on the bridge port toward A, sees every copy A
# sent: at least four, each with its own ephemeral key. B takes the third and answers
# it; those answers are lost while A sends a fourth (A's HELLO timer has backed off
# twice, B's answer timer three times by then), which B ignores (its session for the
# third is not confirmed yet), answering the third again: A must still hold the third's
# handshake.
# The tree arrives identical; B counts no replayed message 1 and no failed handshake, A
# no answer it could not read. The push goes into B's second volume with --delete
# --max-delete 1000, so each fresh message 1 binds the destination and the deletion limit
# in its prologue as the first did: an extraneous file there is deleted.
#
#   hello-fresh.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-hello-fresh "${1:-}" "${2:-}"

xfn_ns a
xfn_ns b
xfn_lossy_link a "${XFN_TAG}a" b "${XFN_TAG}b"
# The first two xferd HELLOs (UDP to port 7010, xferd type byte 1) toward B, and the
# first three HELLO_ACKs (type 2) toward A, are dropped.
ip netns exec "${XFN_TAG}s" nft -f - <<-NFT || xfn_fail "nft rules"
	table netdev xfhello {
		chain egress {
			type filter hook egress device "${XFN_TAG}sb" priority 0;
			udp dport 7010 @th,88,8 1 numgen inc mod 1000000 < 2 counter drop
		}
	}
	table netdev xfhelloack {
		chain egress {
			type filter hook egress device "${XFN_TAG}sa" priority 0;
			udp sport 7010 @th,88,8 2 numgen inc mod 1000000 < 3 counter drop
		}
	}
NFT
xfn_start A a "${XFN_TAG}a" 10.213.10.1/24 10.213.10.2
mkdir -p "$T/B-vault/tree"
echo extra >"$T/B-vault/tree/extraneous"
xfn_start B b "${XFN_TAG}b" 10.213.10.2/24 10.213.10.1 \
	--set "volumes[1]={name: vault, path: $T/B-vault, fsync: none}"
xfn_mktree "$T/src" 20261207 50

xfn_watch_start "${XFN_TAG}sa"

rc=0
out=$(xfn_ctl A push "$T/src" peer::vault/tree --wait --delete --max-delete 1000 2>&1) || rc=$?
echo "$out"
xfn_watch_stop
[ "$rc" -eq 0 ] || xfn_fail "push exited with status $rc"
xfn_same "$T/src" "$T/B-vault/tree"
[ ! -e "$T/B/tree" ] || xfn_fail "the push into volume vault wrote into B's first volume"
grep -q "Number of deleted files: 1" <<<"$out" || xfn_fail "the extraneous file was not deleted"
dropped() {
	ip netns exec "${XFN_TAG}s" nft list table netdev "$1" |
		awk '/counter/ { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}
echo "$XFN_NAME: dropped: HELLOs toward B $(dropped xfhello), HELLO_ACKs toward A $(dropped xfhelloack)"
[ "$(dropped xfhello)" = 2 ] || xfn_fail "the bridge did not drop 2 HELLOs"
[ "$(dropped xfhelloack)" = 3 ] || xfn_fail "the bridge did not drop 3 HELLO_ACKs"

python3 - "$(xfn_ctl A --json stats)" "$(xfn_ctl B --json stats)" "$XFN_WATCH" \
	<<'PY' || xfn_fail "the HELLOs or the handshake counters are not as expected (above)"
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
a, b = (r.get("result", r) for r in (a, b))
w = json.loads(sys.argv[3])
print("wire: %d HELLOs from A, %d distinct ephemeral keys" % (w["hellos"], w["hello_ephemerals"]))
print("A drops: %s" % {k: v for k, v in a["drops"].items() if k.startswith("hs_") and v})
print("B drops: %s" % {k: v for k, v in b["drops"].items() if v})
print("B security: %s" % b["security"])
bad = []
if w["hellos"] < 4:
    bad.append("only %d HELLOs seen" % w["hellos"])
if w["hello_ephemerals"] != w["hellos"]:
    bad.append("a HELLO was sent again with the same message 1")
for k in ("hs_replay", "hs_failed", "hs_bad_mac"):
    if b["drops"][k] != 0:
        bad.append("B: %s %d" % (k, b["drops"][k]))
if a["drops"]["hs_bad_response"] != 0:
    bad.append("A: hs_bad_response %d" % a["drops"]["hs_bad_response"])
if bad:
    print("FAIL: " + "; ".join(bad))
sys.exit(1 if bad else 0)
PY

xfn_stop A
xfn_stop B
echo "$XFN_NAME: PASS"

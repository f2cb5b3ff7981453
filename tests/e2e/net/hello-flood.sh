#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A HELLO flood beside a legitimate push (docs/SECURITY.md 3). The kernel side of a bridge
# floods B from an allowed address (.4, whose peer entry names a key) with about 2,000
# HELLOs a second (hello_flood.py): three in four with a valid mac1 and a made-up rest,
# one in four with a wrong mac1, none with a mac2. B runs session.handshake_load 32, so
# the flood puts its RX core under load within its first 32 HELLOs; only once B reports
# security.under_load does A start its push (a new handshake every 2 s), so A's first
# HELLO is answered with a cookie reply, which A must take and put the mac2 of into the
# copy of the HELLO it sends again. Then:
#   - the push finishes identical;
#   - A took a cookie (security.cookies_taken), and none failed (drops.hs_bad_cookie);
#   - B sent cookie replies, at least the flooder's count of those it received, and
#     counted the flood's HELLOs by reason: hs_cookie for the valid mac1, hs_bad_mac;
#   - Diffie-Hellman work (security.hs_dh) went to no more of the flood's HELLOs than the
#     onset of the load (32; twice that if the flooder, on a loaded machine, paused for
#     a whole second and the load began again): hs_dh minus B's completed handshakes;
#   - nothing but cookie replies came back to the flooder, and no HELLO with a valid
#     mac2 was turned away (hs_rate 0: the flood never spent that budget);
#   - both appliances' key memory is locked (security.key_memory_locked: root may mlock);
#   - neither RX core did any Diffie-Hellman (security.hs_dh_oncore 0 on both): B's
#     handshake thread did all of the responder's (hs_dh_offcore: 4 per handshake, at
#     least 1 per flood HELLO that got DH work), A's all of its push's (the initiator's:
#     at least 4 per handshake).
#
#   hello-flood.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-hello-flood "${1:-}" "${2:-}"
here=$(cd "$(dirname "$0")" && pwd)

net=10.213.14
load=32
xfn_ns a
xfn_ns b
xfn_lossy_link a "${XFN_TAG}a" b "${XFN_TAG}b" # a bridge, lossless here
for h in 1 4; do
	ip -n "${XFN_TAG}s" addr add "$net.$h/24" dev "${XFN_TAG}br"
done
xfn_start A a "${XFN_TAG}a" "$net.3/24" "$net.2" --set session.rate_mbit=8 \
	--set session.rekey_after_ms=2000
xfn_start B b "${XFN_TAG}b" "$net.2/24" "$net.3" --set "session.handshake_load=$load" \
	--set "peers[1]={name: k4, ipv4: $net.4, public_key: \"$XFN_PUB\"}"
xfn_mktree "$T/src" 1914 300 1

a0=$(xfn_ctl A --json stats)
b0=$(xfn_ctl B --json stats)
ip netns exec "${XFN_TAG}s" timeout 120 python3 "$here/hello_flood.py" "$net.4" "$net.2" \
	"$XFN_PUB" 2000 100 "$T/stop" >"$T/flood.out" 2>"$T/flood.err" &
flood_pid=$!
XFN_PIDS+=("$flood_pid")
under=0
for _ in $(seq 100); do
	under=$(xfn_q B stats "r['security']['under_load']")
	[ "$under" -ge 1 ] && break
	sleep 0.1
done
[ "$under" -ge 1 ] || xfn_fail "B is not under load after 10 s of the flood: $(cat "$T/flood.err")"
rc=0
xfn_ctl A push "$T/src" peer:tree --wait >"$T/push.out" 2>&1 || rc=$?
under_end=$(xfn_q B stats "r['security']['under_load']")
touch "$T/stop"
wait "$flood_pid" || xfn_fail "hello_flood.py failed: $(cat "$T/flood.err")"
cat "$T/push.out"
if [ "$rc" -ne 0 ]; then
	for x in A B; do
		xfn_ctl "$x" --json stats | python3 -c 'import json, sys; r = json.load(sys.stdin)
r = r.get("result", r)
print(sys.argv[1], {k: v for k, v in r["drops"].items() if v}, r["security"])' "$x" || true
	done
	xfn_fail "the legitimate push exited with status $rc"
fi
xfn_same "$T/src" "$T/B/tree"
echo "$XFN_NAME: the push is identical; B under load at its end: $under_end"

python3 - "$a0" "$(xfn_ctl A --json stats)" "$b0" "$(xfn_ctl B --json stats)" \
	"$(tail -n 1 "$T/flood.out")" "$load" <<'PY' || xfn_fail "the counters do not show the cookie replies (above)"
import json, sys
a0, a1, b0, b1 = (json.loads(x) for x in sys.argv[1:5])
a0, a1, b0, b1 = (r.get("result", r) for r in (a0, a1, b0, b1))
flood, load = json.loads(sys.argv[5]), int(sys.argv[6])
def d(x0, x1, sect, k):
    return x1[sect][k] - x0[sect][k]
bs = {k: d(b0, b1, "security", k) for k in ("cookie_replies", "hs_dh", "handshakes",
                                             "hs_dh_offcore")}
bd = {k: d(b0, b1, "drops", k) for k in ("hs_cookie", "hs_rate", "hs_bad_mac", "hs_failed",
                                          "hs_no_key", "hs_stale", "hs_queue_full")}
at = d(a0, a1, "security", "cookies_taken")
print("flood: %s" % flood)
print("B: %s %s; A: cookies_taken %d, hs_bad_cookie %d; key memory locked: A %d, B %d" %
      (bs, bd, at, d(a0, a1, "drops", "hs_bad_cookie"),
       a1["security"]["key_memory_locked"], b1["security"]["key_memory_locked"]))
flood_dh = bs["hs_dh"] - bs["handshakes"]
bad = []
if at < 1:
    bad.append("A took no cookie: its HELLO was never answered with a cookie reply")
if d(a0, a1, "drops", "hs_bad_cookie") != 0:
    bad.append("A refused a cookie reply")
if flood["cookie_replies"] < 1 or bs["cookie_replies"] < flood["cookie_replies"] + at:
    bad.append("cookie replies: B sent %d, the flooder got %d, A took %d" %
               (bs["cookie_replies"], flood["cookie_replies"], at))
if flood["other"] != 0:
    bad.append("the flooder got %d datagrams other than cookie replies" % flood["other"])
if bd["hs_cookie"] < 10 * load or bd["hs_cookie"] > flood["sent_mac1"] + at:
    bad.append("hs_cookie %d for %d flood HELLOs with a valid mac1" %
               (bd["hs_cookie"], flood["sent_mac1"]))
if bd["hs_bad_mac"] < 1 or bd["hs_bad_mac"] > flood["sent_bad"]:
    bad.append("hs_bad_mac %d for %d sent" % (bd["hs_bad_mac"], flood["sent_bad"]))
if flood_dh > 2 * load:
    bad.append("DH work for %d of the flood's HELLOs (at most %d)" % (flood_dh, 2 * load))
if bd["hs_failed"] + bd["hs_no_key"] + bd["hs_stale"] != flood_dh:
    bad.append("the flood's DH work (%d) is not its handshake failures (%d)" %
               (flood_dh, bd["hs_failed"] + bd["hs_no_key"] + bd["hs_stale"]))
# Both roles' DH run on the handshake thread, never on an RX core.
print("B: hs_dh_oncore %d, hs_dh_offcore +%d; A: hs_dh_oncore %d" %
      (b1["security"]["hs_dh_oncore"], bs["hs_dh_offcore"], a1["security"]["hs_dh_oncore"]))
if b1["security"]["hs_dh_oncore"] != 0:
    bad.append("B's RX core did %d X25519 operations" % b1["security"]["hs_dh_oncore"])
if bs["hs_dh_offcore"] < 4 * bs["handshakes"] + flood_dh:
    bad.append("the handshake thread did %d X25519 operations for %d handshakes and %d "
               "flood HELLOs" % (bs["hs_dh_offcore"], bs["handshakes"], flood_dh))
if a1["security"]["hs_dh_oncore"] != 0:
    bad.append("A's RX core did %d X25519 operations for its push" %
               a1["security"]["hs_dh_oncore"])
if a1["security"]["hs_dh_offcore"] < 4 * a1["security"]["handshakes"]:
    bad.append("A's handshake thread did %d X25519 operations for %d handshakes" %
               (a1["security"]["hs_dh_offcore"], a1["security"]["handshakes"]))
# Root (CAP_IPC_LOCK): the engine's key memory is locked (docs/SECURITY.md 6).
for name, st in (("A", a1), ("B", b1)):
    if st["security"]["key_memory_locked"] <= 0:
        bad.append("%s: key memory not locked" % name)
if bd["hs_rate"] != 0:
    bad.append("hs_rate %d: a HELLO with a valid mac2 was turned away" % bd["hs_rate"])
if bad:
    print("FAIL: " + "; ".join(bad))
sys.exit(1 if bad else 0)
PY

xfn_stop A
xfn_stop B
echo "$XFN_NAME: PASS"

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Rekeying under load on a lossy link (docs/SECURITY.md 5): A pushes a tree to B through
# a bridge that drops 2% and duplicates 1% of the frames each way (xfn_lossy_link), each
# appliance's fault stage holding back 10% of what it receives (reordering), with a new
# handshake every 2 s (session.rekey_after_ms), keys refused at 5 s and a key update
# every 1,024 frames sealed. The tree must arrive identical with the job done (bounded
# by xferctl's timeout: nothing stalls), several new handshakes and key updates on both
# sides, every X25519 operation of either side on its handshake thread, none on an RX
# core (security.hs_dh_oncore 0 on both: A's are the initiator's), no key ever used past
# its age (auth_expired 0), no session timed out, no seal
# refused for its packet number (security.nonce_refused 0 on both), and on the wire,
# watched on both bridge ports by nonce_watch.py, no packet number of a session and
# direction carried by two different frames (a nonce used twice), frames under both key
# epochs and both key phases; xferctl sessions shows the new handshakes meanwhile; each
# side's handshake thread woke only for the HELLOs handed to it (it does not poll).
# The push goes into B's second volume with --delete --max-delete 1000, so every new
# handshake's HELLO binds the destination and the deletion limit in its prologue as the
# first did (docs/PROTOCOL.md 6.13): an extraneous file there is deleted, nothing lands
# in B's first volume.
#
#   rekey-lossy.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-rekey-lossy "${1:-}" "${2:-}"

xfn_ns a
xfn_ns b
xfn_lossy_link a "${XFN_TAG}a" b "${XFN_TAG}b"
xfn_nft_loss s "${XFN_TAG}sb" 2 1
xfn_nft_loss s "${XFN_TAG}sa" 2 1

keys=(--set session.rekey_after_ms=2000 --set session.reject_after_ms=5000
	--set session.key_update_frames=1024)
fault=(--set ports[0].fault.reorder_percent=10)
xfn_start A a "${XFN_TAG}a" 10.213.9.1/24 10.213.9.2 "${fault[@]}" --set ports[0].fault.seed=21 \
	--set session.rate_mbit=12 "${keys[@]}"
mkdir -p "$T/B-vault/tree"
echo extra >"$T/B-vault/tree/extraneous"
xfn_start B b "${XFN_TAG}b" 10.213.9.2/24 10.213.9.1 "${fault[@]}" --set ports[0].fault.seed=22 \
	"${keys[@]}" --set "volumes[1]={name: vault, path: $T/B-vault, fsync: none}"

# About 10 MB: some 7 s at 12 Mbit/s, three or more new handshakes.
xfn_mktree "$T/src" 20261206 300 4

xfn_watch_start "${XFN_TAG}sa" "${XFN_TAG}sb"

start=$(date +%s%N)
xfn_ctl A push "$T/src" peer::vault/tree --wait --delete --max-delete 1000 >"$T/push.out" 2>&1 &
push_pid=$!
# While it runs, xferctl sessions shows the new handshakes, and keys younger than the
# reject limit (the rekey interval plus the time a handshake takes), on both sides: A's
# session it pushes and B's session it serves, each with its peer's key fingerprint
# (both hold the test key: the first 8 bytes of SHA-256 of XFN_PUB).
fp=$(python3 -c 'import base64, hashlib, sys
print(hashlib.sha256(base64.b64decode(sys.argv[1])).hexdigest()[:16])' "$XFN_PUB")
seen=
seen_b=
for _ in $(seq 200); do
	[ -n "$seen" ] || seen=$(xfn_ctl A --json sessions | python3 -c 'import json, sys
r = json.load(sys.stdin); r = r.get("result", r)
s = [x for x in r["sessions"] if x.get("rekeys", 0) >= 2 and x["role"] == "sender"
     and x["key_fingerprint"] == sys.argv[1]]
print("%d %d" % (s[0]["rekeys"], s[0]["key_age_ms"]) if s else "")' "$fp") || true
	[ -n "$seen_b" ] || seen_b=$(xfn_ctl B --json sessions | python3 -c 'import json, sys
r = json.load(sys.stdin); r = r.get("result", r)
s = [x for x in r["sessions"] if x.get("rekeys", 0) >= 2 and x["role"] == "receiver"
     and x["key_fingerprint"] == sys.argv[1] and x["peer"] == "peer"]
print("%d %d" % (s[0]["rekeys"], s[0]["key_age_ms"]) if s else "")' "$fp") || true
	[ -n "$seen" ] && [ -n "$seen_b" ] && break
	kill -0 "$push_pid" 2>/dev/null || break
	sleep 0.1
done
rc=0
wait "$push_pid" || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
cat "$T/push.out"
[ -n "$seen" ] || xfn_fail "xferctl sessions never showed two new handshakes during the push"
read -r rekeys age <<<"$seen"
echo "$XFN_NAME: xferctl sessions during the push: rekeys=$rekeys key_age_ms=$age"
[ "$age" -lt 5000 ] || xfn_fail "keys $age ms old in xferctl sessions (refused at 5000)"
[ -n "$seen_b" ] ||
	xfn_fail "B's xferctl sessions never showed its served session with two new handshakes"
read -r rekeys age <<<"$seen_b"
echo "$XFN_NAME: B's xferctl sessions (receiver): rekeys=$rekeys key_age_ms=$age"
[ "$age" -lt 5000 ] || xfn_fail "B: keys $age ms old in xferctl sessions (refused at 5000)"
xfn_watch_stop
[ "$rc" -eq 0 ] || xfn_fail "push exited with status $rc"

read -r state failed lost < <(xfn_q A jobs \
	"' '.join(str(r['jobs'][-1][k]) for k in ('state', 'files_failed', 'lost'))")
echo "$XFN_NAME: pushed in $ms ms: state=$state files_failed=$failed lost=$lost"
echo "$XFN_NAME: nft toward B: $(xfn_nft_counters s "${XFN_TAG}sb");" \
	"toward A: $(xfn_nft_counters s "${XFN_TAG}sa")"
[ "$state" = "done" ] || xfn_fail "job state is $state, expected done"
[ "$failed" -eq 0 ] || xfn_fail "$failed files failed"
xfn_same "$T/src" "$T/B-vault/tree"
[ ! -e "$T/B/tree" ] || xfn_fail "the push into volume vault wrote into B's first volume"
grep -q "Number of deleted files: 1" "$T/push.out" || xfn_fail "the extraneous file was not deleted"

python3 - "$(xfn_ctl A --json stats)" "$(xfn_ctl B --json stats)" "$XFN_WATCH" \
	"$ms" <<'PY' || xfn_fail "rekeying counters or the wire do not match (above)"
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
a, b = (r.get("result", r) for r in (a, b))
w = json.loads(sys.argv[3])
ms = int(sys.argv[4])
bad = []
for name, r in (("A", a), ("B", b)):
    sec, drops = r["security"], r["drops"]
    print("%s: security %s; auth drops %s; timed out %d" % (
        name, sec, {k: v for k, v in drops.items() if k.startswith(("auth_", "hs_"))},
        r["dataplane"]["sessions_timed_out"]))
    # a new handshake every 2 s of the push, give or take the first and the last
    if sec["rekeys"] < max(2, ms // 2000 - 1):
        bad.append("%s: %d new handshakes in %d ms" % (name, sec["rekeys"], ms))
    if sec["nonce_refused"] != 0:
        bad.append("%s: nonce_refused %d" % (name, sec["nonce_refused"]))
    if drops["auth_expired"] != 0:
        bad.append("%s: %d frames under expired keys" % (name, drops["auth_expired"]))
    # every new handshake of the push asks for what its first did (docs/PROTOCOL.md 6.13)
    if drops["hs_rekey_changed"] != 0:
        bad.append("%s: %d new handshakes refused as asking for another destination" % (
            name, drops["hs_rekey_changed"]))
    if r["dataplane"]["sessions_timed_out"] != 0:
        bad.append("%s: a session timed out" % name)
    # Both roles' Diffie-Hellman on the handshake thread, none on an RX core: the
    # responder's (B) and the initiator's (A: its first HELLO, its copies, every new
    # handshake's message 1 and every message 2 it read).
    if sec["hs_dh_oncore"] != 0:
        bad.append("%s: its RX cores did %d X25519 operations" % (name, sec["hs_dh_oncore"]))
    if sec["hs_dh_offcore"] < 4 * sec["handshakes"]:
        bad.append("%s: the handshake thread did %d X25519 operations for %d handshakes" % (
            name, sec["hs_dh_offcore"], sec["handshakes"]))
# A seals most (the data): a key update every 1,024 frames
if a["security"]["key_updates"] < a["security"]["frames_sealed"] // 1024 // 2:
    bad.append("A: %d key updates for %d frames sealed" % (
        a["security"]["key_updates"], a["security"]["frames_sealed"]))
print("wire: %s" % w)
if w["reused"] != 0:
    bad.append("%d packet numbers carried by two different frames" % w["reused"])
if w["frames"] < 1000:
    bad.append("only %d frames watched" % w["frames"])
for port, bits in w["bits"].items():
    if min(bits.values()) == 0:
        bad.append("%s: frames under one key epoch or phase only: %s" % (port, bits))
if bad:
    print("FAIL: " + "; ".join(bad))
sys.exit(1 if bad else 0)
PY

# The handshake thread sleeps until an RX core hands it work (docs/ENGINE.md): over the
# whole run its voluntary context switches stay within a few per request handed to it:
# B's, the HELLOs (security.hs_dh); A's, the push's message 1s and message 2s, each of
# at least two X25519 operations (security.hs_dh_offcore / 2). One that polled on a
# timer made tens of thousands a second. Counts, not times: the machine's load does not
# move them.
hs_switches() { # NAME -> voluntary context switches of its xferd-hs thread
	local t v="XFN_PID_$1"
	for t in /proc/"${!v}"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = xferd-hs ] || continue
		awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status"
		return 0
	done
	echo "none"
}
for n in A B; do
	sw=$(hs_switches "$n")
	if [ "$n" = A ]; then
		dh=$(xfn_q "$n" stats "r['security']['hs_dh_offcore'] // 2")
	else
		dh=$(xfn_q "$n" stats "r['security']['hs_dh']")
	fi
	echo "$XFN_NAME: $n's handshake thread: $sw voluntary context switches, $dh requests handed to it"
	[ "$sw" != none ] || xfn_fail "$n has no xferd-hs thread"
	[ "$sw" -le $((4 * dh + 16)) ] ||
		xfn_fail "$n's handshake thread woke $sw times for $dh requests: it polls"
done

xfn_stop A
xfn_stop B
echo "$XFN_NAME: PASS (identical in $ms ms through new handshakes and key updates)"

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Allowed but hostile peers beside a legitimate push. Appliance A pushes a tree to B
# while the kernel side of a bridge (addresses in B's peer allowlist, and one outside
# it) runs hostile_session.py against B:
#   refused   a HELLO from an address outside the allowlist is refused without an ARP
#             request (a spoofed on-link source must not touch B's neighbour table);
#   cap       session.max_sessions_per_peer (3 here) sessions from one address, the next
#             HELLO refused BUSY;
#   idreuse   a second allowed address opens a session under the id of a first one's
#             and pushes its own file first: each session commits its own file;
#   rehello   a session that ended gets its HELLO again, as sent and rebuilt: not
#             opened anew (drops.hello_ended), nothing answered;
#   lastmore  FLIST LAST below an entry already seen, or entries at or above a LAST
#             total: ABORT(PROTOCOL), B survives;
#   pull      PULL HELLOs (docs/PROTOCOL.md 6.18) from a peer without allow_pull, a
#             malformed one, one for a source outside control.push_roots from a peer
#             that may pull: each ABORT(REFUSED) naming its reason, counted in
#             stats.pull.refused; a PULL HELLO in clear: not answered;
#   traps     a session whose file list holds paths with '..', absolute and malformed
#             paths, a symlink leading out of the volume and a file through it, DATA far
#             beyond a file's announced size, a bad CRC and a short file; an FLIST sent
#             before the HELLO_ACK was acknowledged and a PING numbered 2^64-1, neither
#             taken. Last, so it also shows B still serves after the others.
# A and B run session.security aead with a PSK; the hostile peers above hold the key and
# the PSK (hostile_session.py speaks protocol version 2 through xfsec.py), and these
# attack the keys themselves (docs/SECURITY.md 1):
#   replay    frames of A's push captured on the bridge and sent again: all dropped;
#   nokey     an allowed address without the key: a version-1 HELLO, a HELLO in clear,
#             a made-up message 1, a wrong static key, frames of no session: nothing
#             answered, each counted under its reason;
#   flips     every byte of a sealed FLIST flipped in turn: none decided or acked, each
#             counted under its reason; the genuine file then commits;
#   wrongpsk  the right static key and another PSK: B answers, but nothing verifies
#             either way; B's session times out;
#   rekeydest a keyed session's new handshakes naming another destination, another
#             volume or added filter rules: refused unanswered (drops.hs_rekey_changed);
#             one naming its own destination: answered under the new keys.
# Every trap must be refused or failed with its status, nothing may appear outside the
# volume or stay in its temp directory, every session must close (the wrong PSK's by
# timeout), each drop must be counted under its reason, and A's push must finish
# identical.
#
#   hostile-session.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-hostile-session "${1:-}" "${2:-}"
command -v ping >/dev/null || xfn_skip "needs 'ping' (iputils-ping)"
here=$(cd "$(dirname "$0")" && pwd)

net=10.213.13
xfn_ns s
xfn_ns a
xfn_ns b
xfn_veth s "${XFN_TAG}sa" a "${XFN_TAG}a"
xfn_veth s "${XFN_TAG}sb" b "${XFN_TAG}b"
xfn_bridge s "${XFN_TAG}br" "$net.1/24" "${XFN_TAG}sa" "${XFN_TAG}sb"
# .1 traps, .4 and .7 idreuse, .5 cap, .6 lastmore: all allowed; .9 is not. nokey runs
# from .4 without the key, wrongpsk from .6, flips from .7.
for h in 4 5 6 7 9; do
	ip -n "${XFN_TAG}s" addr add "$net.$h/24" dev "${XFN_TAG}br"
done
xfn_key
"$XFERD" keygen "$T/psk.key" >/dev/null || xfn_fail "xferd keygen failed"
psk=(--set "session.psk_file=$T/psk.key")
xfn_start A a "${XFN_TAG}a" "$net.3/24" "$net.2" --set session.rate_mbit=4 "${psk[@]}"
xfn_start B b "${XFN_TAG}b" "$net.2/24" "$net.1" --set session.max_sessions_per_peer=3 \
	"${psk[@]}" --set "peers[1]={name: a, ipv4: $net.3, public_key: \"$XFN_PUB\"}" \
	--set "peers[2]={name: k4, ipv4: $net.4, public_key: \"$XFN_PUB\"}" \
	--set "peers[3]={name: k5, ipv4: $net.5, public_key: \"$XFN_PUB\", allow_pull: true}" \
	--set "peers[4]={name: k6, ipv4: $net.6, public_key: \"$XFN_PUB\"}" \
	--set "peers[5]={name: k7, ipv4: $net.7, public_key: \"$XFN_PUB\"}"
# The hostile peers' keys: the appliances' test key and PSK, and B's public key.
export XF_HS_KEY=$T/test.key XF_HS_PEER_PUB=$XFN_PUB XF_HS_PSK=$T/psk.key
xfn_mktree "$T/src" 1515 3000
snap() {
	xfn_ctl B --json stats
}
hs() {
	ip netns exec "${XFN_TAG}s" timeout 60 python3 "$here/hostile_session.py" "$@" \
		>"$T/hs-$1.out" || {
		cat "$T/hs-$1.out"
		snap | python3 -c 'import json, sys; r = json.load(sys.stdin); r = r.get("result", r)
print("B now:", {k: v for k, v in r["drops"].items() if v}, r["security"], r["dataplane"])' || true
		xfn_fail "hostile_session.py $1: outcomes differ from the expected ones (above)"
	}
	cat "$T/hs-$1.out"
	tail -n 1 "$T/hs-$1.out" >>"$T/counts.jsonl"
}

mkdir "$T/outside"
before=$(snap)
xfn_ctl A push "$T/src" peer:tree --wait >"$T/push.out" 2>&1 &
push_pid=$!
# The kernel resolves B from .1 first: its ARP request for B then does not come from .9
# (B learns the sender of a request for itself), so only B's answer could resolve .9.
ip netns exec "${XFN_TAG}s" timeout 10 ping -n -c 1 -W 5 -I "$net.1" "$net.2" >/dev/null ||
	xfn_fail "B does not answer ping"
hs replay "${XFN_TAG}sb" "$net.2" 2
hs refused "$net.9" "$net.2" "${XFN_TAG}br"
hs nokey "$net.4" "$net.2"
hs flips "$net.7" "$net.2"
hs cap "$net.5" "$net.2" 3
hs idreuse "$net.4" "$net.7" "$net.2"
hs rehello "$net.4" "$net.2"
hs lastmore "$net.6" "$net.2"
hs rekeydest "$net.6" "$net.2"
# Its three refusals are logged once, for the session (the peer holds the keys).
rk_logged() { cat "$T/B.out" "$T/B.err" 2>/dev/null | grep -c "a new handshake asked for another destination" || true; }
for _ in $(seq 50); do
	[ "$(rk_logged)" -ge 1 ] && break
	sleep 0.1
done
[ "$(rk_logged)" = 1 ] || xfn_fail "B logged $(rk_logged) refused new handshakes, not 1"
hs pull "$net.4" "$net.5" "$net.2" B
hs traps "$net.1" "$net.2" "$T/outside"
state=$(xfn_q A jobs "r['jobs'][-1]['state']")
rc=0
wait "$push_pid" || rc=$?
cat "$T/push.out"
[ "$rc" -eq 0 ] || xfn_fail "the legitimate push exited with status $rc"
xfn_same "$T/src" "$T/B/tree"
echo "$XFN_NAME: the legitimate push is identical; it was '$state' after the hostile sessions"
hs wrongpsk "$net.6" "$net.2"

# Every session B served has let go (aborted ones close once their workers have).
# The wrong PSK's session ends by timeout (session.timeout_ms, 10 s).
for _ in $(seq 250); do
	[ "$(xfn_q B sessions "r['receiving']")" = 0 ] && break
	sleep 0.1
done
after=$(snap)

[ "$(cat "$T/B/hs/ok.txt")" = hello ] || xfn_fail "hs/ok.txt was not committed"
[ "$(readlink "$T/B/hs/lnk")" = "$T/outside" ] || xfn_fail "hs/lnk is not the symlink sent"
[ -z "$(ls -A "$T/outside")" ] || xfn_fail "a file was written through hs/lnk: $(ls -A "$T/outside")"
for p in "$T/B/nk" "$T/B/wp" "$T/escape" "$T/b" /abs "$T/B/hs/a" "$T/B/hs/huge.bin" "$T/B/hs/badcrc.bin" \
	"$T/B/hs/short.bin" "$T/B/x" "$T/x"; do
	if [ -e "$p" ] || [ -L "$p" ]; then
		xfn_fail "$p exists after the hostile sessions"
	fi
done
[ "$(cat "$T/B/idreuse/v/f.txt")" = victim ] ||
	xfn_fail "idreuse/v/f.txt is not what its own session sent"
[ "$(cat "$T/B/idreuse/a/f.txt")" = hacker ] ||
	xfn_fail "idreuse/a/f.txt is not what its own session sent"
left=$(find "$T/B/.xferd/tmp" -mindepth 1 2>/dev/null | head -n 5)
[ -z "$left" ] || xfn_fail "B's temp directory is not empty after the hostile sessions: $left"
python3 - "$before" "$after" "$T/counts.jsonl" <<'PY' || xfn_fail "B's counters do not match the hostile sessions"
import json, sys
b, a = (json.loads(x) for x in sys.argv[1:3])
b, a = (r.get("result", r) for r in (b, a))
want, least = {}, {}
for line in open(sys.argv[3]):
    for k, v in json.loads(line).items():
        if k == "min":
            for m, x in v.items():
                least[m] = least.get(m, 0) + x
        else:
            want[k] = want.get(k, 0) + v
n = want.pop("sessions") + 1  # and A's push
want.update(sessions_opened=n, sessions_closed=n,
            sessions_timed_out=want.pop("timed_out", 0),
            bad_frames=want.get("bad_frames", 0),
            hello_refused=want["hello_not_allowed"] + want["hello_peer_cap"])
# A replayed frame is a duplicate of its session, behind its window, or of a session
# that has ended: at least that many of those three; the other drops exactly.
gone = want.pop("replayed", 0) + want.pop("no_session", 0)
def delta(k):
    if k.startswith("pipeline_"):  # per volume: summed over B's volumes
        return sum(v[k] for v in a["volumes"]) - sum(v[k] for v in b["volumes"])
    if k.startswith("pull_"):  # stats.pull.refused.REASON
        return a["pull"]["refused"][k[5:]] - b["pull"]["refused"][k[5:]]
    sect = "dataplane" if k.startswith("sessions_") or k == "bad_frames" else "drops"
    return a[sect][k] - b[sect][k]
got = {k: delta(k) for k in want}
got_gone = delta("auth_replayed") + delta("auth_too_old") + delta("no_session")
print("hostile sessions: %s; replayed or gone %d (at least %d)" % (got, got_gone, gone))
bad = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
bad.update({k: (delta(k), ">= %d" % v) for k, v in least.items() if delta(k) < v})
if got_gone < gone:
    bad["replayed or gone"] = (got_gone, ">= %d" % gone)
if a["security"]["nonce_refused"] != 0:
    bad["nonce_refused"] = (a["security"]["nonce_refused"], 0)
for k in ("pend_full", "pipeline_dry_dropped", "pipeline_stale_done", "pipeline_bad_frames"):
    if delta(k) != 0:  # no dry run; no late completion; the codec took every frame
        bad[k] = (delta(k), 0)
if bad:
    print("mismatch (got, expected): %s" % bad)
sys.exit(1 if bad else 0)
PY

xfn_stop A
xfn_stop B
echo "$XFN_NAME: PASS"

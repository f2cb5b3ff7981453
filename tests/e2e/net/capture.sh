#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# `xferctl capture` on the receiving appliance during a push: the file is a pcapng that
# tshark reads with the dissector (contrib/wireshark/xferd.lua) and holds exactly N
# frames, both directions, with no malformed-packet mark; the push completes identical;
# the push (session.security aead, the default) has --delete and a filter rule, and
# neither its destination path nor the rule is in any byte of the file: the HELLO in it
# carries them sealed in Noise message 1 (docs/PROTOCOL.md 3.1.3, 3.1.4), padded to the
# block's one size; a plain push before it (no --delete, another destination's length)
# shows the same: every HELLO of both has the same clear flags (AEAD, SEALED_DEST,
# SEALED_OPTS), window 0 and the same length, so nothing in clear tells a deleting push
# from a plain one; the HELLOs of a destination field of 1 byte and of 1246 bytes (the
# most a HELLO holds under AEAD), each captured, are as long as those; one of 1247 bytes
# is refused before anything is sent;
# a second capture while one runs is refused (busy); the control command refuses
# arguments out of bounds (port, count, timeout, path), each with its reason.
#
#   capture.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-capture "${1:-}" "${2:-}"
command -v tshark >/dev/null || xfn_fail "needs tshark (scripts/install-deps.sh)"
lua="$(cd "$(dirname "$0")" && pwd)/../../../contrib/wireshark/xferd.lua"
n=500

xfn_ns a
xfn_ns b
xfn_veth a "${XFN_TAG}a" b "${XFN_TAG}b"
xfn_start A a "${XFN_TAG}a" 10.213.11.1/24 10.213.11.2
xfn_start B b "${XFN_TAG}b" 10.213.11.2/24 10.213.11.1
xfn_mktree "$T/src" 20261207 200 1
xfn_mktree "$T/plain" 20261208 3

# The control command's bounds, from a raw client (xferctl checks its own first).
python3 - "$T/B.sock" "$T" <<-'EOF' || xfn_fail "a bad capture request was not refused as expected"
	import json, socket, sys
	sock, tmp = sys.argv[1], sys.argv[2]
	open(tmp + "/exists.pcapng", "w").close()
	good = {"port": "wire0", "count": 5, "path": tmp + "/x.pcapng"}
	cases = [
	    ({"port": "nope"}, "not_found"), ({"port": 1}, "not_found"), ({"port": [0]}, "invalid_args"),
	    ({"count": 0}, "invalid_args"), ({"count": 10000001}, "invalid_args"),
	    ({"count": "5"}, "invalid_args"), ({"count": None}, "invalid_args"),
	    ({"timeout_ms": 0}, "invalid_args"), ({"timeout_ms": 86400001}, "invalid_args"),
	    ({"path": "rel.pcapng"}, "invalid_args"), ({"path": "/" + "a" * 4095}, "invalid_args"),
	    ({"path": 7}, "invalid_args"), ({"path": tmp + "/exists.pcapng"}, "failed"),
	    ({"path": tmp + "/nodir/x.pcapng"}, "failed"),
	]
	s = socket.socket(socket.AF_UNIX)
	s.connect(sock)
	f = s.makefile("rw")
	bad = 0
	for i, (change, code) in enumerate(cases):
	    args = dict(good, **change)
	    args = {k: v for k, v in args.items() if v is not None}
	    f.write(json.dumps({"v": 1, "id": i, "cmd": "capture", "args": args}) + "\n")
	    f.flush()
	    r = json.loads(f.readline())
	    got = None if r.get("ok") else r["error"]["code"]
	    print(f"capture {sorted(change)}: {got} {r.get('error', {}).get('message', '')[:100]}")
	    bad += got != code
	sys.exit(1 if bad else 0)
EOF

xfn_ctl B capture --port wire0 --count "$n" --timeout 40 "$T/B.pcapng" >"$T/capture.out" 2>&1 &
cap=$!
for _ in $(seq 200); do
	[ "$(xfn_q B capture-status "r['state']")" = running ] && break
	sleep 0.05
done
[ "$(xfn_q B capture-status "r['state']")" = running ] || xfn_fail "the capture did not start"
rc=0
xfn_ctl B capture --port 0 --count 1 "$T/second.pcapng" >"$T/second.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "a capture is running" "$T/second.out" ||
	xfn_fail "a second capture was not refused: $(cat "$T/second.out")"

# Strings that appear nowhere but in the push's destination field (a rule that matches no
# file of the tree, so the copy stays identical).
dest=tree-conf1dential-dest-7c2e
rule=zz-s3cret-rule-9f41.tmp
xfn_ctl A push "$T/plain" peer:p --wait >/dev/null || xfn_fail "the plain push failed"
xfn_ctl A push "$T/src" "peer:$dest" --wait --delete --exclude "$rule" >/dev/null ||
	xfn_fail "push failed"
wait "$cap" || xfn_fail "xferctl capture failed: $(cat "$T/capture.out")"
cat "$T/capture.out"
xfn_same "$T/src" "$T/B/$dest"
xfn_same "$T/plain" "$T/B/p"
read -r written missed < <(xfn_q B capture-status "r['written'], r['missed']" | tr -d '(),')

decoded=$(tshark -n -X "lua_script:$lua" -r "$T/B.pcapng" -T fields \
	-e frame.packet_flags_direction -e xferd.type -e _ws.malformed 2>"$T/tshark.err") ||
	xfn_fail "tshark cannot read the capture: $(cat "$T/tshark.err")"
frames=$(printf '%s\n' "$decoded" | grep -c . || true)
in=$(printf '%s\n' "$decoded" | awk -F'\t' '$1 == 1 && $2 != ""' | wc -l)
out=$(printf '%s\n' "$decoded" | awk -F'\t' '$1 == 2 && $2 != ""' | wc -l)
bad=$(printf '%s\n' "$decoded" | awk -F'\t' '$3 != ""' | wc -l)
echo "$XFN_NAME: $frames frames in the file (xferd inbound $in, outbound $out), malformed $bad;" \
	"daemon: written=$written missed=$missed"
[ "$frames" -eq "$n" ] || xfn_fail "the file has $frames frames, expected $n"
[ "$written" -eq "$n" ] || xfn_fail "the daemon wrote $written frames, expected $n"
[ "$in" -gt 0 ] && [ "$out" -gt 0 ] || xfn_fail "frames of one direction are missing"
[ "$bad" -eq 0 ] || xfn_fail "$bad frames marked malformed"
# The options and the destination field (the path, a NUL and the rule "- RULE\n"): sealed
# in the HELLO's message 1, padded to 1256 bytes, in clear nowhere in the file. Both
# pushes' HELLOs (two sessions, any copies) alike: one row of clear fields and one length.
hellos=$(tshark -n -X "lua_script:$lua" -r "$T/B.pcapng" -Y "xferd.type == 1" -T fields \
	-e xferd.session -e xferd.hello.flags -e xferd.hello.window -e xferd.hello.dest_len \
	-e xferd.noise.sealed_len -e frame.len 2>>"$T/tshark.err")
nsess=$(printf '%s\n' "$hellos" | cut -f1 | sort -u | grep -c . || true)
sealed=$(printf '%s\n' "$hellos" | cut -f2- | sort -u)
hello_len=$((14 + 20 + 8 + 52 + 148 + 1256))
echo "$XFN_NAME: HELLOs of $nsess sessions (flags, window, dest_len, sealed block, frame length):" \
	"$sealed; expected 0x00024002 0 0 1256 $hello_len"
[ "$nsess" -eq 2 ] || xfn_fail "expected the HELLOs of 2 sessions in the capture, found $nsess"
[ "$sealed" = "$(printf '0x00024002\t0\t0\t1256\t%s' $hello_len)" ] ||
	xfn_fail "the HELLOs of a --delete push and a plain one differ in clear: '$sealed'"
for s in "$dest" "$rule" conf1dential s3cret-rule; do
	! grep -a -F -q -- "$s" "$T/B.pcapng" || xfn_fail "'$s' is in clear in the capture"
done
# The largest destination field a HELLO holds at MTU 1500 under AEAD, 1472 - 16 - 52 - 148
# - 10 = 1246 bytes (docs/PROTOCOL.md 3.1.4: the sealed block's fixed part takes 10):
# "b1", a NUL and 1243 bytes of rules ("- PAT\n" each) go; one byte more is refused before
# anything is sent.
rules_file() { # LAST_PATTERN_LEN: nine rules of 125 bytes, then one of LEN + 3
	for i in 1 2 3 4 5 6 7 8 9; do printf -- '%s\n' "zz$i$(printf 'q%.0s' $(seq 119))"; done
	printf -- '%s\n' "zy$(printf 'q%.0s' $(seq $(($1 - 2))))"
}
rules_file 115 >"$T/rules-fit"
rules_file 116 >"$T/rules-over"
# hello_of DEST PUSH_ARGS...: a push to DEST with a capture of its first frames on B
# running; prints its HELLOs' distinct (sealed block, frame length) rows.
hello_of() {
	local f="$T/hello-$1.pcapng" c out
	xfn_ctl B capture --port wire0 --count 4 --timeout 20 "$f" >"$f.out" 2>&1 &
	c=$!
	for _ in $(seq 200); do
		[ "$(xfn_q B capture-status "r['state']")" = running ] && break
		sleep 0.05
	done
	out=$(xfn_ctl A push "$T/src" "peer:$1" --wait "${@:2}" 2>&1) ||
		xfn_fail "the push to $1 failed: $out"
	wait "$c" || xfn_fail "the capture of the push to $1 failed: $(cat "$f.out")"
	tshark -n -X "lua_script:$lua" -r "$f" -Y "xferd.type == 1" -T fields \
		-e xferd.noise.sealed_len -e frame.len 2>>"$T/tshark.err" | sort -u
}
short=$(hello_of x)
long=$(hello_of b1 --delete --exclude-from "$T/rules-fit")
echo "$XFN_NAME: HELLO (sealed block, frame length) of a 1-byte field: $short, of 1246: $long"
[ "$short" = "$(printf '1256\t%s' $hello_len)" ] && [ "$long" = "$short" ] ||
	xfn_fail "the HELLOs of a 1-byte and a 1246-byte destination field differ in length"
rc=0
err=$(xfn_ctl A push "$T/src" peer:b2 --delete --exclude-from "$T/rules-over" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && case $err in *"more than the 1246 bytes a HELLO holds"*) true ;; *) false ;; esac ||
	xfn_fail "a destination field of 1247 bytes was not refused (exit $rc): $err"
echo "$XFN_NAME: destination fields of 1 and 1246 bytes went in HELLOs of $hello_len bytes," \
	"1247 was refused"
# After the capture the cores copy nothing: written stays, the next capture starts.
xfn_ctl B capture --port wire0 --count 2 --timeout 1 "$T/after.pcapng" >/dev/null 2>&1 || true
[ -s "$T/after.pcapng" ] || xfn_fail "no file from a capture after the first"

xfn_stop A
xfn_stop B
echo "$XFN_NAME: PASS"

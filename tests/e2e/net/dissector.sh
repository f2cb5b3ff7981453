#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Wireshark dissector on real traffic: two appliances joined by a bridge (no loss),
# tshark capturing on the bridge port toward A while A pushes a tree to B, then changes
# one large file in place and pushes again (DELTA: SIG and COPY frames). Run once with
# session.security none and once with aead (the default). Then
# `tshark -X lua_script:contrib/wireshark/xferd.lua -r CAP` must decode every UDP datagram
# as xferd with no malformed-packet mark and no expert error, and what it counts must
# agree with the appliances' own counters (analyse_capture.py says which). The pushes have
# --delete and a filter rule: their destination path and the rule are in the capture's
# bytes in clear with none, and in no byte of it with aead (sealed in message 1).
#
#   dissector.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-dissector "${1:-}" "${2:-}"
command -v tshark >/dev/null || xfn_fail "needs tshark (scripts/install-deps.sh)"
here=$(cd "$(dirname "$0")" && pwd)
lua="$here/../../../contrib/wireshark/xferd.lua"

xfn_ns a
xfn_ns b
xfn_lossy_link a "${XFN_TAG}a" b "${XFN_TAG}b"

xfn_mktree "$T/src" 20261206 200 1

# capture_start FILE: tshark on the bridge port toward A, until capture_stop. tshark says
# "Capturing on" before its socket sees every frame, so probes (UDP to port 9, which the
# analysis leaves out) go out that port until one is in the file.
CAP_PID=
capture_start() {
	local n
	ip netns exec "${XFN_TAG}s" tshark -n -q -B 64 -i "${XFN_TAG}sa" -f udp -w "$1" \
		2>"$T/tshark.err" &
	CAP_PID=$!
	XFN_PIDS+=("$CAP_PID")
	for _ in $(seq 200); do
		ip netns exec "${XFN_TAG}s" python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, 17, 0, bytes([10, 213, 10, 99]),
                 bytes([10, 213, 10, 98]))
s.send(b"\x02\0\0\0\0\x99" * 2 + b"\x08\x00" + ip + struct.pack(">HHHH", 9, 9, 8, 0))
' "${XFN_TAG}sa"
		n=$(tshark -n -r "$1" -Y "udp.dstport == 9" 2>/dev/null | wc -l) || n=0
		[ "$n" -gt 0 ] && return
		sleep 0.1
	done
	xfn_fail "tshark did not capture a probe: $(cat "$T/tshark.err")"
}

# wait_captured FILE N: poll (10 s at most) until FILE holds N datagrams toward B, the
# receiver's own count: dumpcap writes what its socket buffered on its own time, and an
# interrupt that comes first loses the tail (the whole second push once, in a fresh root).
# The analysis says what is still missing after that.
wait_captured() {
	local n
	for _ in $(seq 100); do
		n=$(tshark -n -r "$1" -Y "ip.dst == 10.213.10.2 && !(udp.dstport == 9)" \
			2>/dev/null | wc -l) || n=0
		[ "$n" -ge "$2" ] && return
		sleep 0.1
	done
}

capture_stop() {
	kill -INT "$CAP_PID"
	wait "$CAP_PID" || xfn_fail "tshark capture failed: $(cat "$T/tshark.err")"
}

# wait_closed NAME OPENED: poll until appliance NAME has closed OPENED receive sessions.
wait_closed() {
	local closed
	for _ in $(seq 200); do
		closed=$(xfn_q "$1" stats "r['dataplane']['sessions_closed']")
		[ "$closed" -ge "$2" ] && return
		sleep 0.05
	done
	xfn_fail "$1 closed $closed of $2 sessions"
}

run() {
	local mode=$1 cap="$T/$1.pcapng"
	# Paced, so that a loaded machine (tshark included) drops less at the receiver.
	xfn_start A a "${XFN_TAG}a" 10.213.10.1/24 10.213.10.2 --set "session.security=$mode" \
		--set session.rate_mbit=200
	xfn_start B b "${XFN_TAG}b" 10.213.10.2/24 10.213.10.1 --set "session.security=$mode"
	capture_start "$cap"
	# --delete with a filter rule (matching no file): the destination field holds the path
	# and the rule, which the analysis looks for in the capture's bytes.
	xfn_ctl A push "$T/src" "peer:$mode-$SECRET_DEST" --wait --delete --exclude "$SECRET_RULE" \
		>/dev/null || xfn_fail "$mode: first push failed"
	# Change 64 bytes (random) in the middle of the large file: the next push sends it as DELTA.
	python3 -c '
import glob, os, sys
f = glob.glob(os.path.join(sys.argv[1], "**", "big*.bin"), recursive=True)[0]
with open(f, "r+b") as h:
    h.seek(os.path.getsize(f) // 2)
    h.write(os.urandom(64))
' "$T/src"
	xfn_ctl A push "$T/src" "peer:$mode-$SECRET_DEST" --wait --delete --exclude "$SECRET_RULE" \
		>/dev/null || xfn_fail "$mode: second push failed"
	wait_closed B 2
	xfn_ctl A --json jobs >"$T/$mode.jobs.json" || xfn_fail "xferctl jobs failed"
	xfn_ctl A --json stats >"$T/$mode.a.json" || xfn_fail "xferctl stats on A failed"
	xfn_ctl B --json stats >"$T/$mode.b.json" || xfn_fail "xferctl stats on B failed"
	wait_captured "$cap" "$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["dataplane"]["frames"])' "$T/$mode.b.json")"
	capture_stop
	xfn_same "$T/src" "$T/B/$mode-$SECRET_DEST"
	xfn_stop A
	xfn_stop B
	python3 "$here/analyse_capture.py" --lua "$lua" --mode "$mode" --cap "$cap" \
		--sender 10.213.10.1 --jobs "$T/$mode.jobs.json" --a "$T/$mode.a.json" \
		--b "$T/$mode.b.json" --secret "$SECRET_DEST" --secret "$SECRET_RULE" ||
		xfn_fail "$mode: the capture disagrees (above)"
}

# Strings found nowhere but in the pushes' destination fields: in the capture's bytes with
# session.security none, in none of them with aead (docs/SECURITY.md 1).
SECRET_DEST=conf1dential-dest-5b1d
SECRET_RULE=zz-s3cret-rule-0c77.tmp
run none
run aead
echo "$XFN_NAME: PASS"

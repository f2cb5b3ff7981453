#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# xferd under a service manager (Type=notify, docs/OPERATIONS.md "Under systemd"): with
# NOTIFY_SOCKET set, each daemon sends READY=1 once its ports and control socket are up,
# RELOADING=1 then READY=1 around a reload (xferctl reload, and SIGHUP: what the unit's
# ExecReload sends), and STOPPING=1 when it stops. A python listener plays systemd: it
# receives the datagrams with the sender's credentials, so each message is tied to the
# daemon that sent it. (Without NOTIFY_SOCKET nothing is sent: every other e2e test.)
#
#   sd-notify.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-sd-notify "${1:?}" "${2:?}"

log=$PAIR_DIR/notify.log
export NOTIFY_SOCKET=$PAIR_DIR/notify.sock
# One line per datagram: "PID MESSAGE", the message's newlines as '|'.
timeout -k 2 300 python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = 0
        for level, typ, data in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", data[:12])[0]
        out.write("%d %s\n" % (pid, msg.decode(errors="replace").replace("\n", "|")))
' "$NOTIFY_SOCKET" "$log" &
listener=$!
trap 'rc=$?; kill "$listener" 2>/dev/null; (exit $rc); pair_cleanup' EXIT
deadline=$((SECONDS + 10))
until [ -S "$NOTIFY_SOCKET" ]; do
	[ "$SECONDS" -lt "$deadline" ] || pair_fail "notify listener did not bind in 10s"
	sleep 0.02
done

# wait_msg PID PATTERN N: the log holds at least N lines from PID matching PATTERN.
wait_msg() {
	local pid=$1 pattern=$2 n=$3 deadline=$((SECONDS + 20))
	until [ "$(grep -c "^$pid $pattern" "$log" 2>/dev/null || true)" -ge "$n" ]; do
		[ "$SECONDS" -lt "$deadline" ] || pair_fail "no $n x '$pattern' from pid $pid in 20s; log: $(cat "$log")"
		sleep 0.02
	done
}

pair_start
# The daemons are timeout(1)'s children (pair.sh bounds their lifetime).
pid_a=$(pgrep -P "$PAIR_PID_A")
pid_b=$(pgrep -P "$PAIR_PID_B")
wait_msg "$pid_a" 'READY=1|STATUS=dev-a running' 1
wait_msg "$pid_b" 'READY=1|STATUS=dev-b running' 1
# Ready means serving: the control socket answers at that moment (it was up before).
pair_ctl a status >/dev/null || pair_fail "A sent READY=1 but its control socket does not answer"

# A reload over the socket, then one by SIGHUP: each is RELOADING=1 followed by READY=1.
pair_ctl a reload >/dev/null || pair_fail "xferctl reload failed"
wait_msg "$pid_a" 'READY=1|STATUS=reload applied; 1 applied' 1
kill -HUP "$pid_a"
wait_msg "$pid_a" 'READY=1|STATUS=reload applied; 2 applied' 1
[ "$(grep -c "^$pid_a RELOADING=1$" "$log")" -eq 2 ] || pair_fail "expected 2 RELOADING=1 from A: $(cat "$log")"
# Order: each RELOADING=1 is answered by a READY=1 before the next message of A.
seq=$(awk -v p="$pid_a" '$1 == p { sub(/\|.*/, "", $2); printf "%s ", $2 }' "$log")
[ "$seq" = "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 " ] ||
	pair_fail "A's messages in this order: $seq"
# B was not reloaded and said nothing more.
[ "$(grep -c "^$pid_b " "$log")" -eq 1 ] || pair_fail "B sent more than READY=1: $(cat "$log")"

pair_stop
wait_msg "$pid_a" 'STOPPING=1' 1
wait_msg "$pid_b" 'STOPPING=1' 1
pair_pass

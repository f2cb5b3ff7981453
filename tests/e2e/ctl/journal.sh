#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Logs to the journal with structured fields (docs/OPERATIONS.md, "Under systemd"): A
# starts with JOURNAL_STREAM naming its stderr, as systemd sets it, and sends its
# messages over the journal's native protocol with PRIORITY, SYSLOG_IDENTIFIER=xferd,
# XFERD_MODULE and XFERD_CORE; B gets the same JOURNAL_STREAM but its stderr is another
# file, so it logs to stderr as before. A python listener plays journald on
# /run/systemd/journal/socket, in a private mount namespace with a tmpfs on /run (the
# host's /run is not touched), so the test needs root for unshare -m.
#
#   journal.sh XFERD XFERCTL
set -euo pipefail
if [ -z "${XF_JOURNAL_NS:-}" ]; then
	if ! unshare -m true 2>/dev/null; then
		echo "e2e-journal: SKIP: needs unshare -m (root) for a private /run" >&2
		exit 77
	fi
	exec unshare -m --propagation private env XF_JOURNAL_NS=1 "$0" "$@"
fi
mount -t tmpfs xfjournal /run
mkdir -p /run/systemd/journal
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-journal "${1:?}" "${2:?}"

log=$PAIR_DIR/journal.log
# One line per datagram: its fields as JSON (the native protocol's KEY=VALUE lines).
timeout -k 2 300 python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        msg = s.recv(65536).decode(errors="replace")
        out.write(json.dumps(dict(l.split("=", 1) for l in msg.split("\n") if "=" in l)) + "\n")
' /run/systemd/journal/socket "$log" &
listener=$!
trap 'rc=$?; kill "$listener" 2>/dev/null; (exit $rc); pair_cleanup' EXIT
deadline=$((SECONDS + 10))
until [ -S /run/systemd/journal/socket ]; do
	[ "$SECONDS" -lt "$deadline" ] || pair_fail "journal listener did not bind in 10s"
	sleep 0.02
done

# JOURNAL_STREAM=DEV:INODE of A's stderr file (pair.sh truncates it, the inode stays).
: >"$PAIR_DIR/a.err"
JOURNAL_STREAM=$(stat -c '%d:%i' "$PAIR_DIR/a.err")
export JOURNAL_STREAM
pair_start
pair_ctl a reload >/dev/null || pair_fail "xferctl reload failed"

# wait_field PYEXPR: a message of the log for which PYEXPR (over its fields m) holds.
wait_field() {
	local deadline=$((SECONDS + 20))
	until python3 -c '
import json, sys
ok = any(eval(sys.argv[2], {"m": json.loads(l)}) for l in open(sys.argv[1]))
sys.exit(0 if ok else 1)' "$log" "$1" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || pair_fail "no journal message with $1 in 20s: $(cat "$log")"
		sleep 0.05
	done
}
wait_field 'm.get("SYSLOG_IDENTIFIER") == "xferd" and m.get("XFERD_MODULE") == "xferd" and "dev-a running" in m.get("MESSAGE", "") and m.get("PRIORITY") == "5" and m.get("XFERD_CORE", "").isdigit()'
wait_field 'm.get("XFERD_MODULE") == "reload" and m.get("MESSAGE", "").startswith("applied") and m.get("PRIORITY") == "5"'
# A wrote none of that to stderr; B (stderr not the journal stream) wrote it there only.
grep -q 'dev-a running' "$PAIR_DIR/a.err" && pair_fail "A logged to stderr too"
grep -q 'xferd: notice: xferd: dev-b running' "$PAIR_DIR/b.err" || pair_fail "B did not log to stderr"
grep -q 'dev-b running' "$log" && pair_fail "B logged to the journal, whose stream is not its stderr"
pair_log "A: $(wc -l <"$log") messages in the journal, structured; B: stderr"
pair_pass

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# An allowed but hostile peer: the kernel side of a veth (an address in the appliance's
# peer allowlist) opens a real session (hostile_session.py) whose file list holds paths
# with '..', absolute and malformed paths, a symlink leading out of the volume and a
# file through it, DATA far beyond a file's announced size, a bad CRC and a short file.
# Every trap must be refused or failed with its status, nothing may appear outside the
# volume or stay in its temp directory, and the session must close cleanly.
#
#   hostile-session.sh XFERD XFERCTL     (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-hostile-session "${1:-}" "${2:-}"
here=$(cd "$(dirname "$0")" && pwd)

xfn_ns k
xfn_ns b
xfn_veth k "${XFN_TAG}k" b "${XFN_TAG}b"
ip -n "${XFN_TAG}k" addr add 10.213.13.1/24 dev "${XFN_TAG}k"
xfn_start B b "${XFN_TAG}b" 10.213.13.2/24 10.213.13.1
snap() {
	xfn_ctl B --json stats
}

# An allowed but hostile peer: a session whose file list is full of traps.
mkdir "$T/outside"
before=$(snap)
py_rc=0
ip netns exec "${XFN_TAG}k" timeout 60 python3 "$here/hostile_session.py" 10.213.13.1 \
	10.213.13.2 "$T/outside" || py_rc=$?
after=$(snap)
[ "$(cat "$T/B/hs/ok.txt")" = hello ] || xfn_fail "hs/ok.txt was not committed"
[ "$(readlink "$T/B/hs/lnk")" = "$T/outside" ] || xfn_fail "hs/lnk is not the symlink sent"
[ -z "$(ls -A "$T/outside")" ] || xfn_fail "a file was written through hs/lnk: $(ls -A "$T/outside")"
for p in "$T/escape" "$T/b" /abs "$T/B/hs/a" "$T/B/hs/huge.bin" "$T/B/hs/badcrc.bin" \
	"$T/B/hs/short.bin"; do
	if [ -e "$p" ] || [ -L "$p" ]; then
		xfn_fail "$p exists after the hostile session"
	fi
done
left=$(find "$T/B/.xferd/tmp" -mindepth 1 2>/dev/null | head -n 5)
[ -z "$left" ] || xfn_fail "B's temp directory is not empty after the hostile session: $left"
python3 - "$before" "$after" <<'PY' || xfn_fail "the hostile session did not close cleanly"
import json, sys
b, a = (json.loads(x) for x in sys.argv[1:3])
b, a = (r.get("result", r)["dataplane"] for r in (b, a))
d = {k: a[k] - b[k] for k in ("sessions_opened", "sessions_closed", "sessions_timed_out", "bad_frames")}
print("hostile session: %s" % d)
sys.exit(0 if d == {"sessions_opened": 1, "sessions_closed": 1, "sessions_timed_out": 0, "bad_frames": 0} else 1)
PY
[ "$py_rc" -eq 0 ] || xfn_fail "the hostile session's outcomes differ from the expected ones (above)"

xfn_stop B
echo "$XFN_NAME: PASS"

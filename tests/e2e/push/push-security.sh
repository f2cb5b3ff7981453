#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: session.security (docs/CONFIG.md, "Session security").
#   none/aead  a peer whose mode differs is never answered: the push fails (the peer is
#              silent past the timeout), the receiver counts the HELLOs under
#              drops.hs_mode, and nothing is written;
#   none/none  B restarted in the lab mode too: the push completes identical, nothing is
#              sealed, and each daemon warned at its start.
# (aead/aead is every other push test. Only B restarts: a memif server restarted under
# its client loses the link, docs/OPERATIONS.md.)
#
#   push-security.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-security "${1:?}" "${2:?}"
s=$PAIR_DIR/src
mkdir -p "$s/d"
for i in 1 2 3; do
	head -c $((i * 5000)) /dev/urandom >"$s/d/f$i"
done

# pair_start_modes MODE_A MODE_B: start the pair, each side in its own mode.
pair_start_modes() {
	local deadline=$((SECONDS + PAIR_READY_TIMEOUT))
	pair_start_one a server --set "session.security=$1" --set session.timeout_ms=2000
	pair_wait_ready_line a "$PAIR_PID_A" "$deadline"
	pair_start_one b client --set "session.security=$2" --set session.timeout_ms=2000
	pair_wait_ready_line b "$PAIR_PID_B" "$deadline"
	pair_wait_link a "$PAIR_PID_A" "$deadline"
	pair_wait_link b "$PAIR_PID_B" "$deadline"
}

pair_start_modes none aead
before=$(pair_json b 'j["drops"]["hs_mode"]' stats)
rc=0
pair_push "$s" mixed >/dev/null || rc=$?
[ "$rc" -ne 0 ] || pair_fail "modes none/aead: the push succeeded"
[ "$(pair_job_field error)" = "peer silent past the timeout" ] ||
	pair_fail "modes none/aead: the push failed for another reason: $(pair_job_field error)"
after=$(pair_json b 'j["drops"]["hs_mode"]' stats)
[ "$after" -gt "$before" ] || pair_fail "modes none/aead: B did not count the HELLOs (hs_mode)"
[ ! -e "$PAIR_VOL_B/mixed" ] || pair_fail "modes none/aead: B wrote $PAIR_VOL_B/mixed"
pair_log "modes none/aead: refused in silence, hs_mode +$((after - before))"

# B again, in none (as push-restart.sh restarts it).
pair_ctl b shutdown >/dev/null || pair_fail "xferctl shutdown b failed"
wait "$PAIR_PID_B" || pair_fail "xferd b exited $?"
deadline=$((SECONDS + PAIR_READY_TIMEOUT))
pair_start_one b client --set session.security=none --set session.timeout_ms=2000
pair_wait_ready_line b "$PAIR_PID_B" "$deadline"
pair_wait_link b "$PAIR_PID_B" "$deadline"
for side in a b; do
	grep -q 'session.security is none: frames travel in clear' "$PAIR_DIR/$side.err" ||
		pair_fail "$side did not warn that session.security is none"
done
pair_push "$s" plain >/dev/null || pair_fail "push with both sides in none: exit $?"
pair_verify "$s" "$PAIR_VOL_B/plain"
for side in a b; do
	[ "$(pair_json "$side" '[j["security"]["mode"], j["security"]["frames_sealed"]]' stats)" = \
		'["none", 0]' ] || pair_fail "$side: mode none must seal nothing"
done
pair_pass

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif, under session.security aead (the dev pair's): a volume that
# asks for compression (volumes[].compress, docs/PROTOCOL.md 6.16). B's volume has
# compress: true and A's transfer.compress is false. A plain push of text into it
# compresses its DATA (B's HELLO_ACK asked: `xferctl jobs` says compress.on, why "peer
# volume"), B inflates every frame A compressed and refuses none, and the tree arrives
# identical; with --no-compress nothing is tried or compressed; with --lanes 2 every
# lane compresses. A pull by A of a directory in B's volume makes B's push back compress
# (why "source volume"), unless the pull said --no-compress.
#
#   push-compress-volume.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-compress-volume "${1:?usage: push-compress-volume.sh XFERD XFERCTL}" "${2:?}"
text=$PAIR_DIR/text
[ -d /usr/include/linux ] || pair_fail "no /usr/include/linux to copy (linux-libc-dev, which the build dependencies bring)"
mkdir -p "$text"
cp -a /usr/include/linux "$text/" || pair_fail "cannot copy /usr/include/linux"

# job_zip FIELD: the last job's compress.FIELD.
job_zip() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["compress"][sys.argv[2]])' \
		"$PAIR_DIR/job.json" "$1"
}
# b_zip FIELD: B's stats compress.FIELD.
b_zip() { pair_json b "j[\"compress\"][\"$1\"]" stats; }
b_refused() { pair_json b 'sum(v["pipeline_zip_refused"] for v in j["volumes"])' stats; }

# config/dev: transfer.compress false on both.
PAIR_SET_B="volumes[0].compress=true" pair_start --set "peers[0].allow_pull=true"

pair_push "$text" plain >"$PAIR_DIR/plain.out" || pair_fail "plain push: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
frames=$(job_zip frames_compressed)
pair_log "plain push into a volume with compress: $(job_zip bytes_raw) DATA bytes as" \
	"$(job_zip bytes_wire), $frames of $(job_zip frames_tried) frames tried compressed"
[ "$(job_zip on)" = True ] || pair_fail "compress.on is not true: B's volume asked"
[ "$(job_zip why)" = "peer volume" ] || pair_fail "compress.why is '$(job_zip why)'"
[ "$(job_zip peer_asked)" = True ] || pair_fail "compress.peer_asked is not true"
[ "$frames" -gt 0 ] || pair_fail "no frame compressed though B's volume asked"
[ "$(job_zip bytes_wire)" -lt "$(job_zip bytes_raw)" ] || pair_fail "DATA did not shrink"
grep -q '^Literal data compressed: ' "$PAIR_DIR/plain.out" ||
	pair_fail "push --wait prints no compression line: $(cat "$PAIR_DIR/plain.out")"
pair_verify "$text" "$PAIR_VOL_B/plain"
[ "$(b_zip frames_inflated)" -eq "$frames" ] ||
	pair_fail "B inflated $(b_zip frames_inflated) frames, A compressed $frames"
[ "$(b_refused)" -eq 0 ] || pair_fail "B refused compressed DATA its volume asked for"

pair_push "$text" nozip --no-compress >/dev/null || pair_fail "push --no-compress: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
[ "$(job_zip on)" = False ] || pair_fail "--no-compress: compress.on is true"
[ "$(job_zip why)" = "no-compress" ] || pair_fail "--no-compress: compress.why is '$(job_zip why)'"
[ "$(job_zip frames_tried)" -eq 0 ] || pair_fail "--no-compress tried $(job_zip frames_tried) frames"
[ "$(job_zip frames_compressed)" -eq 0 ] || pair_fail "--no-compress compressed frames"
[ "$(job_zip bytes_wire)" -eq "$(job_zip bytes_raw)" ] || pair_fail "--no-compress: DATA changed size"
pair_verify "$text" "$PAIR_VOL_B/nozip"
[ "$(b_zip frames_inflated)" -eq "$frames" ] || pair_fail "B inflated frames of --no-compress"

pair_push "$text" lanes --lanes 2 >/dev/null || pair_fail "push --lanes 2: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field lanes 2
[ "$(job_zip why)" = "peer volume" ] || pair_fail "--lanes 2: compress.why is '$(job_zip why)'"
lframes=$(job_zip frames_compressed)
[ "$lframes" -gt 0 ] || pair_fail "--lanes 2: no frame compressed"
pair_verify "$text" "$PAIR_VOL_B/lanes"
[ "$(b_zip frames_inflated)" -eq $((frames + lframes)) ] ||
	pair_fail "B inflated $(b_zip frames_inflated) frames, A compressed $((frames + lframes))"

# pull_job NAME ARG...: A pulls B's $PAIR_VOL_B/plain into A's NAME; job.json is B's
# push back.
pull_job() {
	local name=$1 rc=0
	shift
	PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl a pull "b:$PAIR_VOL_B/plain" "$name" --wait "$@" \
		>"$PAIR_DIR/$name.out" 2>&1 || rc=$?
	pair_log "pull $name: exit $rc"
	[ "$rc" -eq 0 ] || pair_fail "pull $name: exit $rc: $(cat "$PAIR_DIR/$name.out")"
	pair_json b 'max(j["jobs"], key=lambda x: x["id"])' jobs >"$PAIR_DIR/job.json" ||
		pair_fail "cannot read B's jobs"
	pair_verify "$text" "$PAIR_VOL_A/$name"
}
pull_job pulled
[ "$(job_zip why)" = "source volume" ] || pair_fail "pull: B's push says compress.why '$(job_zip why)'"
[ "$(job_zip frames_compressed)" -gt 0 ] || pair_fail "pull: B's push compressed no frame"
pull_job pullednz --no-compress
[ "$(job_zip on)" = False ] || pair_fail "pull --no-compress: B's push compresses"
[ "$(job_zip why)" = "no-compress" ] || pair_fail "pull --no-compress: compress.why '$(job_zip why)'"
[ "$(job_zip frames_tried)" -eq 0 ] || pair_fail "pull --no-compress: B's push tried frames"
pair_pass

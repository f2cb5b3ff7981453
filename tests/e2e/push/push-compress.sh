#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: --compress (docs/PROTOCOL.md 6.16). A copy of
# /usr/include/linux (text) pushed with --compress arrives identical with fewer DATA
# bytes on the wire than the same tree pushed without it, and the receiver counts the
# frames it inflated; a random file pushed with --compress arrives identical with no
# frame compressed, a few tried (the job's guess stops trying), and the same wire bytes
# as without. A second push with --compress sends nothing; after 8 KB of text went into
# the middle of ten of the largest headers, a third sends them as deltas whose literals
# are compressed.
#
#   push-compress.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-compress "${1:?usage: push-compress.sh XFERD XFERCTL}" "${2:?}"
text=$PAIR_DIR/text
rand=$PAIR_DIR/rand
[ -d /usr/include/linux ] || pair_fail "no /usr/include/linux to copy (linux-libc-dev, which the build dependencies bring)"
mkdir -p "$text" "$rand"
cp -a /usr/include/linux "$text/" || pair_fail "cannot copy /usr/include/linux"
head -c $((4 << 20)) /dev/urandom >"$rand/random.bin"

# job_zip FIELD: the last job's compress.FIELD.
job_zip() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["compress"][sys.argv[2]])' \
		"$PAIR_DIR/job.json" "$1"
}
# b_zip FIELD: B's stats compress.FIELD.
b_zip() { pair_json b "j[\"compress\"][\"$1\"]" stats; }

pair_start
pair_push "$text" plain >/dev/null || pair_fail "push without --compress: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
plain_wire=$(pair_job_field wire_bytes_sent)
[ "$(job_zip on)" = False ] || pair_fail "a push without --compress says compress.on"
[ "$(job_zip frames_tried)" -eq 0 ] || pair_fail "a push without --compress tried frames"
[ "$(b_zip frames_inflated)" -eq 0 ] || pair_fail "B inflated frames of a plain push"

pair_push "$text" zip --compress >"$PAIR_DIR/zip.out" || pair_fail "push --compress: exit $?"
grep -q '^Literal data compressed: .* sent as .* frames tried)$' "$PAIR_DIR/zip.out" ||
	pair_fail "push --compress --wait prints no compression line: $(cat "$PAIR_DIR/zip.out")"
pair_expect_field state "done"
pair_expect_field files_failed 0
zip_wire=$(pair_job_field wire_bytes_sent)
raw=$(job_zip bytes_raw)
wire=$(job_zip bytes_wire)
frames=$(job_zip frames_compressed)
tried=$(job_zip frames_tried)
pair_log "text: $raw bytes of DATA as $wire; $frames of $tried frames tried compressed;" \
	"wire bytes $zip_wire with --compress, $plain_wire without"
[ "$(job_zip on)" = True ] || pair_fail "push --compress does not say compress.on"
[ "$frames" -gt 0 ] || pair_fail "no frame of /usr/include/linux was compressed"
[ $((wire * 10)) -lt $((raw * 7)) ] || pair_fail "DATA $raw bytes went as $wire: under 30% saved"
[ "$zip_wire" -lt "$plain_wire" ] ||
	pair_fail "--compress sent $zip_wire wire bytes, not fewer than $plain_wire without"
pair_verify "$text" "$PAIR_VOL_B/zip"
inflated=$(b_zip frames_inflated)
[ "$inflated" -eq "$frames" ] || pair_fail "B inflated $inflated frames, A compressed $frames"
for r in refused_bad refused_long refused_short; do
	[ "$(b_zip $r)" -eq 0 ] || pair_fail "B refused compressed frames ($r)"
done
[ "$(pair_json b 'sum(v["pipeline_zip_refused"] for v in j["volumes"])' stats)" -eq 0 ] ||
	pair_fail "B refused compressed DATA as not announced"

pair_push "$rand" rplain >/dev/null || pair_fail "random push without --compress: exit $?"
pair_expect_field state "done"
rplain_wire=$(pair_job_field wire_bytes_sent)
pair_push "$rand" rzip --compress >/dev/null || pair_fail "random push --compress: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
rzip_wire=$(pair_job_field wire_bytes_sent)
rframes=$(job_zip frames_compressed)
rtried=$(job_zip frames_tried)
pair_log "random: $rtried frames tried, $rframes compressed; wire bytes $rzip_wire with" \
	"--compress, $rplain_wire without"
[ "$rframes" -eq 0 ] || pair_fail "$rframes frames of random data went compressed"
[ "$rtried" -gt 0 ] || pair_fail "no frame of random data was tried"
# 4 MiB is about 2,900 frames at MTU 1500: tried at most every 16th, after the first 4.
[ "$rtried" -lt 200 ] || pair_fail "$rtried frames of random data tried: the guess did not hold"
[ "$(job_zip bytes_wire)" -eq "$(job_zip bytes_raw)" ] || pair_fail "random DATA bytes changed"
# Same frames, same bytes: equal but for retransmissions and ACK timing.
[ $((rzip_wire * 100)) -le $((rplain_wire * 101)) ] ||
	pair_fail "random: $rzip_wire wire bytes with --compress, $rplain_wire without"
pair_verify "$rand" "$PAIR_VOL_B/rzip"

pair_push "$text" zip --compress >/dev/null || pair_fail "second push: exit $?"
pair_expect_field state "done"
pair_expect_field files_sent 0
pair_expect_field files_uptodate "$(pair_job_field files_total)"

# DELTA literals (docs/DELTA.md): compressed on the worker that matched them.
find "$text" -type f -size +40k -printf '%s %p\n' | sort -rn | head -n 10 | cut -d' ' -f2- |
	while IFS= read -r f; do
		python3 -c '
import sys
p = sys.argv[1]
b = open(p, "rb").read()
ins = b"".join(b"/* inserted line %d: a delta literal that compresses */\n" % i for i in range(150))
open(p, "wb").write(b[: len(b) // 2] + ins + b[len(b) // 2 :])' "$f"
	done
pair_push "$text" zip --compress >/dev/null || pair_fail "delta push: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_sent 10
matched=$(pair_job_field bytes_matched)
dframes=$(job_zip frames_compressed)
pair_log "delta: $(job_zip bytes_raw) literal bytes as $(job_zip bytes_wire), $dframes frames" \
	"compressed, $matched bytes matched"
[ "$matched" -gt 0 ] || pair_fail "the re-push matched nothing: not a delta"
[ "$dframes" -gt 0 ] || pair_fail "no delta literal was compressed"
[ "$(job_zip bytes_wire)" -lt "$(job_zip bytes_raw)" ] || pair_fail "delta literals did not shrink"
pair_verify "$text" "$PAIR_VOL_B/zip"
pair_pass

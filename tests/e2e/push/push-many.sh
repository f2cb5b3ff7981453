#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: 20,000 small files (random sizes 0..8 KiB, seeded, random
# modes, mtimes in the past) in 200 nested directories arrive identical; a second push of
# the unchanged tree finds every file up to date and sends no file data.
#
#   push-many.sh XFERD XFERCTL [FILES [DIRS]]
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-many "${1:?usage: push-many.sh XFERD XFERCTL [FILES [DIRS]]}" "${2:?}"
files=${3:-20000}
dirs=${4:-200}
src=$PAIR_DIR/src

t0=$EPOCHREALTIME
nreg=$(python3 "$PAIR_LIB_DIR/mktree.py" many "$src" --files "$files" --dirs "$dirs" \
	--max-size 8192 --seed 20000)
[ "$nreg" -eq "$files" ] || pair_fail "mktree made $nreg files, asked for $files"
bytes=$(find "$src" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
pair_log "generated $files files, $dirs dirs, $bytes bytes in $(pair_since "$t0")s"

pair_start
pair_push "$src" many >/dev/null || pair_fail "push: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
# Every entry is listed: files, directories and the root itself.
entries=$(find "$src" | wc -l)
pair_expect_field files_total "$entries"
pair_expect_field files_sent "$files"
pair_expect_field bytes_total "$bytes"
pair_expect_field bytes_done "$bytes"
pair_verify "$src" "$PAIR_VOL_B/many"

pair_push "$src" many >/dev/null || pair_fail "second push: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_sent 0
pair_expect_field bytes_done 0
pair_expect_field bytes_literal 0
# Every entry (files, directories, the root) was found up to date.
pair_expect_field files_total "$entries"
pair_expect_field files_uptodate "$entries"
# The wire carried the file list and decisions only: far less than the data.
wire=$(pair_job_field wire_bytes_sent)
[ "$wire" -lt "$bytes" ] || pair_fail "second push sent $wire bytes on the wire for $bytes of unchanged data"
pair_verify "$src" "$PAIR_VOL_B/many"

pair_pass

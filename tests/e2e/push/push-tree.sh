#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: small trees with every kind of entry arrive identical.
# - an empty source directory; a tree of one empty file;
# - names with spaces, UTF-8, leading dashes, newlines; symlinks (to a file, to a dir,
#   dangling, absolute) kept as symlinks; empty directories; modes 0600..0444, read-only
#   directories; mtimes in the past (also 1970 and before);
# - pushing into a destination sub-directory b:some/dir creates it;
# - a second push of the unchanged tree sends no file data;
# - the first push of a fresh pair loses nothing while A resolves B's MAC by ARP;
# - each side uses the file I/O back end transfer.io asks for (PAIR_IO, or auto's choice
#   for the file system: meson runs the test on XFS too, PAIR_FS=xfs);
# - with PAIR_FSYNC and PAIR_WORKERS (meson: each fsync policy, one worker and two), the
#   same, and new directories staged either way.
#
#   push-tree.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-tree "${1:?usage: push-tree.sh XFERD XFERCTL}" "${2:?}"
mktree="$PAIR_LIB_DIR/mktree.py"
src=$PAIR_DIR/src

pair_start

# An empty source directory: the push succeeds, the destination exists and is empty.
mkdir -p "$src/empty"
touch -d '2003-03-03 03:03:03' "$src/empty"
pair_push "$src/empty" empty >/dev/null || pair_fail "push of an empty directory: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_sent 0
pair_verify "$src/empty" "$PAIR_VOL_B/empty"
# It was the pair's first contact: A did not know B's MAC yet. Its HELLO waited for the
# ARP reply (held, not dropped), so nothing was retransmitted; dropped, it would have
# waited for its retransmission timer (about a second) and counted one.
pair_expect_field retransmits 0
held=$(pair_json a 'j["dataplane"]["arp_held"]' stats)
expired=$(pair_json a 'j["dataplane"]["arp_expired"]' stats)
[ "$held" -ge 1 ] && [ "$expired" -eq 0 ] ||
	pair_fail "first HELLO: $held frames held for ARP (want >= 1), $expired expired (want 0)"

# One empty file.
mkdir -p "$src/one"
touch -d '2004-04-04 04:04:04' "$src/one/empty-file" "$src/one"
pair_push "$src/one" one >/dev/null || pair_fail "push of one empty file: exit $?"
pair_expect_field state "done"
pair_expect_field files_sent 1
pair_expect_field files_failed 0
pair_expect_field bytes_done 0
pair_verify "$src/one" "$PAIR_VOL_B/one"

# Every special case, into a sub-directory that does not exist yet.
nreg=$(python3 "$mktree" special "$src/special" --seed 7)
dest="some/dir with space/-deep"
[ ! -e "$PAIR_VOL_B/some" ] || pair_fail "$PAIR_VOL_B/some exists before the push"
pair_push "$src/special" "$dest" >/dev/null || pair_fail "push of the special tree: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_skipped 0
pair_expect_field files_sent "$nreg"
pair_verify "$src/special" "$PAIR_VOL_B/$dest"
# The file I/O back end on each side: PAIR_IO, or what transfer.io auto gives the file
# system (meson also runs this test on XFS, PAIR_FS=xfs).
pair_expect_io a "$src/special" job
pair_expect_io b "$PAIR_VOL_B" volume
# New directories came whole, put in place by one rename each (docs/PIPELINE.md, "Staged
# directories"), with one worker (the dev pair's) and with more (PAIR_WORKERS): the
# commit worker makes them, the other workers' files are linked into them. None is left
# in B's staging directory.
staged=$(pair_json b 'j["dataplane"]["staged_dirs"]' stats)
sfail=$(pair_json b 'j["dataplane"]["staged_failed"]' stats)
nworkers=$(pair_json b 'sum(1 for c in j["cores"] if c["role"] == "worker")' stats)
[ "$nworkers" -eq "$(python3 -c 'import json, sys; print(len(json.loads(sys.argv[1])))' \
	"${PAIR_WORKERS:-[1]}")" ] || pair_fail "B runs $nworkers workers, not ${PAIR_WORKERS:-[1]}"
[ "$staged" -ge 1 ] && [ "$sfail" -eq 0 ] ||
	pair_fail "special tree, $nworkers workers: $staged staged directories (want >= 1), $sfail failed (want 0)"
[ -z "$(ls -A "$PAIR_VOL_B/.xferd/tmp")" ] || pair_fail "left in B's staging directory: $(ls -A "$PAIR_VOL_B/.xferd/tmp")"
# Symlinks stay symlinks with their exact targets (also dangling and absolute ones).
while IFS= read -r -d '' l; do
	rel=${l#"$src/special/"}
	[ -L "$PAIR_VOL_B/$dest/$rel" ] || pair_fail "symlink '$rel' did not arrive as a symlink"
	[ "$(readlink "$l")" = "$(readlink "$PAIR_VOL_B/$dest/$rel")" ] ||
		pair_fail "symlink '$rel' points elsewhere"
done < <(find "$src/special" -type l -print0)

# Again, unchanged: every entry is up to date and no file data moves.
total=$(pair_job_field files_total)
pair_push "$src/special" "$dest" >/dev/null || pair_fail "second push: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_total "$total"
pair_expect_field files_sent 0
pair_expect_field bytes_done 0
pair_expect_field bytes_literal 0
# Every entry (files, directories, symlinks, the root) was found up to date.
pair_expect_field files_uptodate "$total"
pair_verify "$src/special" "$PAIR_VOL_B/$dest"

# Changes: new content with a new mtime (same size), a longer file, a new file in a new
# directory, a retargeted symlink. Exactly the changed and new regular files are sent.
s=$src/special
printf 'changed!' | dd of="$s/mode-0600" bs=1 seek=0 conv=notrunc status=none
touch -d '2020-02-02 02:02:02' "$s/mode-0600"
printf 'appended\n' >>"$s/with space.txt"
mkdir -p "$s/-new dir/ünï"
printf 'new\n' >"$s/-new dir/ünï/new file"
ln -sfn "ünï/nested" "$s/link-to-dir"
touch -h -d '2021-01-01' "$s/link-to-dir"
touch -d '2022-02-22' "$s/-new dir/ünï" "$s/-new dir" "$s"
pair_push "$s" "$dest" >/dev/null || pair_fail "push of the changed tree: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_sent 3
pair_verify "$s" "$PAIR_VOL_B/$dest"

pair_pass

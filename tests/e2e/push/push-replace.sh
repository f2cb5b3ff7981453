#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: a second push after the source changed in ways the quick
# check (same kind, size and mtime) and the commit path must handle, as rsync -a would:
#   kind   a file replaced by a symlink and a symlink by a file: replaced. A directory
#          replaced by a file and a file by a directory (with a file in it): docs/PIPELINE.md
#          makes a wrong kind at the final path a per-file failure (XF_ST_CONFLICT), so
#          those three fail, the push exits 1, the old entries stay as they were and
#          everything else is identical to the source.
#   attrs  only the mode changed (size and mtime kept): the destination must get it and
#          be identical again (fails today: the quick check says UPTODATE and nothing
#          is applied; registered should_fail).
#
#   push-replace.sh XFERD XFERCTL kind|attrs
# shellcheck disable=SC2015 # "[ A ] && [ B ] || pair_fail": fail when either test fails
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
what=${3:?usage: push-replace.sh XFERD XFERCTL kind|attrs}
pair_init "e2e-push-replace-$what" "${1:?}" "${2:?}"
s=$PAIR_DIR/src
d=$PAIR_VOL_B/r

mkdir -p "$s/dir2file" "$s/sub"
echo a >"$s/file2dir"
echo b >"$s/file2link"
ln -s sub "$s/link2file"
echo m >"$s/modeonly"
echo c >"$s/sub/c"
touch -h -d '2001-01-01' "$s"/* "$s"

pair_start
pair_push "$s" r >/dev/null || pair_fail "first push: exit $?"
pair_verify "$s" "$d"

case $what in
kind)
	rmdir "$s/dir2file"
	echo now-a-file >"$s/dir2file"
	rm "$s/file2dir"
	mkdir "$s/file2dir"
	echo inside >"$s/file2dir/in"
	rm "$s/file2link"
	ln -s sub "$s/file2link"
	rm "$s/link2file"
	echo was-a-link >"$s/link2file"
	touch -h -d '2002-02-02' "$s/dir2file" "$s/file2dir/in" "$s/file2dir" "$s/file2link" \
		"$s/link2file" "$s"
	;;
attrs)
	chmod 0600 "$s/modeonly"
	chmod 0700 "$s/sub"
	;;
*) pair_fail "unknown case '$what'" ;;
esac

rc=0
pair_push "$s" r >/dev/null || rc=$?
if [ "$what" = kind ]; then
	[ "$rc" -eq 1 ] || pair_fail "second push: exit $rc, expected 1 (failed files)"
	pair_expect_field state "done"
	pair_expect_field files_failed 3
	# The conflicting paths kept their old entries, untouched.
	[ -d "$d/dir2file" ] && [ ! -L "$d/dir2file" ] || pair_fail "dir2file is no longer the old directory"
	[ -f "$d/file2dir" ] && [ "$(cat "$d/file2dir")" = a ] || pair_fail "file2dir is no longer the old file"
	[ ! -e "$d/file2dir/in" ] || pair_fail "file2dir/in exists"
	# Everything else arrived: compare without the three conflicting paths.
	ex=(--exclude=/dir2file --exclude=/file2dir)
	out=$(rsync -a -n -i --checksum "${ex[@]}" "$s/" "$d/")
	[ -z "$out" ] || pair_fail "other entries differ: $out"
	[ -L "$d/file2link" ] && [ "$(readlink "$d/file2link")" = sub ] || pair_fail "file2link is not the new symlink"
	[ -f "$d/link2file" ] && [ ! -L "$d/link2file" ] || pair_fail "link2file is not the new file"
	cmp -s "$s/link2file" "$d/link2file" || pair_fail "link2file differs"
else
	[ "$rc" -eq 0 ] || pair_fail "second push: exit $rc, $(pair_job_field files_failed) files failed"
	pair_expect_field files_failed 0
	pair_verify "$s" "$d"
fi

pair_pass

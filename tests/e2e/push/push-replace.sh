#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: a second push after the source changed in ways the quick
# check (same kind, size and mtime) and the commit path must handle, as rsync -a would:
#   kind   a file replaced by a symlink and a symlink by a file, an empty directory
#          by a file and a file by a directory (with a file in it): replaced, each by
#          one exchange (docs/PIPELINE.md, "Type changes"), and identical to the source
#          (push-types.sh has the directories with entries, --delete and rsync's -i).
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
	[ "$rc" -eq 0 ] || pair_fail "second push: exit $rc, $(pair_job_field files_failed) files failed"
	pair_expect_field files_failed 0
	pair_verify "$s" "$d"
	[ -f "$d/dir2file" ] && [ -d "$d/file2dir" ] && [ -L "$d/file2link" ] &&
		[ -f "$d/link2file" ] && [ ! -L "$d/link2file" ] || pair_fail "a kind was not replaced"
	[ -z "$(find "$PAIR_VOL_B/.xferd/tmp" -mindepth 1)" ] || pair_fail "left in the staging directory"
else
	[ "$rc" -eq 0 ] || pair_fail "second push: exit $rc, $(pair_job_field files_failed) files failed"
	pair_expect_field files_failed 0
	pair_verify "$s" "$d"
fi

pair_pass

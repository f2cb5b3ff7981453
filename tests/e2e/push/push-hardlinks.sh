#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: `push -H` keeps hard links (docs/PROTOCOL.md 6.15,
# docs/CONTROL.md "Hard links"):
# - a tree with link groups (two names in one directory, three names across
#   directories, a group whose names sit in different FLIST frames: more than 256
#   entries between them, and a file whose other name is outside the tree) arrives with
#   the same groups: same inode within each group (stat %i), the source's link counts
#   (%h), and `rsync -a -n -i --checksum -H` between source and destination prints
#   nothing; the job counts the names it sent as links;
# - a second push after the group changed (the leader's contents rewritten, which the
#   receiver replaces with a new inode: every other name must follow it; a new name
#   added to a group; a name that left its group for a file of its own) is identical
#   again by the same checks;
# - without -H every name arrives as a file of its own (link count 1), as before.
#
#   push-hardlinks.sh XFERD XFERCTL
# shellcheck disable=SC2015 # "[ A ] && [ B ] || pair_fail": fail when either test fails
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-hardlinks "${1:?usage: push-hardlinks.sh XFERD XFERCTL}" "${2:?}"
s=$PAIR_DIR/src
d=$PAIR_VOL_B/h
outside=$PAIR_DIR/outside

mkdir -p "$s"/{many,sub/deep,zz}
echo one >"$s/a"
ln "$s/a" "$s/b"                  # two names, one directory
echo three >"$s/sub/t"
ln "$s/sub/t" "$s/sub/deep/t2"    # three names across directories
ln "$s/sub/t" "$s/zz/t3"
for i in $(seq -w 0 299); do
	echo "f$i" >"$s/many/f$i"
done
ln "$s/many/f000" "$s/zz/far"     # 300+ entries later: another FLIST frame
rm "$s/many/f299"
ln "$s/many/f000" "$s/many/f299"  # f299 was a file: now a name of f000
echo own >"$s/lonely"
ln "$s/lonely" "$outside"         # its other name is not in the tree
touch -d '2001-01-01' "$s/a" "$s/sub/t" "$s/many/f000" "$s/lonely"

# same_inode DIR PATH...: every PATH in DIR is one inode.
same_inode() {
	local dir=$1 first
	shift
	first=$(stat -c %i "$dir/$1")
	for p in "$@"; do
		[ "$(stat -c %i "$dir/$p")" = "$first" ] || pair_fail "$dir: $p is not a link to $1"
	done
}
# links_match: every regular file of the destination has the source's link count (the
# name outside the tree is not counted on either side but the source's), and the groups
# are the source's for rsync -H.
links_match() {
	local p hs hd
	while IFS= read -r p; do
		hs=$(stat -c %h "$s/$p")
		[ "$p" = lonely ] && hs=$((hs - 1))
		hd=$(stat -c %h "$d/$p")
		[ "$hs" = "$hd" ] || pair_fail "$p: $hd links on the receiver, $hs in the source"
	done < <(cd "$s" && find . -type f -printf '%P\n')
	out=$(rsync -a -n -i --checksum -H -- "$s/" "$d/" 2>&1) ||
		pair_fail "rsync -H failed: $out"
	[ -z "$out" ] || pair_fail "rsync -a -n -i --checksum -H lists differences: $out"
}

# hf: the itemized lines of the last push -i for hard links, sorted (rsync -H prints
# "hf+++++++++ NAME => LEADER" for a new name; its leader may be another name of the group).
hf() { sed -n '/^Job [0-9]*: /q;/^hf/p' "$PAIR_DIR/out" | LC_ALL=C sort; }

pair_start
pair_push "$s" h -H -i >"$PAIR_DIR/out" || pair_fail "first push: exit $?"
want=$'hf+++++++++ b => a\nhf+++++++++ many/f299 => many/f000\nhf+++++++++ sub/deep/t2 => sub/t\nhf+++++++++ zz/far => many/f000\nhf+++++++++ zz/t3 => sub/t'
[ "$(hf)" = "$want" ] || pair_fail "first push: hard links itemized as $(hf)"
pair_expect_field files_failed 0
pair_expect_field hard_links true
# b, sub/deep/t2, zz/t3, many/f299 and zz/far are sent as links.
pair_expect_field files_hardlinked 5
pair_verify "$s" "$d"
same_inode "$d" a b
same_inode "$d" sub/t sub/deep/t2 zz/t3
same_inode "$d" many/f000 many/f299 zz/far
[ "$(stat -c %h "$d/lonely")" = 1 ] || pair_fail "lonely has links on the receiver"
links_match

# The group changes: the leader's contents (the receiver writes a new inode for it), a
# new name in a group, a name that leaves its group.
echo "one, longer now" >>"$s/a"
ln "$s/sub/t" "$s/sub/t4"
rm "$s/zz/t3"
echo "own t3" >"$s/zz/t3"
touch -d '2002-02-02' "$s/a" "$s/zz/t3"
pair_push "$s" h -H -i >"$PAIR_DIR/out" || pair_fail "second push: exit $?"
# The new name is itemized; the names that already were links are not (b follows the
# rewritten a at commit).
[ "$(hf)" = "hf+++++++++ sub/t4 => sub/t" ] || pair_fail "second push: hard links itemized as $(hf)"
pair_expect_field files_failed 0
pair_verify "$s" "$d"
same_inode "$d" a b
same_inode "$d" sub/t sub/deep/t2 sub/t4
[ "$(stat -c %i "$d/zz/t3")" != "$(stat -c %i "$d/sub/t")" ] || pair_fail "zz/t3 is still a link"
links_match
pair_log "second push: links kept"

# Without -H: one file per name, as before.
pair_push "$s" plain >/dev/null || pair_fail "push without -H: exit $?"
pair_expect_field hard_links false
pair_expect_field files_hardlinked 0
pair_verify "$s" "$PAIR_VOL_B/plain"
[ "$(stat -c %h "$PAIR_VOL_B/plain/b")" = 1 ] || pair_fail "without -H, b is a link"
[ "$(stat -c %h "$PAIR_VOL_B/plain/zz/far")" = 1 ] || pair_fail "without -H, zz/far is a link"

pair_pass

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: `push -X -A` carries extended attributes and POSIX ACLs
# (docs/PROTOCOL.md 6.20, docs/CONTROL.md "Extended attributes and ACLs"):
# - files and directories (the destination directory too) with user.* attributes (an
#   empty value, a binary one, several per entry), access ACLs and directory default
#   ACLs arrive with them: `rsync -a -n -i --checksum -X -A` prints nothing, and B counts
#   one verified set per file and directory;
# - attributes changed on the source only: the files are not sent again, and get their
#   new sets in place (rsync -X -A prints nothing again);
# - without -X and -A nothing is set (rsync -X -A sees the difference), and a new
#   directory under one with a default ACL has the ACL removed with -A when its source
#   has none;
# - an attribute value over XF_XATTR_VALUE_MAX (1024 bytes), and a set over
#   XF_XATTR_SET_MAX (2048), fail their files with status XATTR, counted by reason on B
#   (pipeline_xattr_value, pipeline_xattr_total): the files never appear, the others
#   arrive;
# - -X alone does not carry ACLs, -A alone no user.* attribute;
# - pull -X -A brings them the other way;
# - -H -X -A together: a hard-link group whose inode has attributes and an ACL arrives as
#   one inode with them, and `rsync -a -n -i --checksum -H -X -A` prints nothing.
# Needs setfattr/getfattr (attr) and setfacl (acl), and a file system with user.*
# attributes and POSIX ACLs for the test directory (tmpfs since Linux 6.6, ext4, XFS).
#
#   push-xattrs.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-xattrs "${1:?usage: push-xattrs.sh XFERD XFERCTL}" "${2:?}"
for t in setfattr getfattr setfacl; do
	command -v "$t" >/dev/null || pair_fail "needs $t (scripts/install-deps.sh: attr, acl)"
done
s=$PAIR_DIR/src
mkdir -p "$s/d/e" "$s/inherit"
for f in a b d/c d/e/f plain; do echo "$f" >"$s/$f"; done
setfattr -n user.one -v 1 "$s/a" ||
	pair_fail "$PAIR_DIR: no user.* attributes on this file system"
setfattr -n user.empty "$s/a"
setfattr -n user.bin -v 0x00ff10 "$s/b"
setfattr -n user.z -v last "$s/b"
setfattr -n user.dir -v d "$s/d"
setfattr -n user.root -v top "$s"
setfattr -n user.big -v "$(head -c 1000 /dev/zero | tr '\0' x)" "$s/d/c" # under the limit
setfacl -m u:nobody:rw,g:nogroup:r "$s/b" || pair_fail "$PAIR_DIR: no POSIX ACLs here"
setfacl -m u:nobody:rwx "$s/d/e"
setfacl -d -m u:nobody:r-x,g::r-x "$s/d" # default ACL: new entries under d inherit it
setfacl -d -m u:nobody:r "$s/inherit"
setfacl -k "$s/d/e" # d/e inherited d's default: none on the source
# Whole seconds: rsync -i compares seconds here, xferd nanoseconds.
find "$s" -exec touch -h -d @1600000000 {} +

# same DIR: rsync -X -A (and its data, modes, mtimes) finds DIR equal to SRC.
same() {
	local out
	out=$(rsync -a -n -i --checksum -X -A -- "$s/" "$1/" 2>&1) || pair_fail "rsync failed: $out"
	[ -z "$out" ] || pair_fail "$1: rsync -a -n -i --checksum -X -A lists differences: $out"
}
vol_b() { pair_json b "j[\"volumes\"][0][\"$1\"]" stats || pair_fail "cannot read B's stats"; }

# B lets A pull (the pull case below).
PAIR_SET_B="peers[0].allow_pull=true" pair_start
pair_push "$s" x -X -A >/dev/null || pair_fail "push -X -A: exit $?"
pair_expect_field files_failed 0
pair_expect_field xattrs true
pair_expect_field acls true
same "$PAIR_VOL_B/x"
# Every file and directory (x itself and 8 more): those without attributes get their empty
# set too (whatever they inherited is removed), read back and compared.
[ "$(vol_b xattrs_set)" = 9 ] || pair_fail "B set $(vol_b xattrs_set) attribute sets, expected 9"
[ "$(vol_b xattrs_failed)" = 0 ] || pair_fail "B failed $(vol_b xattrs_failed) attribute sets"

# Attributes changed on the source only (data and mtimes as they were): the files are up
# to date, not sent again, and get their new sets in place.
setfattr -n user.one -v 2 "$s/a"
setfattr -x user.z "$s/b"
setfacl -m u:nobody:r "$s/b"
setfattr -n user.dir -v changed "$s/d"
pair_push "$s" x -X -A >/dev/null || pair_fail "second push -X -A: exit $?"
pair_expect_field files_failed 0
pair_expect_field files_sent 0
same "$PAIR_VOL_B/x"

# Without -X -A: the data arrives, the attributes do not (rsync sees them missing).
pair_push "$s" n >/dev/null || pair_fail "push: exit $?"
pair_expect_field xattrs false
out=$(rsync -a -n -i --checksum -X -A -- "$s/" "$PAIR_VOL_B/n/" 2>&1) || true
[ -n "$out" ] || pair_fail "without -X -A the attributes arrived"
[ -z "$(getfattr -d --absolute-names "$PAIR_VOL_B/n/a" 2>/dev/null)" ] ||
	pair_fail "without -X a user.* attribute was set"

# -X alone: user.* but no ACL; -A alone: ACLs but no user.*.
pair_push "$s" xo -X >/dev/null || pair_fail "push -X: exit $?"
[ "$(getfattr --only-values -n user.one "$PAIR_VOL_B/xo/a")" = 2 ] || pair_fail "-X: user.one"
[ -z "$(getfacl -s -p "$PAIR_VOL_B/xo/b")" ] || pair_fail "-X alone set an ACL"
pair_push "$s" ao -A >/dev/null || pair_fail "push -A: exit $?"
[ -n "$(getfacl -s -p "$PAIR_VOL_B/ao/b")" ] || pair_fail "-A: no ACL on b"
[ -z "$(getfattr -d --absolute-names "$PAIR_VOL_B/ao/a" 2>/dev/null)" ] ||
	pair_fail "-A alone set a user.* attribute"

# pull -X -A: A asks B to push the tree to it, with its attributes and ACLs.
rc=0
PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl a pull "b:$s" px --wait -X -A >"$PAIR_DIR/pull.out" 2>&1 ||
	rc=$?
[ "$rc" -eq 0 ] || pair_fail "pull -X -A: exit $rc: $(cat "$PAIR_DIR/pull.out")"
same "$PAIR_VOL_A/px"

# -H -X -A in one push: the names of a link group share one inode on B, and that inode
# carries the group's attributes and ACL (rsync -H -X -A, which also compares the links,
# prints nothing).
h=$PAIR_DIR/hxa
mkdir -p "$h/one" "$h/two"
echo linked >"$h/one/l"
ln "$h/one/l" "$h/two/l2"
ln "$h/one/l" "$h/l3"
echo alone >"$h/alone"
setfattr -n user.group -v shared "$h/one/l"
setfacl -m u:nobody:r "$h/one/l"
setfattr -n user.own -v 1 "$h/alone"
find "$h" -exec touch -h -d @1600000000 {} +
pair_push "$h" hxa -H -X -A >/dev/null || pair_fail "push -H -X -A: exit $?"
pair_expect_field files_failed 0
pair_expect_field hard_links true
links=$(stat -c '%i %h' "$PAIR_VOL_B/hxa/one/l" "$PAIR_VOL_B/hxa/two/l2" "$PAIR_VOL_B/hxa/l3" |
	sort -u)
if [ "$(wc -l <<<"$links")" != 1 ] || [ "${links#* }" != 3 ]; then
	pair_fail "-H -X -A: the link group is not one inode of 3 names on B: $links"
fi
out=$(rsync -a -n -i --checksum -H -X -A -- "$h/" "$PAIR_VOL_B/hxa/" 2>&1) ||
	pair_fail "rsync failed: $out"
[ -z "$out" ] || pair_fail "-H -X -A: rsync -a -n -i --checksum -H -X -A lists differences: $out"
[ "$(getfattr --only-values -n user.group "$PAIR_VOL_B/hxa/l3")" = shared ] ||
	pair_fail "-H -X -A: the group's inode lacks its attribute"

# Over the limits: each file fails with XATTR and never appears, counted by its reason
# (a value over 1024 bytes; a set over 2048), and the other files arrive.
setfattr -n user.huge -v "$(head -c 1100 /dev/zero | tr '\0' y)" "$s/d/e/f"
setfattr -n user.big2 -v "$(head -c 1024 /dev/zero | tr '\0' z)" "$s/d/c"
touch -d @1600000000 "$s/d/c" "$s/d/e/f"
rc=0
pair_push "$s" big -X -A >/dev/null || rc=$?
[ "$rc" -eq 1 ] || pair_fail "push with oversize attributes: exit $rc, expected 1"
pair_expect_field files_failed 2
[ ! -e "$PAIR_VOL_B/big/d/e/f" ] || pair_fail "the file with an oversize value appeared"
[ ! -e "$PAIR_VOL_B/big/d/c" ] || pair_fail "the file with an oversize set appeared"
[ "$(cat "$PAIR_VOL_B/big/a")" = a ] || pair_fail "the other files did not arrive"
[ "$(vol_b pipeline_xattr_value)" = 1 ] ||
	pair_fail "B counted $(vol_b pipeline_xattr_value) oversize values, expected 1"
[ "$(vol_b pipeline_xattr_total)" = 1 ] ||
	pair_fail "B counted $(vol_b pipeline_xattr_total) oversize sets, expected 1"
pair_pass

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: `push -o -g --owner-names` maps owners and groups by name
# (docs/PROTOCOL.md 6.21, docs/CONTROL.md "Owners and groups"). Each side runs in a
# mount namespace of its own with its own /etc/passwd and /etc/group (PAIR_ETC_A,
# PAIR_ETC_B), so that one name has different numbers on the two sides, as on two
# hosts; the host's accounts are not touched. What it shows:
# - a name both sides know arrives as the receiver's number for it (xfu_alpha: 4101
#   on A, 5101 on B), including a name whose receiver's number is another A account's
#   (xfu_beta: 4102 on A, 4101 on B, alpha's number on A), for files, directories,
#   symlinks (their own owner) and the destination directory;
# - a name B lacks keeps the sender's number, and B counts each (owners_unmapped), as
#   does an id A has no name for;
# - the same tree pushed by number (without --owner-names) arrives with A's numbers,
#   so the mapping is the receiver's, from the names on the wire;
# - over two lanes (sessions) the same: each lane's frames carry the names of its ids;
# - a re-push finds the mapped owners up to date: nothing itemized, nothing set again
#   (the unmapped names are counted again: per entry and push).
# It runs both daemons as root on one host: the names cross the wire and are resolved
# by B's getpwnam_r and getgrnam_r against B's files; NSS back ends other than files
# (LDAP, sssd) are not exercised.
#
#   push-owner-names.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-owner-names "${1:?usage: push-owner-names.sh XFERD XFERCTL}" "${2:?}"
[ "$(id -u)" = 0 ] || pair_skip "needs root: chown, mount namespaces, CAP_CHOWN for xferd"
unshare -m --propagation private true 2>/dev/null ||
	pair_skip "needs unshare -m (mount namespaces) for each side's own accounts"
export PAIR_SET_B="volumes[0].keep_owner=true"
s=$PAIR_DIR/src

# Each side's accounts: the host's (root, nobody...) plus its own test accounts.
accounts() { # DIR USERS GROUPS: passwd and group in DIR, "name:id" lists added
	mkdir -p "$1"
	cp /etc/passwd "$1/passwd"
	cp /etc/group "$1/group"
	for u in $2; do echo "${u%%:*}:x:${u##*:}:${u##*:}::/nonexistent:/usr/sbin/nologin" >>"$1/passwd"; done
	for g in $3; do echo "${g%%:*}:x:${g##*:}:" >>"$1/group"; done
}
accounts "$PAIR_DIR/etc-a" "xfu_alpha:4101 xfu_beta:4102 xfu_lost:4103" "xfg_alpha:4201 xfg_lost:4203"
accounts "$PAIR_DIR/etc-b" "xfu_alpha:5101 xfu_beta:4101" "xfg_alpha:5201"
export PAIR_ETC_A=$PAIR_DIR/etc-a PAIR_ETC_B=$PAIR_DIR/etc-b

mkdir -p "$s/d"
for f in a b c n d/e; do echo "$f" >"$s/$f"; done
ln -s a "$s/l"
chown 4101:4201 "$s" "$s/a"
chown 4102:4203 "$s/b"   # beta (B: 4101), a group B lacks (kept: 4203)
chown 4103:4201 "$s/c"   # a user B lacks (kept: 4103)
chown 4999:4201 "$s/n"   # no name on A: the number goes alone
chown 4102:4201 "$s/d" "$s/d/e"
chown -h 4101:4203 "$s/l"

# What B must hold: A's numbers mapped through the names (4101 -> 5101, 4102 -> 4101,
# 4201 -> 5201), the others kept.
want=". 5101:5201
a 5101:5201
b 4101:4203
c 4103:5201
d 4101:5201
d/e 4101:5201
l 5101:4203
n 4999:5201"
owners() { (cd "$1" && find . -printf '%P %U:%G\n' | sed 's/^ /. /' | LC_ALL=C sort); }
vol_b() { pair_json b "j[\"volumes\"][0][\"$1\"]" stats || pair_fail "cannot read B's stats"; }

pair_start
pair_push "$s" named -o -g --owner-names >"$PAIR_DIR/out" || pair_fail "push: exit $?"
pair_expect_field files_failed 0
pair_expect_field owner_names true
compare_owners() {
	[ "$(owners "$1")" = "$2" ] || pair_fail "$1: $(diff <(echo "$2") <(owners "$1"))"
}
compare_owners "$PAIR_VOL_B/named" "$want"
# b's group, c's user and l's group: names B lacks (n's user had no name to send).
[ "$(vol_b owners_unmapped)" = 3 ] || pair_fail "B counted $(vol_b owners_unmapped) unmapped, expected 3"
[ "$(vol_b owners_set)" = 8 ] || pair_fail "B set $(vol_b owners_set) owners, expected 8"

# By number: A's ids as they are (what the names changed above).
pair_push "$s" numeric -o -g >/dev/null || pair_fail "numeric push: exit $?"
pair_expect_field owner_names false
compare_owners "$PAIR_VOL_B/numeric" "$(owners "$s")"

# Over two lanes: each session names the ids of its own frames.
pair_push "$s" lanes -o -g --owner-names --lanes 2 >/dev/null || pair_fail "lanes push: exit $?"
pair_expect_field owner_names true
compare_owners "$PAIR_VOL_B/lanes" "$want"

# Again by name: every owner is already the mapped one, nothing is set or sent.
set0=$(vol_b owners_set) unmapped0=$(vol_b owners_unmapped)
pair_push "$s" named -o -g --owner-names -i >"$PAIR_DIR/out" || pair_fail "re-push: exit $?"
pair_expect_field files_failed 0
pair_expect_field files_sent 0
[ -z "$(sed -n '/^Job [0-9]*: /q;p' "$PAIR_DIR/out")" ] ||
	pair_fail "the re-push itemized changes: $(cat "$PAIR_DIR/out")"
compare_owners "$PAIR_VOL_B/named" "$want"
[ "$(vol_b owners_set)" = "$set0" ] || pair_fail "the re-push set $(($(vol_b owners_set) - set0)) owners"
# Counted per entry as each push maps it: the same three again.
[ "$(vol_b owners_unmapped)" = $((unmapped0 + 3)) ] ||
	pair_fail "the re-push counted $(($(vol_b owners_unmapped) - unmapped0)) unmapped, expected 3"

pair_pass

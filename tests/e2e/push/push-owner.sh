#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: `push -o -g` sets owners and groups by number
# (docs/PROTOCOL.md 6.17, docs/CONTROL.md "Owners and groups"), into a volume with
# volumes[].keep_owner:
# - files, directories, symlinks (their own owner) and a set-user-ID file of various
#   owners arrive with them, the destination directory with the source's: the listing
#   of (path, type, uid, gid, mode) equals the source's, `rsync -a -n -i --checksum -o -g`
#   prints nothing, and the volume counts one owner set per entry;
# - owners and groups changed on the source only: `push -i` prints what `rsync -a -n -i`
#   printed before it (`.f....og...`, `.d.....g...`, `.L.....g...`), a dry run first
#   (which changes nothing), no file is sent, and the trees are identical again;
# - -o alone and -g alone set only that one; without either nothing is set;
# - into a volume without keep_owner the push is refused with the receiver's reason,
#   counted, and nothing is written.
# Root only: the source's owners are made with chown, and xferd needs CAP_CHOWN.
#
#   push-owner.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
# shellcheck source=tests/e2e/lib/itemize.sh
. "$(dirname "$0")/../lib/itemize.sh"
# shellcheck source=tests/e2e/lib/owner.sh
. "$(dirname "$0")/../lib/owner.sh"
pair_init e2e-push-owner "${1:?usage: push-owner.sh XFERD XFERCTL}" "${2:?}"
[ "$(id -u)" = 0 ] || pair_skip "needs root: chown of the source tree, CAP_CHOWN for xferd"
export PAIR_VOLUMES="data archive"
export PAIR_SET_B="volumes[0].keep_owner=true"
s=$PAIR_DIR/src

owner_tree "$s"

# same_owners DIR: DIR is SRC with its owners, by the listing and by rsync -o -g.
same_owners() {
	local out
	[ "$(listing "$s")" = "$(listing "$1")" ] ||
		pair_fail "$1: $(diff <(listing "$s") <(listing "$1") | head -20)"
	out=$(rsync -a -n -i --checksum -o -g -- "$s/" "$1/" 2>&1) || pair_fail "rsync failed: $out"
	[ -z "$out" ] || pair_fail "rsync -a -n -i --checksum -o -g lists differences: $out"
}
items() { sed -n '/^Job [0-9]*: /q;p' "$PAIR_DIR/out" | LC_ALL=C sort; }
vol_b() { pair_json b "j[\"volumes\"][0][\"$1\"]" stats || pair_fail "cannot read B's stats"; }

pair_start
d=$PAIR_VOL_B/o
pair_push "$s" o -o -g -i >"$PAIR_DIR/out" || pair_fail "first push: exit $?"
pair_expect_field files_failed 0
pair_expect_field owner true
pair_expect_field group true
same_owners "$d"
# o itself, a, suid, l, d, d/b, d/l2, d/e, d/e/c: one each.
[ "$(vol_b owners_set)" = 9 ] || pair_fail "B set $(vol_b owners_set) owners, expected 9"
[ "$(vol_b owners_failed)" = 0 ] || pair_fail "B failed $(vol_b owners_failed) owners"

# Owners only: itemized as rsync itemizes them, nothing sent.
chown 1111:2222 "$s/a"
chown 4321:200 "$s/d"
chown -h 2222:4444 "$s/l"
want=$(rsync -a -n -i -- "$s/" "$d/" | LC_ALL=C sort)
[ "$want" = $'.L.....g... l -> a\n.d.....g... d/\n.f....og... a' ] ||
	pair_fail "rsync does not print the lines the test expects: $want"
before=$(listing "$d")
pair_push "$s" o -n -o -g -i >"$PAIR_DIR/out" || pair_fail "dry run: exit $?"
compare "owners changed, dry run" "$want" "$(items)"
[ "$(listing "$d")" = "$before" ] || pair_fail "the dry run changed owners"
pair_push "$s" o -o -g -i >"$PAIR_DIR/out" || pair_fail "second push: exit $?"
compare "owners changed" "$want" "$(items)"
pair_expect_field files_failed 0
pair_expect_field files_sent 0
same_owners "$d"
[ "$(vol_b owners_set)" = 12 ] || pair_fail "B set $(vol_b owners_set) owners, expected 12"

# -o alone, -g alone: the other stays xferd's (root's, 0); neither: both do.
pair_push "$s" oo -o >/dev/null || pair_fail "push -o: exit $?"
pair_expect_field group false
[ "$(column "$PAIR_VOL_B/oo" %U)" = "$(column "$s" %U)" ] || pair_fail "-o: owners differ"
[ "$(column "$PAIR_VOL_B/oo" %G | cut -d' ' -f2 | sort -u)" = 0 ] || pair_fail "-o set groups"
pair_push "$s" gg -g >/dev/null || pair_fail "push -g: exit $?"
pair_expect_field owner false
[ "$(column "$PAIR_VOL_B/gg" %G)" = "$(column "$s" %G)" ] || pair_fail "-g: groups differ"
[ "$(column "$PAIR_VOL_B/gg" %U | cut -d' ' -f2 | sort -u)" = 0 ] || pair_fail "-g set owners"
pair_push "$s" plain >/dev/null || pair_fail "push: exit $?"
[ "$(column "$PAIR_VOL_B/plain" '%U:%G' | cut -d' ' -f2 | sort -u)" = 0:0 ] ||
	pair_fail "without -o, -g owners were set"

# B's second volume does not keep owners: refused with B's reason, nothing written.
rc=0
out=$(pair_push "$s" ":archive/r" -o) || rc=$?
[ "$rc" -eq 1 ] || pair_fail "push -o into archive: exit $rc, expected 1 ($out)"
pair_expect_field state failed
want="refused by the peer: volume 'archive' does not keep owners and groups (volumes[].keep_owner)"
[ "$(pair_job_field error)" = "$want" ] || pair_fail "refusal: error '$(pair_job_field error)'"
[ "$(pair_json b 'j["drops"]["owner_refused"]' stats)" = 1 ] || pair_fail "B did not count the refusal"
[ ! -e "$PAIR_DIR/b-archive/r" ] || pair_fail "the refused push wrote into archive"

pair_pass

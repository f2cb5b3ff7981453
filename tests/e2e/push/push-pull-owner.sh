#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: `pull -o -g` and `--owner-names` (docs/CONTROL.md "Pull",
# "Owners and groups"; docs/PROTOCOL.md 3.1.2, the request's IDS byte). B allows A to
# pull; A's first volume keeps owners, its second does not.
# - pull -o -g: files, directories, symlinks and a set-user-ID file of various owners
#   arrive with them (the listing of path, type, uid, gid, mode equals the source's;
#   `rsync -a -n -i --checksum -o -g` prints nothing), A counts one owner set per entry,
#   and B's push reports owner and group;
# - pull -o alone and pull -g --owner-names set only that one (B's push reports exactly
#   what was asked: -o, -g and the names travel apart in the request);
# - into A's volume without keep_owner, pull -o is refused by A before B is asked
#   (exit 1, the reason; B counts no pull, nothing written);
# - xferctl refuses --owner-names without -o or -g (exit 2).
# Root only: the source's owners are made with chown, and xferd needs CAP_CHOWN.
#
#   push-pull-owner.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
# shellcheck source=tests/e2e/lib/owner.sh
. "$(dirname "$0")/../lib/owner.sh"
pair_init e2e-push-pull-owner "${1:?usage: push-pull-owner.sh XFERD XFERCTL}" "${2:?}"
[ "$(id -u)" = 0 ] || pair_skip "needs root: chown of the source tree, CAP_CHOWN for xferd"
export PAIR_VOLUMES="data archive"
s=$PAIR_DIR/src

owner_tree "$s"

# pull NAME DEST ARG...: xferctl -s A pull b:SRC DEST --wait ARG..., output in NAME.out.
pull() {
	local name=$1 d=$2 rc=0
	shift 2
	PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl a pull "b:$s" "$d" --wait "$@" \
		>"$PAIR_DIR/$name.out" 2>&1 || rc=$?
	pair_log "pull $name: exit $rc: $(tr '\n' '|' <"$PAIR_DIR/$name.out")"
	return "$rc"
}
# b_push KEY: that field of B's newest job (the push a pull started).
b_push() { pair_json b "max(j['jobs'], key=lambda x: x['id'])['$1']" jobs; }
vol_a() { pair_json a "j[\"volumes\"][0][\"$1\"]" stats || pair_fail "cannot read A's stats"; }

PAIR_SET_A="volumes[0].keep_owner=true" PAIR_SET_B="peers[0].allow_pull=true" pair_start

pull og og -o -g || pair_fail "pull -o -g: exit $?: $(cat "$PAIR_DIR/og.out")"
grep -qx 'Number of files failed: 0' "$PAIR_DIR/og.out" || pair_fail "failed files"
[ "$(listing "$s")" = "$(listing "$PAIR_VOL_A/og")" ] ||
	pair_fail "owners differ: $(diff <(listing "$s") <(listing "$PAIR_VOL_A/og") | head -20)"
out=$(rsync -a -n -i --checksum -o -g -- "$s/" "$PAIR_VOL_A/og/" 2>&1) || pair_fail "rsync: $out"
[ -z "$out" ] || pair_fail "rsync -a -n -i --checksum -o -g lists differences: $out"
[ "$(b_push owner):$(b_push group):$(b_push owner_names)" = "true:true:false" ] ||
	pair_fail "B's push: owner $(b_push owner), group $(b_push group)"
# og itself, a, suid, l, d, d/b, d/l2, d/e, d/e/c: one each.
[ "$(vol_a owners_set)" = 9 ] || pair_fail "A set $(vol_a owners_set) owners, expected 9"

pull o o -o || pair_fail "pull -o: exit $?: $(cat "$PAIR_DIR/o.out")"
[ "$(b_push owner):$(b_push group)" = "true:false" ] || pair_fail "pull -o: B's push differs"
[ "$(column "$PAIR_VOL_A/o" %U)" = "$(column "$s" %U)" ] || pair_fail "-o: owners differ"
[ "$(column "$PAIR_VOL_A/o" %G | cut -d' ' -f2 | sort -u)" = 0 ] || pair_fail "-o set groups"

pull gn gn -g --owner-names || pair_fail "pull -g --owner-names: exit $?: $(cat "$PAIR_DIR/gn.out")"
[ "$(b_push owner):$(b_push group):$(b_push owner_names)" = "false:true:true" ] ||
	pair_fail "pull -g --owner-names: B's push differs"
a_pull() { pair_json a "max(j['jobs'], key=lambda x: x['id'])['$1']" jobs; }
[ "$(a_pull owner):$(a_pull group):$(a_pull owner_names)" = "false:true:true" ] ||
	pair_fail "pull -g --owner-names: A's pull job shows $(a_pull owner):$(a_pull group):$(a_pull owner_names)"
# One set of accounts on both sides: a name maps to its own number, an id without a name
# keeps it.
[ "$(column "$PAIR_VOL_A/gn" %G)" = "$(column "$s" %G)" ] || pair_fail "-g: groups differ"
[ "$(column "$PAIR_VOL_A/gn" %U | cut -d' ' -f2 | sort -u)" = 0 ] || pair_fail "-g set owners"

# A's second volume does not keep owners: refused here, B never asked.
asked=$(pair_json b 'j["pull"]["asked"]' stats)
rc=0
pull refused ::archive/r -o || rc=$?
[ "$rc" -eq 1 ] || pair_fail "pull -o into archive: exit $rc, expected 1"
grep -q "volume 'archive' does not keep owners and groups (volumes\[\].keep_owner)" \
	"$PAIR_DIR/refused.out" || pair_fail "refusal: $(cat "$PAIR_DIR/refused.out")"
[ "$(pair_json b 'j["pull"]["asked"]' stats)" = "$asked" ] || pair_fail "B was asked"
[ ! -e "$PAIR_DIR/a-archive/r" ] || pair_fail "the refused pull wrote into archive"

rc=0
pair_ctl a pull "b:$s" x --owner-names 2>"$PAIR_DIR/usage.err" || rc=$?
[ "$rc" -eq 2 ] || pair_fail "pull --owner-names alone: exit $rc, expected 2"
grep -q 'owner-names maps what -o and -g send' "$PAIR_DIR/usage.err" ||
	pair_fail "pull --owner-names alone: $(cat "$PAIR_DIR/usage.err")"

pair_pass

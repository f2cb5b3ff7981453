#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: `xferctl pull` (docs/CONTROL.md, "Pull"; docs/PROTOCOL.md
# 6.18). B allows A to pull (peers[0].allow_pull on B); A does not allow B.
# - A pulls a tree from B: identical (rsync -a -n -i --checksum lists nothing, both ways),
#   the summary counts its files, B counts one pull asked and accepted;
# - with a trailing '/' on SRC the same (the contents go into DEST, as push does);
# - --delete (with --max-delete), --checksum, a filter and -n pass through: what rsync with the same rule makes; a dry
#   run writes nothing here;
# - refusals, each with its exact reason, exit 1, and counted on the side that refused:
#   B pulling from A (not_allowed), a source outside B's control.push_roots
#   (outside_roots), one that does not exist (no_such_path); nothing written here;
# - xferctl refuses -i and a relative SRC before asking (exit 2).
#
#   push-pull.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-pull "${1:?usage: push-pull.sh XFERD XFERCTL}" "${2:?}"
src=$PAIR_DIR/src

mkdir -p "$src"/{a/b,obj,"sp ace",empty}
for f in a/x.c a/b/y.c obj/m.o obj/n.o "sp ace/f 1.txt" top.c; do
	printf '%s\n' "$f" >"$src/$f"
done
head -c 700000 /dev/urandom >"$src/a/big.bin"
ln -s a/x.c "$src/link"
chmod 0640 "$src/a/x.c"
touch -d '2012-12-12 12:12:12' "$src/a/x.c" "$src/a" "$src"

PAIR_SET_B="peers[0].allow_pull=true" pair_start

# pull_wait NAME SRC DEST [ARG]...: xferctl -s A pull b:SRC DEST --wait, output in
# $PAIR_DIR/NAME.out; returns its exit code.
pull_wait() {
	local name=$1 s=$2 d=$3 rc=0
	shift 3
	PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl a pull "b:$s" "$d" --wait "$@" \
		>"$PAIR_DIR/$name.out" 2>&1 || rc=$?
	pair_log "pull $name: exit $rc: $(tr '\n' '|' <"$PAIR_DIR/$name.out")"
	return "$rc"
}

# stat_field SIDE PYEXPR: one value of SIDE's stats.
stat_field() {
	pair_json "$1" "$2" stats || pair_fail "cannot read $1's stats"
}

# The whole tree.
pull_wait whole "$src" pulled || pair_fail "pull: exit $?: $(cat "$PAIR_DIR/whole.out")"
pair_verify "$src" "$PAIR_VOL_A/pulled"
grep -qx 'Pull job [0-9]*: done' "$PAIR_DIR/whole.out" || pair_fail "no 'done' line"
# The count is that of the push B ran for it (its newest job), which came under the pull's
# session id.
nfiles=$(pair_json b 'max(j["jobs"], key=lambda x: x["id"])["files_total"]' jobs)
[ "$nfiles" -gt 10 ] || pair_fail "B's push lists $nfiles entries"
grep -qx "Number of files: $nfiles" "$PAIR_DIR/whole.out" ||
	pair_fail "the summary does not count $nfiles entries: $(cat "$PAIR_DIR/whole.out")"
grep -qx 'Number of files failed: 0' "$PAIR_DIR/whole.out" || pair_fail "failed files"
[ "$(stat_field b 'j["pull"]["accepted"]')" = 1 ] || pair_fail "B does not count the pull"

# The same again with a trailing '/': the contents into DEST, up to date, nothing written.
pull_wait slash "$src/" pulled || pair_fail "pull SRC/: exit $?"
pair_verify "$src" "$PAIR_VOL_A/pulled"
grep -qx 'Number of files transferred: 0' "$PAIR_DIR/slash.out" ||
	pair_fail "a second pull wrote files: $(cat "$PAIR_DIR/slash.out")"

# --delete passes through: what SRC lacks goes from DEST, within --max-delete.
printf 'stray\n' >"$PAIR_VOL_A/pulled/stray.txt"
pull_wait delete "$src" pulled --delete --max-delete 5 || pair_fail "pull --delete: exit $?"
[ ! -e "$PAIR_VOL_A/pulled/stray.txt" ] || pair_fail "pull --delete left stray.txt"
pair_verify "$src" "$PAIR_VOL_A/pulled"

# --checksum and a filter pass through: the result is rsync's with the same rule.
pull_wait filtered "$src" filtered --checksum --exclude '*.o' || pair_fail "filtered: exit $?"
rsync -a --exclude '*.o' -- "$src/" "$PAIR_DIR/ref-filtered/" || pair_fail "rsync failed"
pair_verify "$PAIR_DIR/ref-filtered" "$PAIR_VOL_A/filtered"

# A dry run decides and writes nothing here.
pull_wait dry "$src" dry -n || pair_fail "dry run: exit $?"
[ ! -e "$PAIR_VOL_A/dry" ] || pair_fail "a dry-run pull wrote $PAIR_VOL_A/dry"
grep -q 'DRY RUN' "$PAIR_DIR/dry.out" || pair_fail "the dry run is not said"

# expect_refused NAME SIDE REASON TEXT: the last pull exited 1 with "pull refused (REASON)"
# and TEXT, and SIDE (the one that refused) counts one refusal of that reason.
expect_refused() {
	local name=$1 side=$2 reason=$3 text=$4
	grep -qxF "Error: refused by the peer: pull refused ($reason): $text" "$PAIR_DIR/$name.out" ||
		pair_fail "$name: not refused as '$reason: $text': $(cat "$PAIR_DIR/$name.out")"
	[ "$(stat_field "$side" "j[\"pull\"][\"refused\"][\"$reason\"]")" = 1 ] ||
		pair_fail "$name: $side does not count one '$reason' refusal"
}

rc=0
PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl b pull "a:$src" nope --wait >"$PAIR_DIR/notallowed.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || pair_fail "a pull A does not allow: exit $rc, want 1"
expect_refused notallowed a not_allowed "this peer may not pull from dev-a (peers[].allow_pull)"
[ ! -e "$PAIR_VOL_B/nope" ] || pair_fail "a refused pull wrote on B"

rc=0
pull_wait outside /etc etc || rc=$?
[ "$rc" -eq 1 ] || pair_fail "a pull outside push_roots: exit $rc, want 1"
expect_refused outside b outside_roots "'/etc' is not beneath control.push_roots of dev-b"
[ ! -e "$PAIR_VOL_A/etc" ] || pair_fail "a refused pull wrote $PAIR_VOL_A/etc"

rc=0
pull_wait missing "$PAIR_DIR/missing" missing || rc=$?
[ "$rc" -eq 1 ] || pair_fail "a pull of a missing source: exit $rc, want 1"
expect_refused missing b no_such_path "'$PAIR_DIR/missing': No such file or directory"

# What the peer could never be asked: refused by xferctl, exit 2.
rc=0
pair_ctl a pull "b:$src" x -i >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || pair_fail "pull -i: exit $rc, want 2"
rc=0
pair_ctl a pull "b:relative" x >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || pair_fail "pull of a relative SRC: exit $rc, want 2"
[ "$(stat_field b 'j["pull"]["asked"]')" = 7 ] || pair_fail "B counts $(stat_field b 'j["pull"]["asked"]') pulls asked, want 7"

pair_pass

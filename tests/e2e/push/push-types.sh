#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: type changes between two pushes (docs/PIPELINE.md, "Type
# changes"), against rsync on the same trees:
# - the source changes kinds: a file becomes a directory with files in it, a directory
#   with a subtree becomes a file, an empty one a file, a symlink a directory, a
#   directory a symlink, a file a symlink and a symlink a file; on the receiver a
#   directory is swapped for a symlink out of the volume;
# - push -i without --delete prints rsync -a -n -i's lines, fails the two directories
#   with entries as rsync does ("cannot delete non-empty directory"), exit 1, and leaves
#   them whole; everything else is the source's, the symlink replaced, never followed;
# - push -n -i --delete prints rsync -a -n -i --delete's lines (the replaced trees'
#   entries as "*deleting") and changes nothing;
# - push -i --delete prints the same, leaves rsync's copy (rsync -a -n -i --checksum
#   prints nothing) and counts the replaced trees' entries as deletions.
#
#   push-types.sh XFERD XFERCTL
# shellcheck disable=SC2015 # "[ A ] && [ B ] || pair_fail": fail when either test fails
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
# shellcheck source=tests/e2e/lib/itemize.sh
. "$(dirname "$0")/../lib/itemize.sh"
pair_init e2e-push-types "${1:?usage: push-types.sh XFERD XFERCTL}" "${2:?}"
src=$PAIR_DIR/src
d=$PAIR_VOL_B/t
out=$PAIR_DIR/outside

# Whole seconds for every mtime: rsync -i compares seconds here, xferd nanoseconds.
settle_times() { find "$1" -exec touch -h -d @"$2" {} +; }
# items: the lines of the last push -i (the summary follows them), sorted.
items() { sed -n '/^Job [0-9]*: /q;p' "$PAIR_DIR/out" | LC_ALL=C sort; }
# ref ARGS...: rsync -a -n -i ARGS's itemized lines, sorted (without its notices, such
# as "cannot delete non-empty directory: d2f", which it prints on stdout too).
ref() {
	rsync -a -n -i "$@" -- "$src/" "$d/" 2>/dev/null |
		grep -v '^created directory \|^cannot delete non-empty directory: ' |
		LC_ALL=C sort || true
}
outside_intact() {
	[ "$(find "$out" | LC_ALL=C sort | tr '\n' ' ')" = "$out $out/o " ] &&
		[ "$(cat "$out/o")" = outside ] || pair_fail "the directory outside the volume changed"
}

mkdir -p "$src"/{d2f/sub/deeper,d2l/q,ed2f,keep} "$out"
echo outside >"$out/o"
for f in f2d d2f/z d2f/sub/y d2f/sub/deeper/v d2l/q/w r2l keep/k; do
	printf '%s\n' "$f" >"$src/$f"
done
ln -s nowhere "$src/l2d"
ln -s x "$src/l2r"
settle_times "$src" 1600000000

pair_start
pair_expect_io b "$PAIR_VOL_B" volume
pair_push "$src" t >/dev/null || pair_fail "first push: exit $?"
pair_verify "$src" "$d"

# The kinds change.
rm "$src/f2d" && mkdir -p "$src/f2d/in" && echo a >"$src/f2d/a" && echo b >"$src/f2d/in/b"
rm -r "$src/d2f" && echo now-a-file >"$src/d2f"
rmdir "$src/ed2f" && echo was-empty >"$src/ed2f"
rm "$src/l2d" && mkdir "$src/l2d" && echo k >"$src/l2d/k"
rm -r "$src/d2l" && ln -s elsewhere "$src/d2l"
rm "$src/r2l" && ln -s keep/k "$src/r2l"
rm "$src/l2r" && echo was-a-link >"$src/l2r"
settle_times "$src" 1600000100
touch -h -d @1600000000 "$src/keep" "$src/keep/k"
# On the receiver, a directory swapped for a symlink out of the volume: replaced as the
# symlink it is, never followed.
rm -r "$d/keep" && ln -s "$out" "$d/keep"

# Without --delete: the directories with entries stay, as rsync leaves them.
want=$(ref)
for line in 'cd+++++++++ f2d/' '>f+++++++++ f2d/in/b' 'cd+++++++++ l2d/' \
	'cL+++++++++ r2l -> keep/k' '>f+++++++++ l2r' '>f+++++++++ ed2f' 'cd+++++++++ keep/'; do
	grep -qxF -- "$line" <<<"$want" || pair_fail "rsync does not print '$line': the test's premise"
done
! grep -q ' d2f$\| d2l ' <<<"$want" || pair_fail "rsync itemizes d2f or d2l without --delete"
rc=0
pair_push "$src" t -i >"$PAIR_DIR/out" 2>"$PAIR_DIR/err" || rc=$?
[ "$rc" -eq 1 ] || pair_fail "push -i: exit $rc, expected 1 (two directories with entries)"
pair_expect_field files_failed 2
# Which ones, and why: in the job and on the push's stderr.
fails=$(python3 -c 'import json, sys
print(" ".join(sorted("%s:%s" % (f["path"], f["status"]) for f in json.load(open(sys.argv[1]))["failures"])))' \
	"$PAIR_DIR/job.json")
[ "$fails" = "d2f:conflict d2l:conflict" ] || pair_fail "the job names its failures as '$fails'"
for f in d2f d2l; do
	grep -qxF "xferctl: failed: $f (conflict)" "$PAIR_DIR/err" ||
		pair_fail "the push does not say $f failed: $(cat "$PAIR_DIR/err")"
done
compare "push -i" "$want" "$(items)"
[ -d "$d/d2f" ] && [ -f "$d/d2f/sub/deeper/v" ] && [ -d "$d/d2l" ] && [ -f "$d/d2l/q/w" ] ||
	pair_fail "a directory with entries was replaced without --delete"
outside_intact
[ -d "$d/keep" ] && [ ! -L "$d/keep" ] && cmp -s "$src/keep/k" "$d/keep/k" ||
	pair_fail "keep is not the source's directory"
out_cs=$(rsync -a -n -i --checksum --exclude=/d2f --exclude=/d2l -- "$src/" "$d/")
[ -z "$out_cs" ] || pair_fail "entries other than d2f and d2l differ: $out_cs"
# By an exchange: f2d, ed2f, l2d and keep (r2l and l2r by a rename, as any file).
changes() { pair_json b '"%d %d" % (j["volumes"][0]["type_changes"], j["volumes"][0]["trees_replaced"])' stats; }
[ "$(changes)" = "4 0" ] || pair_fail "volumes[0] type_changes trees_replaced: $(changes), want 4 0"

# A dry run with --delete: rsync's lines, nothing changed.
want=$(ref --delete)
for line in '*deleting   d2f/sub/deeper/v' '*deleting   d2f/sub/' '*deleting   d2l/q/w' \
	'>f+++++++++ d2f' 'cL+++++++++ d2l -> elsewhere'; do
	grep -qxF -- "$line" <<<"$want" || pair_fail "rsync --delete does not print '$line': $want"
done
before=$(snapshot)
pair_push "$src" t -n -i --delete >"$PAIR_DIR/out" || pair_fail "push -n -i --delete: exit $?"
compare "dry run --delete" "$want" "$(items)"
[ "$(snapshot)" = "$before" ] || {
	diff <(echo "$before") <(snapshot) >&2 || true
	pair_fail "the dry run changed the receiver"
}
ndel=$(grep -c '^\*deleting' <<<"$want")

# The real push with --delete: the same lines, rsync's copy, the deletions counted.
pair_push "$src" t -i --delete >"$PAIR_DIR/out" || pair_fail "push -i --delete: exit $?"
compare "push -i --delete" "$want" "$(items)"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["delete"]
sys.exit(0 if (d["status"], d["deleted"]) == ("done", int(sys.argv[2])) else 1)' \
	"$PAIR_DIR/job.json" "$ndel" ||
	pair_fail "delete is not done $ndel: $(cat "$PAIR_DIR/job.json")"
pair_verify "$src" "$d"
outside_intact
[ "$(changes)" = "6 2" ] || pair_fail "volumes[0] type_changes trees_replaced: $(changes), want 6 2"
[ -z "$(find "$PAIR_VOL_B/.xferd/tmp" -mindepth 1)" ] || pair_fail "left in the staging directory"
pair_push "$src" t -i >"$PAIR_DIR/out" || pair_fail "push -i of an up-to-date tree: exit $?"
[ -z "$(items)" ] || pair_fail "an up-to-date tree itemizes: $(items)"

pair_pass

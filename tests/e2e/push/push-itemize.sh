#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: `push -n` (dry run) and `push -i` (itemized changes)
# against rsync on the same trees (docs/CONTROL.md, "Dry run and itemized changes"):
# - a first push -i of a new tree prints the lines `rsync -a -n -i` prints for it;
# - after new files and directories, changed contents, a changed mode, an mtime alone,
#   symlinks new and re-pointed, and extra entries on the receiver, `push -n -i --delete`
#   prints the set of lines `rsync -a -n -i --delete` prints on the same trees (the
#   columns xferd fills; o, g and u are '.' on both sides here), and the receiver
#   is unchanged: every entry's type, mode, size, mtime and contents, no temp file, no
#   staged directory; the job counts the deletions it would make;
# - the real push -i then prints the same entry lines and leaves rsync's copy;
# - push -i --checksum prints what rsync -a -n -i --checksum printed before it: new
#   contents at the same size and mtime sent, the same contents at another mtime not;
# - with -X and -A, push -n -i and push -i print what rsync -a -n -i -X -A prints for
#   changed attributes and ACLs (the x and a columns), alone and with data, on files and
#   directories; a mode change of a file with an ACL is p alone; -X alone shows no ACL.
#
#   push-itemize.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
# shellcheck source=tests/e2e/lib/itemize.sh
. "$(dirname "$0")/../lib/itemize.sh"
pair_init e2e-push-itemize "${1:?usage: push-itemize.sh XFERD XFERCTL}" "${2:?}"
src=$PAIR_DIR/src
d=$PAIR_VOL_B/m

# Whole seconds for every mtime: rsync -i compares seconds here, xferd nanoseconds.
settle_times() { find "$1" -exec touch -h -d @"$2" {} +; }

mkdir -p "$src"/{a/b,keep,"sp ace"}
for f in a/x a/b/y keep/k top same-size mode-only time-only "sp ace/f 1"; do
	printf '%s\n' "$f" >"$src/$f"
done
ln -s a/x "$src/link"
ln -s keep "$src/repoint"
settle_times "$src" 1600000000

# items: the lines of the last push -i (the summary follows them), sorted.
items() { sed -n '/^Job [0-9]*: /q;p' "$PAIR_DIR/out" | LC_ALL=C sort; }
# ref ARGS...: what rsync -a -n -i ARGS prints from src into d (d need not exist),
# without its "created directory" notice, sorted.
ref() {
	rsync -a -n -i "$@" -- "$src/" "$d/" | grep -v '^created directory ' | LC_ALL=C sort
}

pair_start
want=$(ref)
pair_push "$src" m -i >"$PAIR_DIR/out" || pair_fail "first push -i: exit $?"
compare "first push" "$want" "$(items)"
[ "$(echo "$want" | grep -c '+++++++++')" -ge 12 ] || pair_fail "rsync listed too few new entries: $want"
pair_verify "$src" "$d"

# Changes on both sides.
echo "more" >>"$src/a/x"                      # content and size
printf 'SAME-SIZE\n' >"$src/same-size"         # content, same size, another mtime
chmod 600 "$src/mode-only"                     # mode alone
mkdir -p "$src/new/deeper" && echo n >"$src/new/deeper/n" && echo t >"$src/new/t"
ln -s a/b/y "$src/newlink"
rm "$src/repoint" && ln -s a "$src/repoint"    # another target
chmod 700 "$src/keep"                          # a directory's mode
settle_times "$src" 1600000100
touch -h -d @1600000000 "$src/mode-only" "$src/keep/k" "$src/top" \
	"$src/sp ace/f 1" "$src/a/b/y" "$src/link" "$src/a/b" "$src/sp ace"
touch -d @1600000050 "$src/time-only"          # mtime alone
mkdir -p "$d/extra/sub" && echo e >"$d/extra/sub/e" && echo s >"$d/stray"
ln -s /etc "$d/keep/outlink"
touch -h -d @1600000000 "$d/extra" "$d/extra/sub" "$d/extra/sub/e" "$d/stray" \
	"$d/keep/outlink" "$d/keep"

want=$(ref --delete)
before=$(snapshot)
pair_push "$src" m -n -i --delete >"$PAIR_DIR/out" || pair_fail "push -n -i --delete: exit $?"
compare "dry run" "$want" "$(items)"
[ "$(snapshot)" = "$before" ] || {
	diff <(echo "$before") <(snapshot) >&2 || true
	pair_fail "the dry run changed the receiver"
}
pair_expect_field dry_run true
pair_expect_field files_sent 0
ndel=$(echo "$want" | grep -c '^\*deleting' || true)
[ "$ndel" -eq 5 ] || pair_fail "rsync would delete $ndel entries, the test wants 5"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["delete"]
sys.exit(0 if (d["status"], d["deleted"]) == ("done", int(sys.argv[2])) else 1)' \
	"$PAIR_DIR/job.json" "$ndel" || pair_fail "dry run: delete is not done $ndel: $(cat "$PAIR_DIR/job.json")"
for line in '>f.st...... a/x' '>f..t...... same-size' '.f...p..... mode-only' \
	'>f..t...... time-only' 'cd+++++++++ new/' 'cL+++++++++ newlink -> a/b/y' \
	'cLc.t...... repoint -> a' '.d..tp..... keep/' '*deleting   stray'; do
	grep -qxF -- "$line" <<<"$want" || pair_fail "rsync does not print '$line': the test's premise"
done

# The real push: the same entry lines, and rsync's copy.
want=$(ref --delete)
pair_push "$src" m -i --delete >"$PAIR_DIR/out" || pair_fail "push -i --delete: exit $?"
compare "push -i --delete" "$want" "$(items)"
pair_verify "$src" "$d"
pair_push "$src" m -i >"$PAIR_DIR/out" || pair_fail "push -i of an up-to-date tree: exit $?"
[ -z "$(items)" ] || pair_fail "an up-to-date tree itemizes: $(items)"

# --checksum: contents compared as rsync --checksum compares them: new contents at the
# same size and mtime are sent, the same contents at another mtime are not.
for f in cs-content cs-time cs-size; do printf '%s-0123456789\n' "$f" >"$src/$f"; done
touch -d @1600000200 "$src"/cs-*
pair_push "$src" m >/dev/null || pair_fail "push of the cs- files: exit $?"
printf 'CS-CONTENT-0123456789\n' >"$src/cs-content"
echo longer >>"$src/cs-size"
touch -d @1600000200 "$src/cs-content" "$src/cs-size"
touch -d @1600000300 "$src/cs-time"
want=$(ref --checksum)
for line in '>fc........ cs-content' '.f..t...... cs-time' '>fcs....... cs-size'; do
	grep -qxF -- "$line" <<<"$want" || pair_fail "rsync --checksum does not print '$line': $want"
done
pair_push "$src" m -i --checksum >"$PAIR_DIR/out" || pair_fail "push -i --checksum: exit $?"
compare "push -i --checksum" "$want" "$(items)"
pair_verify "$src" "$d"

# -X, -A: the x and a columns. An attribute alone, an ACL alone, a directory's default
# ACL and attribute, data and an attribute at once; then a mode change of a file with an
# ACL (its mask follows: p, not a), an attribute only the receiver has, and -X alone,
# which does not look at ACLs. Each against rsync -a -n -i -X -A (or -X) on the same trees.
for t in setfattr setfacl; do
	command -v "$t" >/dev/null || pair_fail "needs $t (scripts/install-deps.sh: attr, acl)"
done
setfattr -n user.k -v 1 "$src/top" || pair_fail "$PAIR_DIR: no user.* attributes here"
setfacl -m u:nobody:r "$src/keep/k" || pair_fail "$PAIR_DIR: no POSIX ACLs here"
setfacl -d -m u:nobody:rx "$src/a"
setfattr -n user.d -v dir "$src/a/b"
echo attr-and-data >>"$src/time-only" && setfattr -n user.t -v 2 "$src/time-only"
touch -d @1600000050 "$src/time-only"
want=$(ref -X -A)
for line in '.f........x top' '.f.......a. keep/k' '.d.......a. a/' '.d........x a/b/' \
	'>f.s......x time-only'; do
	grep -qxF -- "$line" <<<"$want" || pair_fail "rsync -X -A does not print '$line': $want"
done
before=$(snapshot)
pair_push "$src" m -n -i -X -A >"$PAIR_DIR/out" || pair_fail "push -n -i -X -A: exit $?"
compare "dry run -X -A" "$want" "$(items)"
[ "$(snapshot)" = "$before" ] || pair_fail "the dry run -X -A changed the receiver"
pair_push "$src" m -i -X -A >"$PAIR_DIR/out" || pair_fail "push -i -X -A: exit $?"
compare "push -i -X -A" "$want" "$(items)"
[ -z "$(ref -X -A)" ] || pair_fail "after push -X -A rsync still lists: $(ref -X -A)"

chmod 600 "$src/keep/k" && touch -d @1600000000 "$src/keep/k"
setfattr -n user.extra -v here "$d/top"
setfacl -m u:nobody:r "$src/a/x"
want=$(ref -X -A)
for line in '.f...p..... keep/k' '.f........x top' '.f.......a. a/x'; do
	grep -qxF -- "$line" <<<"$want" || pair_fail "rsync -X -A does not print '$line': $want"
done
pair_push "$src" m -n -i -X -A >"$PAIR_DIR/out" || pair_fail "push -n -i -X -A (2): exit $?"
compare "dry run -X -A, second changes" "$want" "$(items)"
want=$(ref -X)
grep -q ' a/x$' <<<"$want" && pair_fail "rsync -X lists an ACL change: $want"
pair_push "$src" m -i -X >"$PAIR_DIR/out" || pair_fail "push -i -X: exit $?"
compare "push -i -X" "$want" "$(items)"

pair_pass

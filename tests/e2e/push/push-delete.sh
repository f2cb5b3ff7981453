#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: `push --delete` (docs/CONTROL.md, docs/PIPELINE.md
# "Deletion") leaves on the receiver what `rsync -a --delete` leaves on a copy of it:
# - a re-push after files, directories and symlinks were removed from the source and
#   added to it, with extra files, a tree of them and symlinks to a directory outside the
#   volume on the receiver: the destination equals rsync's, the job counts as many
#   deletions as rsync itemizes, and nothing outside the volume is touched;
# - --max-delete N: exactly N entries go, the rest stay, the push exits 1 and says how
#   many were left (as rsync: "Deletions stopped due to --max-delete limit");
#   --max-delete 0 deletes nothing;
# - a directory of the source swapped for a symlink out of the volume on the receiver:
#   replaced by the directory, never followed, as rsync replaces it (docs/PIPELINE.md,
#   "Type changes"); outside intact;
# - a directory with entries where the source has a file, under --max-delete: that entry
#   fails (CONFLICT), so the job is failed and deletes nothing;
# - filters with --delete: what the rules exclude is kept on the receiver, and so are the
#   extraneous directories that hold it, as rsync keeps them: the destination equals
#   rsync's with the same rules, and the kept entries are counted; a filter that excludes
#   everything deletes nothing;
# - --delete into B's second volume (b::vault/m) deletes there, as rsync does, and
#   touches nothing in B's first volume;
# - --delete into the volume root keeps the staging directory (.xferd), and the pair
#   pushes again afterwards.
#
#   push-delete.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-delete "${1:?usage: push-delete.sh XFERD XFERCTL}" "${2:?}"
# Each side has two volumes: data (PAIR_VOL_A/B, where most cases run) and vault.
export PAIR_VOLUMES="data vault"
src=$PAIR_DIR/src
out=$PAIR_DIR/outside # a directory outside both volumes
d=$PAIR_VOL_B/m

mkdir -p "$src"/{a/b/c,gone/deep,keep,empty,"sp ace"} "$out/sub"
for f in a/x a/b/y a/b/c/z gone/g gone/deep/h keep/k top "sp ace/f 1"; do
	printf '%s\n' "$f" >"$src/$f"
done
ln -s a/x "$src/link"
ln -s keep "$src/dirlink"
echo secret >"$out/secret"
echo deeper >"$out/sub/file"
touch -d '2012-12-12 12:12:12' "$src/a/x" "$src/a"
snapshot_outside() { (cd "$out" && find . -printf '%p %y %s %T@\n' | sort); }
outside_before=$(snapshot_outside)
check_outside() {
	[ "$(snapshot_outside)" = "$outside_before" ] ||
		pair_fail "$1: the directory outside the volume changed"
}

# rsync_ref NAME RSYNC-ARGS...: a copy of the receiver's destination as it is now, made
# into what rsync -a --delete makes of it; sets want_deleted to rsync's deletion count.
rsync_ref() {
	local name=$1
	shift
	rm -rf "$PAIR_DIR/ref-$name"
	cp -a "$d" "$PAIR_DIR/ref-$name"
	want_deleted=$(rsync -a -i "$@" -- "$src/" "$PAIR_DIR/ref-$name/" |
		grep -c '^\*deleting' || true)
}

# job_delete: the last job's delete result as "STATUS DELETED KEPT".
job_delete() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["delete"]
print(d["status"], d["deleted"], d["kept"])' "$PAIR_DIR/job.json"
}

pair_start
pair_push "$src" m --delete >/dev/null || pair_fail "first push: exit $?"
pair_expect_field files_failed 0
pair_verify "$src" "$d"
[ "$(job_delete)" = "done 0 0" ] || pair_fail "first push: delete is $(job_delete)"

# The source loses a tree, a file and a symlink and gains others; the receiver gains
# extra files, a tree, a file in a kept directory and symlinks out of the volume.
rm -rf "$src/gone" "$src/a/b/y" "$src/link"
echo new >"$src/a/new"
mkdir "$src/fresh" && echo f >"$src/fresh/f"
mkdir -p "$d/extra/x1/x2" "$d/a/b/c/xdir"
for f in extra/e1 extra/x1/e2 extra/x1/x2/e3 a/b/c/xdir/e4 a/stray "sp ace/stray 2"; do
	echo "$f" >"$d/$f"
done
ln -s "$out" "$d/outlink"         # a symlink to a directory outside the volume
ln -s "$out/secret" "$d/a/outfile" # and to a file there
ln -s "$out" "$d/keep/inside-kept" # in a directory the source keeps
rsync_ref mirror --delete
pair_push "$src" m --delete >"$PAIR_DIR/summary" || pair_fail "mirror push: exit $?"
pair_expect_field files_failed 0
diff -r --no-dereference -x .xferd "$PAIR_DIR/ref-mirror" "$d" >&2 ||
	pair_fail "mirror push: the destination differs from rsync --delete's"
pair_verify "$src" "$d"
check_outside "mirror push"
[ "$want_deleted" -ge 12 ] || pair_fail "rsync itemized only $want_deleted deletions"
[ "$(job_delete)" = "done $want_deleted 0" ] ||
	pair_fail "mirror push: delete is $(job_delete), rsync deleted $want_deleted"
grep -qx "Number of deleted files: $want_deleted" "$PAIR_DIR/summary" ||
	pair_fail "mirror push: the summary does not say $want_deleted deletions: $(cat "$PAIR_DIR/summary")"

# --max-delete: 5 extra entries, at most 2 go.
for i in 1 2 3 4 5; do echo "$i" >"$d/extra$i"; done
rc=0
pair_push "$src" m --delete --max-delete 2 >"$PAIR_DIR/summary" || rc=$?
[ "$rc" -eq 1 ] || pair_fail "--max-delete 2: exit $rc, want 1"
grep -qx "Deletions stopped due to --max-delete limit (3 skipped)" "$PAIR_DIR/summary" ||
	pair_fail "--max-delete 2: summary: $(cat "$PAIR_DIR/summary")"
left=$(find "$d" -maxdepth 1 -name 'extra?' | wc -l)
[ "$left" -eq 3 ] || pair_fail "--max-delete 2: $left of 5 extras left, want 3"
rc=0
pair_push "$src" m --delete --max-delete 0 >"$PAIR_DIR/summary" || rc=$?
[ "$rc" -eq 1 ] || pair_fail "--max-delete 0: exit $rc, want 1"
left=$(find "$d" -maxdepth 1 -name 'extra?' | wc -l)
[ "$left" -eq 3 ] || pair_fail "--max-delete 0: $left extras left, want 3"
pair_push "$src" m --delete --max-delete 3 >/dev/null || pair_fail "--max-delete 3: exit $?"
pair_verify "$src" "$d"

# A directory the source has, swapped for a symlink out of the volume on the receiver:
# replaced by the directory as the symlink it is (rsync does so too), never followed.
rm -rf "$d/keep"
ln -s "$out" "$d/keep"
echo x >"$d/extra-after-swap"
pair_push "$src" m --delete >"$PAIR_DIR/summary" || pair_fail "swapped symlink: exit $?"
if [ ! -d "$d/keep" ] || [ -L "$d/keep" ]; then
	pair_fail "the swapped symlink was not replaced"
fi
[ ! -e "$d/extra-after-swap" ] || pair_fail "swapped symlink: extra-after-swap not deleted"
pair_verify "$src" "$d"
check_outside "swapped symlink"

# A file where the receiver has a directory with entries, under --max-delete (whose
# limit such a tree could overrun): that entry fails (CONFLICT), so nothing is deleted.
mkdir -p "$d/was-dir/sub" && echo e >"$d/was-dir/sub/e"
echo f >"$src/was-dir"
echo x >"$d/extra-after-fail"
rc=0
pair_push "$src" m --delete --max-delete 100 >"$PAIR_DIR/summary" || rc=$?
[ "$rc" -eq 1 ] || pair_fail "a failed file: exit $rc, want 1"
grep -qx "Deletions skipped: a file failed" "$PAIR_DIR/summary" ||
	pair_fail "a failed file: summary: $(cat "$PAIR_DIR/summary")"
[ -e "$d/extra-after-fail" ] || pair_fail "a failed job deleted extra-after-fail"
[ -f "$d/was-dir/sub/e" ] || pair_fail "the directory in the way was touched"
check_outside "a failed file"
rm "$src/was-dir" && rm -r "$d/was-dir" "$d/extra-after-fail"

# Filters and --delete: the rules reach B in the HELLO, and B keeps what they exclude
# (docs/PIPELINE.md, "Deletion"); compared with rsync -a --delete and the same rules.
fs=$PAIR_DIR/fsrc fd=$PAIR_VOL_B/f fr=$PAIR_DIR/ref-filters
mkdir -p "$fs/keep" "$fs/sub"
echo a >"$fs/keep/f" && echo s >"$fs/x.c" && echo t >"$fs/sub/t"
pair_push "$fs" f >"$PAIR_DIR/summary" || pair_fail "filters: first push: exit $?"
# Extraneous on B: kept by a rule (top.o, extra/sub/g.o and so extra/sub and extra,
# cache/ whole, keep/old.o, the anchored /anch), or deleted (zz, extra/h, keep/old.txt,
# sub/anch, which /anch does not match below the top).
mkdir -p "$fd/extra/sub" "$fd/cache/in"
for f in top.o zz extra/h extra/sub/g.o cache/in/c keep/old.o keep/old.txt anch sub/anch; do
	echo "$f" >"$fd/$f"
done
rm -rf "$fr" && cp -a "$fd" "$fr"
rules=(--exclude '*.o' --exclude 'cache/' --filter '- /anch')
rsync -a --delete "${rules[@]}" -- "$fs/" "$fr/" 2>/dev/null || true # "cannot delete non-empty directory"
prot() { pair_json b 'sum(v["pipeline_delete_protected"] for v in j["volumes"])' stats; }
p0=$(prot)
pair_push "$fs" f --delete "${rules[@]}" >"$PAIR_DIR/summary" || pair_fail "filters: exit $?"
tree() { (cd "$1" && find . -printf '%p %y\n' | sort); }
[ "$(tree "$fd")" = "$(tree "$fr")" ] ||
	pair_fail "filters: B differs from rsync's: $(diff <(tree "$fd") <(tree "$fr") | head -20)"
# -O: the mtime of a kept directory something was deleted in is when that happened.
diffs=$(rsync -a -n -i -O --checksum -- "$fr/" "$fd/") || pair_fail "filters: rsync failed"
[ -z "$diffs" ] || pair_fail "filters: contents differ from rsync's: $diffs"
grep -qx "Number of deleted files: 4" "$PAIR_DIR/summary" ||
	pair_fail "filters: summary: $(cat "$PAIR_DIR/summary")"
# Five entries the rules keep, and the two directories above extra/sub/g.o.
[ "$(($(prot) - p0))" -eq 7 ] || pair_fail "filters: pipeline_delete_protected grew by $(($(prot) - p0)), want 7"

# Rules that do not fit in the HELLO are refused before anything is sent.
for i in $(seq 1 400); do printf 'rule-%04d\n' "$i"; done >"$PAIR_DIR/many-rules"
rc=0
err=$(pair_ctl a push "$fs" b:f --delete --exclude-from "$PAIR_DIR/many-rules" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || pair_fail "rules too long for the HELLO: exit $rc, want 1"
case $err in *"more than the"*"bytes a HELLO holds"*) ;;
*) pair_fail "rules too long for the HELLO: '$err'" ;;
esac

# A filter that excludes everything: nothing is sent, nothing deleted.
before=$(tree "$fd")
pair_push "$fs" f --delete --exclude '**' >"$PAIR_DIR/summary" || pair_fail "exclude all: exit $?"
[ "$(tree "$fd")" = "$before" ] || pair_fail "a filter that excludes everything changed B"
grep -qx "Number of deleted files: 0" "$PAIR_DIR/summary" ||
	pair_fail "exclude all: summary: $(cat "$PAIR_DIR/summary")"

rc=0
err=$(pair_ctl a push "$src" b:m --max-delete 1 2>&1) || rc=$?
[ "$rc" -eq 2 ] || pair_fail "--max-delete alone: exit $rc, want 2"
raw=$(python3 - "$PAIR_DIR/a.sock" "$src" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
for args in ({"delete": True, "max_delete": -1}, {"delete": "yes"}, {"max_delete": 3}):
    args.update({"src": sys.argv[2], "peer": "b", "dest": "raw"})
    s.sendall(json.dumps({"v": 1, "cmd": "push", "args": args}).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(65536)
    r = json.loads(buf)
    print(r["error"]["code"] if not r["ok"] else "ok")
PY
)
[ "$raw" = "$(printf 'invalid_args\ninvalid_args\ninvalid_args')" ] ||
	pair_fail "raw pushes with bad delete arguments: $raw"
[ ! -e "$PAIR_VOL_B/raw" ] || pair_fail "a refused push created its destination"

# Into B's second volume: the walk is of vault/m, from vault's root; data is untouched.
v=$PAIR_DIR/b-vault/m
mkdir -p "$v/extra" && echo e >"$v/extra/e" && echo s >"$v/stray"
snapshot_data() {
	(cd "$PAIR_VOL_B" && find . -path ./.xferd -prune -o -printf '%p %y %s %T@\n' | sort)
}
data_before=$(snapshot_data)
pair_push "$src" ":vault/m" --delete >/dev/null || pair_fail "push --delete to b::vault/m: exit $?"
[ "$(job_delete)" = "done 3 0" ] ||
	pair_fail "b::vault/m: delete is $(job_delete), want done 3 0 (extra, extra/e, stray)"
[ ! -e "$v/extra" ] && [ ! -e "$v/stray" ] ||
	pair_fail "b::vault/m: the extraneous entries are still there"
pair_verify "$src" "$v"
[ "$(snapshot_data)" = "$data_before" ] || pair_fail "push --delete into vault changed volume data"
check_outside "vault push"

# Into the volume root: everything else there goes, the staging directory stays, and the
# pair still pushes.
pair_push "$src" / --delete >/dev/null || pair_fail "push --delete to the root: exit $?"
[ -d "$PAIR_VOL_B/.xferd/tmp" ] || pair_fail "the staging directory was deleted"
# The volume root itself is no entry of the list (its mtime is not the source's).
diffs=$(rsync -a -n -i --checksum --delete --exclude=/.xferd -- "$src/" "$PAIR_VOL_B/" |
	grep -vx '\.d\.\.t\.\.\.\.\.\. \./' || true)
[ -z "$diffs" ] || pair_fail "push --delete to the root: rsync finds: $diffs"
check_outside "root push"
pair_push "$src" again >/dev/null || pair_fail "push after the root push: exit $?"
pair_verify "$src" "$PAIR_VOL_B/again"

pair_pass

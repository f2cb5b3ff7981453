#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif, 2 RX cores and 2 workers on each appliance: -n, -i and
# --delete over 2 lanes give what one lane gives (docs/ENGINE.md, "Lanes"; docs/PIPELINE.md,
# "Lanes"). Two destinations on B start identical (m1, m2); each step pushes the same
# source to m1 with --lanes 1 and to m2 with --lanes 2:
# - push -n -i --delete: the same itemized lines in the same order (file-list order, the
#   deletions first), the set rsync -a -n -i --delete prints; both destinations unchanged;
#   both jobs count the same deletions, and the same entries settled and bytes (each
#   entry decided once over 2 lanes);
# - push -i --delete: the same lines again, in the same order; both destinations are
#   rsync's copy (the deletion pass kept every lane's files and deleted only the
#   extraneous ones), the same count of deletions;
# - --delete --max-delete 2 with 5 extraneous entries: 2 deleted across the whole job,
#   3 kept, exit 1, on both;
# - a file of a lane fails (CONFLICT: a directory with entries in its place, under
#   --max-delete): the job fails and deletes nothing ("skipped"), on both; without
#   --max-delete one lane replaces the directory and 2 lanes fail it (the documented
#   difference);
# - push -i --delete --checksum after contents changed at the same size and mtime in
#   each lane's half: the same lines and bytes (the deletion pass sends nothing);
# - a re-push -i of an up-to-date tree over 2 lanes itemizes nothing.
#
#   push-lanes-modes.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
# shellcheck source=tests/e2e/lib/itemize.sh
. "$(dirname "$0")/../lib/itemize.sh"
pair_init e2e-push-lanes-modes "${1:?usage: push-lanes-modes.sh XFERD XFERCTL}" "${2:?}"
src=$PAIR_DIR/src
m1=$PAIR_VOL_B/m1
m2=$PAIR_VOL_B/m2

# Whole seconds for every mtime: rsync -i compares seconds here, xferd nanoseconds.
settle_times() { find "$1" -exec touch -h -d @"$2" {} +; }
# items: the lines of the last push -i (the summary follows them), in their order.
items() { sed -n '/^Job [0-9]*: /q;p' "$PAIR_DIR/out"; }
# ref ARGS...: what rsync -a -n -i ARGS prints from src into m1, without its "created
# directory" notice, sorted.
ref() {
	rsync -a -n -i "$@" -- "$src/" "$m1/" | grep -v '^created directory ' | LC_ALL=C sort
}
job_delete() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["delete"]
print(d["status"], d["deleted"], d["kept"])' "$PAIR_DIR/job.json"
}
# both NAME ARGS...: push src to m1 over 1 lane and to m2 over 2; NAME.1 and NAME.2 hold
# each one's itemized lines, NAME.del1 and NAME.del2 each one's exit code and delete
# result, NAME.count1 and NAME.count2 its state and entry and byte counters: all must be
# equal.
both() {
	local name=$1 rc
	shift
	for n in 1 2; do
		rc=0
		pair_push "$src" "m$n" --lanes "$n" "$@" >"$PAIR_DIR/out" || rc=$?
		pair_expect_field lanes "$n"
		items >"$PAIR_DIR/$name.$n"
		echo "$rc $(job_delete)" >"$PAIR_DIR/$name.del$n"
		python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(" ".join("%s=%s" % (k, j[k]) for k in ("state", "files_total", "files_done",
      "files_sent", "files_uptodate", "files_failed", "bytes_total", "bytes_done")))' \
			"$PAIR_DIR/job.json" >"$PAIR_DIR/$name.count$n"
	done
	cmp -s "$PAIR_DIR/$name.1" "$PAIR_DIR/$name.2" || {
		diff "$PAIR_DIR/$name.1" "$PAIR_DIR/$name.2" >&2 || true
		pair_fail "$name: 2 lanes itemize other lines, or in another order, than 1 (>: 2 lanes)"
	}
	cmp -s "$PAIR_DIR/$name.del1" "$PAIR_DIR/$name.del2" ||
		pair_fail "$name: exit and delete: 1 lane '$(cat "$PAIR_DIR/$name.del1")', 2 lanes '$(cat "$PAIR_DIR/$name.del2")'"
	cmp -s "$PAIR_DIR/$name.count1" "$PAIR_DIR/$name.count2" ||
		pair_fail "$name: counters: 1 lane '$(cat "$PAIR_DIR/$name.count1")', 2 lanes '$(cat "$PAIR_DIR/$name.count2")'"
	pair_log "$name: $(wc -l <"$PAIR_DIR/$name.1") lines, exit and delete $(cat "$PAIR_DIR/$name.del1")"
}
# on_both CMD: run CMD (a shell snippet using $d) in m1 and in m2.
on_both() {
	local d
	for d in "$m1" "$m2"; do eval "$1"; done
}

# Two directories of about equal weight, so that each lane has files of both kinds.
for top in left right; do
	mkdir -p "$src/$top"/{a,b/c,"sp ace"}
	for i in $(seq 1 12); do
		printf '%s %s\n' "$top" "$i" >"$src/$top/a/f$i"
		head -c $((i * 1500)) /dev/zero | tr '\0' "$i" >"$src/$top/b/c/g$i"
	done
	printf 'x\n' >"$src/$top/sp ace/f 1"
	ln -s a/f1 "$src/$top/link"
done
settle_times "$src" 1600000000

PAIR_SET_A=transfer.lanes=2 pair_start --set 'cores.rx=[1, 2]' --set 'cores.workers=[1, 2]'
pair_push "$src" m1 >/dev/null || pair_fail "first push: exit $?"
pair_expect_field lanes 2 # transfer.lanes
pair_verify "$src" "$m1"
cp -a "$m1" "$m2"

# Changes on both sides: in each lane's half, contents, a mode, an mtime alone, new
# files and directories, a re-pointed symlink; extraneous entries in each half on B.
for top in left right; do
	echo more >>"$src/$top/a/f3"
	chmod 600 "$src/$top/a/f4"
	mkdir -p "$src/$top/new/deeper" && echo n >"$src/$top/new/deeper/n"
	rm "$src/$top/link" && ln -s b "$src/$top/link"
	rm "$src/$top/b/c/g7"
done
settle_times "$src" 1600000100
touch -d @1600000050 "$src/left/a/f5" "$src/right/a/f6"
on_both 'mkdir -p "$d/left/extra/sub" && echo e >"$d/left/extra/sub/e" && echo s >"$d/right/b/stray"
	touch -h -d @1600000000 "$d/left/extra" "$d/left/extra/sub" "$d/left/extra/sub/e" "$d/right/b/stray" "$d/right/b"'

# -n -i --delete: what each would do, deciding every entry and writing nothing.
want=$(ref --delete)
ndel=$(grep -c '^\*deleting' <<<"$want" || true)
[ "$ndel" -eq 6 ] || pair_fail "rsync would delete $ndel entries, the test wants 6: $want"
before=$(snapshot)
both dry -n -i --delete
compare "push -n -i --delete over 2 lanes" "$want" "$(LC_ALL=C sort "$PAIR_DIR/dry.2")"
[ "$(snapshot)" = "$before" ] || {
	diff <(echo "$before") <(snapshot) >&2 || true
	pair_fail "a dry run changed the receiver"
}
[ "$(cat "$PAIR_DIR/dry.del2")" = "0 done $ndel 0" ] ||
	pair_fail "dry run over 2 lanes: exit and delete are $(cat "$PAIR_DIR/dry.del2")"
pair_expect_field files_sent 0

# The real push -i --delete: the same lines, and rsync's copy in both.
both real -i --delete
cmp -s "$PAIR_DIR/dry.2" "$PAIR_DIR/real.2" || {
	diff "$PAIR_DIR/dry.2" "$PAIR_DIR/real.2" >&2 || true
	pair_fail "the real push itemized other lines than its dry run"
}
[ "$(cat "$PAIR_DIR/real.del2")" = "0 done $ndel 0" ] ||
	pair_fail "push -i --delete over 2 lanes: exit and delete are $(cat "$PAIR_DIR/real.del2")"
pair_verify "$src" "$m1"
pair_verify "$src" "$m2"

# --max-delete 2 counts over the whole job: 2 of 5 go, 3 stay.
on_both 'for i in 1 2 3; do echo "$i" >"$d/left/a/extra$i"; done; for i in 4 5; do echo "$i" >"$d/right/b/c/extra$i"; done'
both maxdel --delete --max-delete 2
[ "$(cat "$PAIR_DIR/maxdel.del2")" = "1 limit 2 3" ] ||
	pair_fail "--max-delete 2 over 2 lanes: exit and delete are $(cat "$PAIR_DIR/maxdel.del2")"
left=$(find "$m2" -name 'extra?' | wc -l)
[ "$left" -eq 3 ] || pair_fail "--max-delete 2 over 2 lanes: $left of 5 extras left, want 3"

# A failed file (a directory with entries in its place, under --max-delete): no deletion.
echo f >"$src/right/was-dir"
touch -d @1600000200 "$src/right" "$src/right/was-dir" # not the receiver's (same tick)
on_both 'mkdir -p "$d/right/was-dir/sub" && echo e >"$d/right/was-dir/sub/e"'
both failed -i --delete --max-delete 100
[ "$(cat "$PAIR_DIR/failed.del2")" = "1 skipped 0 0" ] ||
	pair_fail "a failed file over 2 lanes: exit and delete are $(cat "$PAIR_DIR/failed.del2")"
[ "$(find "$m2" -name 'extra?' | wc -l)" -eq 3 ] || pair_fail "a failed job over 2 lanes deleted"
[ -f "$m2/right/was-dir/sub/e" ] || pair_fail "the directory in the way was touched"
# Without --max-delete one session replaces that directory (docs/PROTOCOL.md 6.7); a
# lane has no XF_HELLO_F_DELETE, so there it stays a CONFLICT and nothing is deleted
# (docs/ENGINE.md, "What differs from one session").
rc=0
pair_push "$src" m1 --lanes 1 --delete >/dev/null || rc=$?
[ "$rc" -eq 0 ] && [ -f "$m1/right/was-dir" ] && [ "$(find "$m1" -name 'extra?' | wc -l)" -eq 0 ] ||
	pair_fail "one session with --delete: exit $rc, the directory in the way not replaced or extras left"
rc=0
pair_push "$src" m2 --lanes 2 --delete >/dev/null || rc=$?
[ "$rc" -eq 1 ] && [ "$(job_delete)" = "skipped 0 0" ] && [ -f "$m2/right/was-dir/sub/e" ] ||
	pair_fail "2 lanes with --delete: exit $rc, delete $(job_delete): not the documented CONFLICT"
rm "$src/right/was-dir"
rm -r "$m2/right/was-dir"
rm -rf "$m1" && cp -a "$m2" "$m1" # twins again, with m2's extras

both last -i --delete
pair_verify "$src" "$m2"

# --checksum: new contents at the same size and mtime in each half are sent by their
# lane, and the deletion pass (which quick-checks by size and mtime) sends nothing more:
# the same lines, bytes and counters as one lane.
for f in left/a/f9 right/b/c/g9; do
	tr '0-9' 'A-J' <"$src/$f" >"$src/$f.new" && mv "$src/$f.new" "$src/$f"
	touch -d @1600000100 "$src/$f"
done
on_both 'echo x >"$d/left/stray2"'
touch -d @1600000100 "$src/left" "$src/left/a" "$src/right/b/c"
both checksum -i --delete --checksum
grep -qxF '>fc........ left/a/f9' "$PAIR_DIR/checksum.2" ||
	pair_fail "--checksum over 2 lanes: left/a/f9 not sent: $(cat "$PAIR_DIR/checksum.2")"
[ "$(cat "$PAIR_DIR/checksum.del2")" = "0 done 1 0" ] ||
	pair_fail "--checksum over 2 lanes: exit and delete are $(cat "$PAIR_DIR/checksum.del2")"
pair_verify "$src" "$m2"
pair_push "$src" m2 --lanes 2 -i >"$PAIR_DIR/out" || pair_fail "push -i of an up-to-date tree: exit $?"
[ -z "$(items)" ] || pair_fail "an up-to-date tree itemizes over 2 lanes: $(items)"

pair_pass

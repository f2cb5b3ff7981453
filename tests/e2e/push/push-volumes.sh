#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: every volume receives (docs/CONTROL.md, "Destinations").
# B has three volumes: data (the first), archive (written by its second worker only,
# volumes[].workers) and scratch.
# - one tree pushed twice to B: b:tree lands in data, b::archive/tree in archive; both
#   are identical to the source, and neither push wrote anything into the other volume;
# - b::scratch pushes into scratch's root;
# - b::nosuch/x is refused: the job fails with B's reason, which names B's volumes, B
#   counts the refusal, and nothing is written anywhere;
# - B's stats count each volume's sessions and bytes, and name archive's worker.
#
#   push-volumes.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-volumes "${1:?usage: push-volumes.sh XFERD XFERCTL}" "${2:?}"
src=$PAIR_DIR/src
data=$PAIR_VOL_B
archive=$PAIR_DIR/b-archive
scratch=$PAIR_DIR/b-scratch

# A second worker on lcore 2 (both float over the two CPUs): archive is written by it
# alone, data and scratch by both.
export PAIR_VOLUMES="data archive@2 scratch"
pair_start --set "cores.workers=[1, 2]"

nreg=$(python3 "$PAIR_LIB_DIR/mktree.py" special "$src/special" --seed 22)
nmany=$(python3 "$PAIR_LIB_DIR/mktree.py" many "$src/many" --files 600 --dirs 12 \
	--max-size 40000 --seed 2222)
tree_files=$((nreg + nmany))

# What a volume holds, but for xferd's staging directory (.xferd) at its root.
vol_ls() {
	ls -A "$1" | grep -vx .xferd || true
}

stat_vol() { # NAME FIELD: B's counter for volume NAME
	pair_json b "[v for v in j['volumes'] if v['name'] == '$1'][0]['$2']" stats ||
		pair_fail "cannot read B's stats for volume $1"
}

# Into the first volume, as before: PEER:DEST.
pair_push "$src" tree >/dev/null || pair_fail "push b:tree: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_sent "$tree_files"
pair_expect_field volume ""
pair_verify "$src" "$data/tree"
[ -z "$(vol_ls "$archive")" ] || pair_fail "b:tree wrote into archive: $(vol_ls "$archive")"
[ "$(stat_vol data sessions_opened)" -eq 1 ] || pair_fail "data: $(stat_vol data sessions_opened) sessions"

# The same tree into archive: PEER::VOLUME/DEST.
pair_push "$src" ":archive/tree" >/dev/null || pair_fail "push b::archive/tree: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_sent "$tree_files"
pair_expect_field volume "archive"
pair_expect_field dest "tree"
pair_verify "$src" "$archive/tree"
pair_verify "$src" "$data/tree"
[ "$(vol_ls "$archive")" = tree ] || pair_fail "archive holds $(vol_ls "$archive")"
[ "$(vol_ls "$data")" = tree ] || pair_fail "data holds $(vol_ls "$data")"
[ "$(stat_vol archive sessions_opened)" -eq 1 ] || pair_fail "archive: not 1 session"
[ "$(stat_vol data sessions_opened)" -eq 1 ] || pair_fail "data: a second session"
bytes=$(find "$src" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
[ "$(stat_vol archive bytes_written)" -eq "$bytes" ] ||
	pair_fail "archive: $(stat_vol archive bytes_written) bytes written, the tree has $bytes"
[ "$(stat_vol archive workers)" = "[2]" ] || pair_fail "archive's workers: $(stat_vol archive workers)"
[ "$(stat_vol data workers)" = "[1, 2]" ] || pair_fail "data's workers: $(stat_vol data workers)"

# A volume's root: PEER::VOLUME.
pair_push "$src/special" ":scratch" >/dev/null || pair_fail "push b::scratch: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_sent "$nreg"
# The volume's root keeps its own time (its staging directory lives in it): only the
# root's time may differ.
out=$(rsync -a -n -i --checksum --delete --exclude=/.xferd -- "$src/special/" "$scratch/" |
	grep -vx '\.d\.\.t\.\.\.\.\.\. \./' || true)
[ -z "$out" ] || pair_fail "b::scratch differs from the source: $out"
diff -r --no-dereference -x .xferd -- "$src/special" "$scratch" >/dev/null ||
	pair_fail "b::scratch: diff -r differs"

# A volume B does not have: refused, with B's reason, and nothing written.
before=$(find "$PAIR_DIR"/b* | wc -l)
rc=0
out=$(pair_push "$src/special" ":nosuch/x") || rc=$?
[ "$rc" -eq 1 ] || pair_fail "push b::nosuch/x: exit $rc, expected 1 ($out)"
pair_expect_field state "failed"
err=$(pair_job_field error)
want="refused by the peer: no volume 'nosuch' on this appliance; its volumes: data, archive, scratch"
[ "$err" = "$want" ] || pair_fail "refusal: error '$err', expected '$want'"
echo "$out" | grep -qF "$want" || pair_fail "xferctl push --wait did not print the reason: $out"
[ "$(pair_json b 'j["drops"]["volume_refused"]' stats)" -eq 1 ] || pair_fail "B did not count the refusal"
after=$(find "$PAIR_DIR"/b* | wc -l)
[ "$before" -eq "$after" ] || pair_fail "the refused push changed B's volumes ($before -> $after entries)"

# Refused by xferctl before the daemon is asked: an empty, '..' or too long volume.
for bad in "b::" "b::../x" "b::$(printf 'v%.0s' {1..64})/x"; do
	rc=0
	pair_ctl a push "$src" "$bad" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || pair_fail "xferctl push $bad: exit $rc, expected 2"
done
# And by A's daemon when a client sends one over the socket (a volume with a '/').
out=$(printf '%s\n' "{\"v\":1,\"cmd\":\"push\",\"args\":{\"src\":\"$src\",\"peer\":\"b\",\"dest\":\"x\",\"volume\":\"a/b\"}}" |
	timeout 10 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
print(s.makefile().readline().strip())' "$PAIR_DIR/a.sock") || pair_fail "control socket: $out"
echo "$out" | grep -q '"code": *"failed"' && echo "$out" | grep -q "volume 'a/b'" ||
	pair_fail "a volume with '/' over the socket: $out"

pair_pass

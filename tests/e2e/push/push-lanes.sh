#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif, 2 RX cores and 2 workers on each appliance (lcores floating
# over the machine's CPUs: correctness, not speed): a push carried by 2 lanes
# (docs/ENGINE.md, "Lanes").
# - a mixed tree (nested directories of many sizes, one large file, every special case,
#   hard links with -H) arrives identical (rsync -a -n -i --checksum prints nothing);
# - the job reports 2 lanes, and its counters are the sum of both: every regular file
#   sent once, bytes_done the tree's bytes;
# - the lanes ran on different RX cores: B's two queues each took thousands of frames,
#   and A's answers came back on both of its queues;
# - a second push of the unchanged tree sends no file data; a changed directory mtime
#   and a changed file come right;
# - --lanes beyond 16 is refused with the reason;
# - transfer.lanes: 2 makes a push's default 2 lanes, -n too (push-lanes-modes.sh checks
#   -n, -i and --delete over lanes).
#
#   push-lanes.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-lanes "${1:?usage: push-lanes.sh XFERD XFERCTL}" "${2:?}"
mktree="$PAIR_LIB_DIR/mktree.py"
src=$PAIR_DIR/src

# A pushes over 2 lanes by default (transfer.lanes).
PAIR_SET_A=transfer.lanes=2 pair_start --set 'cores.rx=[1, 2]' --set 'cores.workers=[1, 2]'
for side in a b; do
	n=$(pair_json "$side" 'sum(1 for c in j["cores"] if c["role"] == "rx")' stats)
	[ "$n" -eq 2 ] || pair_fail "$side runs $n RX cores, not 2"
done

# The mixed tree: 400 files over 40 directories up to 256 KiB, one of 24 MiB, the
# special cases, and two hard-link groups.
nreg=$(python3 "$mktree" many "$src/many" --files 400 --dirs 40 --max-size 262144 --seed 22)
nspec=$(python3 "$mktree" special "$src/special" --seed 22)
head -c $((24 << 20)) /dev/urandom >"$src/large.bin"
echo one >"$src/many/leader1"
ln "$src/many/leader1" "$src/special/link1"
ln "$src/many/leader1" "$src/link1b"
echo two >"$src/leader2"
ln "$src/leader2" "$src/many/link2"
nfiles=$((nreg + nspec + 3))       # regular files, each inode once (large, leader1, leader2)
nlinks=3                           # names sent as hard links
bytes=$(find "$src" -type f -links 1 -printf '%s\n' | awk '{s += $1} END {print s + 0}')
bytes=$((bytes + 4 + 4))           # leader1 and leader2, once each
entries=$(find "$src" -mindepth 1 -printf x | wc -c) # names may hold newlines

q_before() { pair_json "$1" '[q["rx_packets"] for q in j["queues"]]' stats; }
qb0=$(q_before b)
qa0=$(q_before a)
pair_push "$src" tree -H >/dev/null || pair_fail "push with 2 lanes: exit $?"
pair_expect_field state "done"
pair_expect_field lanes 2
pair_expect_field files_failed 0
pair_expect_field files_total $((entries + 1)) # and the destination directory
pair_expect_field files_sent "$nfiles" # a hard link sends no data
pair_expect_field files_hardlinked "$nlinks"
pair_expect_field bytes_total "$bytes"
pair_expect_field bytes_done "$bytes"
pair_verify "$src" "$PAIR_VOL_B/tree"
if [ "$(stat -c %i "$PAIR_VOL_B/tree/many/leader1")" != "$(stat -c %i "$PAIR_VOL_B/tree/link1b")" ] ||
	[ "$(stat -c %i "$PAIR_VOL_B/tree/leader2")" != "$(stat -c %i "$PAIR_VOL_B/tree/many/link2")" ]; then
	pair_fail "hard links not kept"
fi
# Both queues of each side carried the job: lane 1 runs on A's RX core 1, whose frames
# come out of B's queue 1, and B answers on that queue.
python3 - "$qb0" "$(q_before b)" "$qa0" "$(q_before a)" <<'EOF' || pair_fail "a lane did not run on its own queue"
import json, sys
b0, b1, a0, a1 = (json.loads(x) for x in sys.argv[1:5])
db = [y - x for x, y in zip(b0, b1)]
da = [y - x for x, y in zip(a0, a1)]
print("queues' frames received during the push: B %s, A %s" % (db, da), file=sys.stderr)
# The 24 MiB file alone is about 2,800 frames of 9000 bytes; each lane has about half
# the bytes.
sys.exit(0 if len(db) == 2 and min(db) > 1000 and len(da) == 2 and min(da) > 100 else 1)
EOF

# Again, unchanged: nothing to send.
pair_push "$src" tree --lanes 2 -H >/dev/null || pair_fail "second push: exit $?"
pair_expect_field state "done"
pair_expect_field files_sent 0
pair_expect_field bytes_literal 0
pair_verify "$src" "$PAIR_VOL_B/tree"

# A file changed and a new file in an old directory (whose mtime moves): both lanes'
# directories come right, and the directory pass sets the mtimes after them.
echo changed >>"$src/large.bin"
echo new >"$src/many/new-file"
pair_push "$src" tree --lanes 2 -H >/dev/null || pair_fail "third push: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_verify "$src" "$PAIR_VOL_B/tree"

# transfer.lanes holds for a dry run too; out of range is refused with the reason.
pair_push "$src" tree -n >/dev/null || pair_fail "push -n with transfer.lanes 2: exit $?"
pair_expect_field state "done"
pair_expect_field lanes 2
pair_expect_field files_sent 0
out=$(pair_ctl a push "$src" b:tree --lanes 17 2>&1) && pair_fail "--lanes 17 accepted"
grep -q -- "--lanes '17': expected a number from 1 to 16" <<<"$out" || pair_fail "--lanes 17: $out"
pair_ctl a jobs | grep -Eq '^[0-9]+ +done +2 ' || pair_fail "xferctl jobs shows no LANES 2: $(pair_ctl a jobs)"

pair_pass

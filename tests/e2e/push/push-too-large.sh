#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif at MTU 1500: entries too large for one frame fail alone
# (docs/PROTOCOL.md 3.2, 6.23). A symlink with a 2000-byte target and a file whose path
# is 1406 bytes (its directory's, 1205, and its neighbour's fit) cannot be listed in a
# 1456-byte sealed frame (1400 bytes of path with the destination "t/"): the sender
# lists a placeholder for each, the receiver refuses them `too_large` and counts them
# (pipeline_entries_given_up), `push --wait` exits 1 naming both on stderr, the job's
# failures list them, and every other entry arrives (rsync lists only those two).
#
#   push-too-large.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-too-large "${1:?usage: push-too-large.sh XFERD XFERCTL}" "${2:?}"
s=$PAIR_DIR/src

mkdir -p "$s/a"
for f in a/x b c; do echo "$f" >"$s/$f"; done
target=$(printf 'x%.0s' $(seq 2000))
ln -s "$target" "$s/big"
deep=$s
for i in 1 2 3 4 5 6; do deep+=/$(printf "d$i%.0s" $(seq 100)); done # 6 x 200 bytes
mkdir -p "$deep"
long=$(printf 'f%.0s' $(seq 200))
echo deep >"$deep/$long"
echo near >"$deep/near"
rel=${deep#"$s"/}/$long
[ "${#rel}" -eq 1406 ] || pair_fail "the long path is ${#rel} bytes, the test wants 1406"
find "$s" -exec touch -h -d @1600000000 {} +

pair_start --set "ports[0].mtu=1500"
rc=0
pair_push "$s" t >"$PAIR_DIR/out" 2>"$PAIR_DIR/err" || rc=$?
[ "$rc" -eq 1 ] || pair_fail "push: exit $rc, expected 1 (failed files): $(cat "$PAIR_DIR/err")"
pair_expect_field state done
pair_expect_field files_failed 2
grep -qxF "xferctl: failed: big (too_large)" "$PAIR_DIR/err" ||
	pair_fail "stderr does not name big: $(cat "$PAIR_DIR/err")"
grep -qxF "xferctl: failed: $rel (too_large)" "$PAIR_DIR/err" ||
	pair_fail "stderr does not name the long path: $(head -c 300 "$PAIR_DIR/err")"
python3 -c 'import json, sys
f = json.load(open(sys.argv[1]))["failures"]
sys.exit(0 if sorted((x["path"], x["status"]) for x in f) ==
         sorted([("big", "too_large"), (sys.argv[2], "too_large")]) else 1)' \
	"$PAIR_DIR/job.json" "$rel" || pair_fail "failures: $(pair_job_field failures | head -c 300)"
[ "$(pair_json b 'j["volumes"][0]["pipeline_entries_given_up"]' stats)" = 2 ] ||
	pair_fail "B did not count two entries given up"
# Everything else arrived: rsync lists the two entries only.
out=$(rsync -a -n -i --checksum -- "$s/" "$PAIR_VOL_B/t/" | LC_ALL=C sort)
want=$(printf '%s\n' "cL+++++++++ big -> $target" ">f+++++++++ $rel" | LC_ALL=C sort)
[ "$out" = "$want" ] || pair_fail "rsync lists more than the two: $(echo "$out" | cut -c1-80)"
[ "$(cat "$PAIR_VOL_B/t/${deep#"$s"/}/near")" = near ] || pair_fail "near did not arrive"

pair_pass

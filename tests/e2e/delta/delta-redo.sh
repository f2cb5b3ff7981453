#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A basis changed under the receiver mid-push is sent again whole in the same push
# (docs/DELTA.md, "Sent again whole"; docs/PROTOCOL.md 6.19). B holds the old version of
# a tree: NSMALL files of 1 MiB, then one file of 12 MiB (too large to be kept in
# memory since its signatures, so its COPY ops read the basis again). The source only
# moved the mtimes on, so every file goes DELTA and is rebuilt from COPY ops. B's
# sending is paced (1 Mbit/s, B only): its SIG frames take seconds, and the large
# file's, last in the list, come last. Once B has signed every file (its signature
# cache stored them all), the large file's basis at B is rewritten in place, its
# size and mtime put back with `touch -d`: its COPY ops, sent only once all its SIG
# frames are in, then copy other bytes, its CRC-64 fails, and B asks for it again
# whole. The push must end with exit 0, no failure, the tree identical, files_redone 1
# at A and delta.redone 1 at B. With REDO=false A runs with transfer.redo false, so
# its HELLO lacks XF_HELLO_F_REDO: the file fails as it did before the flag (exit
# nonzero, files_failed 1, nothing sent again) and the next push sends it whole.
#
#   [REDO=false] delta-redo.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-delta-redo "${1:?usage: delta-redo.sh XFERD XFERCTL}" "${2:?}"
: "${NSMALL:=96}"
: "${REDO:=true}"
T=$PAIR_DIR
PAIR_SET_A=transfer.redo=$REDO PAIR_SET_B=session.rate_mbit=1 pair_start

python3 - "$T/src" "$NSMALL" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(2122)
os.makedirs(root)
for i in range(n):
    with open(os.path.join(root, "a%03d.bin" % i), "wb") as f:
        f.write(rng.randbytes(1 << 20))
with open(os.path.join(root, "z-large.bin"), "wb") as f:
    f.write(rng.randbytes(12 << 20))
PY
cp -a "$T/src" "$PAIR_VOL_B/tree"
# The new version: the same bytes, mtimes 7 s later (DELTA, every block a COPY).
python3 - "$T/src" <<'PY'
import os, sys
for name in os.listdir(sys.argv[1]):
    p = os.path.join(sys.argv[1], name)
    st = os.stat(p)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 7_000_000_000))
PY
nfiles=$((NSMALL + 1))
big=$PAIR_VOL_B/tree/z-large.bin
mtime=$(stat -c %.9Y "$big")
size=$(stat -c %s "$big")

stored() { pair_json b 'j["delta"]["sig_cache"]["stored"]' stats; }
[ "$(stored)" -eq 0 ] || pair_fail "B has signature cache entries before any push"

PAIR_CTL_TIMEOUT=$PAIR_PUSH_TIMEOUT pair_ctl a push "$T/src" b:tree --wait >"$T/push.out" 2>&1 &
push_pid=$!
# B stores each basis's signatures in its cache as its signature pass ends: once all
# are stored, every file is signed, z-large.bin (the last) included, while its SIG
# frames still wait behind the others' at B's pace.
deadline=$((SECONDS + 60))
until [ "$(stored)" -ge "$nfiles" ]; do
	[ "$SECONDS" -lt "$deadline" ] || pair_fail "B did not sign the $nfiles files in 60 s"
	sleep 0.02
done
pair_log "B signed all $nfiles files; rewriting z-large.bin at B"
# 64 KiB at 4 MiB, through a descriptor whose file still has the old mtime (not yet
# replaced by the push: else the test came too late, and says so).
python3 - "$big" "$mtime" <<'PY' || pair_fail "z-large.bin was already replaced: the rewrite came too late"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
st = os.fstat(fd)
if "%d.%09d" % divmod(st.st_mtime_ns, 10**9) != sys.argv[2]:
    sys.exit(1)
os.pwrite(fd, b"\xa5" * 65536, 4 << 20)
os.close(fd)
PY
touch -m -d "@$mtime" "$big"
[ "$(stat -c %s "$big")" = "$size" ] || pair_fail "the rewrite changed the basis's size"

rc=0
wait "$push_pid" || rc=$?
pair_json a 'max(j["jobs"], key=lambda x: x["id"])' jobs >"$T/job.json" || pair_fail "cannot read jobs"
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/job.json" "$1"; }
redone_a=$(field files_redone)
failed=$(field files_failed)
redone_b=$(pair_json b 'j["delta"]["redone"]' stats)
changed=$(pair_json b 'j["delta"]["basis_changed"]' stats)
stale=$(pair_json b 'sum(v["pipeline_redo_stale"] for v in j["volumes"])' stats)
pair_log "push exit $rc: files_failed $failed, files_redone $redone_a (A), delta.redone $redone_b, basis_changed $changed, redo_stale $stale (B)"
if [ "$REDO" = false ]; then
	[ "$rc" -ne 0 ] || pair_fail "the push succeeded though the changed basis failed its file"
	if [ "$failed" -ne 1 ] || [ "$redone_a" -ne 0 ] || [ "$redone_b" -ne 0 ]; then
		pair_fail "without the flag: $failed failed (1 expected), $redone_a/$redone_b sent again (0)"
	fi
	pair_push "$T/src" tree >"$T/push2.out" || pair_fail "the next push failed: $(cat "$T/push2.out")"
	pair_expect_field files_failed 0
	pair_verify "$T/src" "$PAIR_VOL_B/tree"
	pair_pass
fi
[ "$rc" -eq 0 ] || pair_fail "the push failed (exit $rc): $(cat "$T/push.out")"
[ "$failed" -eq 0 ] || pair_fail "$failed files failed"
[ "$redone_a" -eq 1 ] || pair_fail "A sent $redone_a files again whole, expected 1"
[ "$redone_b" -eq 1 ] || pair_fail "B asked for $redone_b files again whole, expected 1"
[ "$(field files_done)" -eq "$(field files_total)" ] ||
	pair_fail "$(field files_done) of $(field files_total) entries settled"
grep -q '^Number of files sent again whole: 1$' "$T/push.out" ||
	pair_fail "xferctl's summary does not say the file was sent again: $(cat "$T/push.out")"
pair_verify "$T/src" "$PAIR_VOL_B/tree"
left=$(find "$PAIR_VOL_B/.xferd/tmp" -mindepth 1 2>/dev/null | head -n 5)
[ -z "$left" ] || pair_fail "B's temp directory is not empty: $left"
pair_pass

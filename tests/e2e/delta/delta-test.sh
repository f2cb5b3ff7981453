#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Delta transfer end to end (issue 4). Two xferd appliances joined by net_memif push a
# tree of 4 MiB random files; then every file gets 4 runs of 100 bytes changed at
# seeded random offsets and a new mtime, and is pushed again. It must arrive identical
# (rsync -a -n -i --checksum prints nothing), with most bytes matched, and the bytes on
# the wire at most 1.1x rsync's for the same change (rsync --no-whole-file between two
# local copies): the sender's (job JSON wire_bytes_sent) against rsync's "Total bytes
# sent", and both directions (signatures included) against its sent + received. Then a
# push in checksum mode of the unchanged tree: all matched, no literal byte.
# How the receiver applied the COPY ops (docs/DELTA.md, "Apply by clone"): on XFS
# (PAIR_FS=xfs) by clone, and the new files then share their unchanged extents with the
# old ones (held by rsync's copy, made by cp with reflinks); elsewhere (tmpfs, ext4) not
# by clone, from the basis kept in memory (B's signature cache off there, so that each
# basis is read). Either way the whole-file CRC-64 holds.
# On XFS, B has a second volume on ext4 (mounted inside the XFS): each volume's pipeline
# probes its own file system, so the XFS one clones and the ext4 one does not.
# A runs two workers (unless PAIR_SET_A says otherwise; the dev pair's A has one): the
# re-push's DELTA files are read and matched by both, file by file, and each still
# arrives verified; the first push's WHOLE files are all read by the worker on A's RX
# core's lcore (xf_engine_jobs.c reader_of, docs/ENGINE.md "Readers").
# meson runs it with transfer.io auto and again forced inline (PAIR_IO), on tmpfs, XFS
# and ext4 (PAIR_FS).
#
#   delta-test.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-delta "${1:?usage: delta-test.sh XFERD XFERCTL}" "${2:?}"
NFILES=${NFILES:-4}
SEED=${SEED:-4242}
T=$PAIR_DIR

# push [ARG]...: the tree to b:tree; the job's counters come from pair_job_field.
push() {
	local rc=0
	pair_push "$T/src" tree "$@" >"$T/push.txt" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$T/push.txt" >&2; pair_fail "push exited with status $rc"; }
}

export PAIR_SET_A=${PAIR_SET_A:-cores.workers=[1,2]}
# readers FIELD: A's source readers' FIELD (whole_files, delta_files), one per worker,
# as "lcore:count ...", the worker on an RX core's lcore marked with a trailing "*".
readers() {
	pair_json a '" ".join("%d:%d%s" % (r["lcore"], r["'"$1"'"], "*" if r["lcore"] in [c["lcore"] for c in j["cores"] if c["role"] == "rx"] else "") for r in j["dataplane"]["source_readers"])' stats ||
		pair_fail "cannot read A's source_readers"
}

if [ "${PAIR_FS:-}" = xfs ]; then
	xfs_mount "$PAIR_DIR/b-ext" 300 ext4
	export PAIR_VOLUMES="data ext"
	pair_start
else
	# Without the signature cache: the re-push then reads each basis and keeps it in
	# memory for its COPY ops, the path this case checks. With it, the files B wrote
	# have entries made at their commit and their bases are not read at all
	# (e2e-sigcache-commit-xfs checks that path).
	# The volume written by lcore 1 only (B's one worker; on A, lcore 2 then belongs to
	# no pipeline and parks while idle: docs/ENGINE.md, "Readers").
	pair_start --set "volumes[0].sig_cache_mb=0" --set "volumes[0].workers=[1]"
fi

# The tree: NFILES files of 4 MiB of seeded random bytes, two in a subdirectory.
python3 - "$T/src" "$NFILES" "$SEED" <<'PY'
import os, random, sys
root, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
os.makedirs(os.path.join(root, "sub"))
for i in range(n):
    p = os.path.join(root, "sub" if i % 2 else "", "file%d.bin" % i)
    with open(p, "wb") as f:
        f.write(rng.randbytes(4 << 20))
PY

push
[ "$(pair_job_field state)" = done ] || pair_fail "first push did not end done"
pair_verify "$T/src" "$PAIR_VOL_B/tree"
# Every WHOLE file was read on the RX core's own lcore (combined mode): its frames are
# sealed and sent there.
whole=$(readers whole_files)
pair_log "A's readers, WHOLE files read (lcore:files, * on the RX core): $whole"
for r in $whole; do
	case $r in
	*'*') [ "${r%'*'}" = "${r%%:*}:$NFILES" ] || pair_fail "A's RX core's worker read ${r#*:} WHOLE files, not all $NFILES" ;;
	*) [ "${r#*:}" = 0 ] || pair_fail "A's worker on lcore ${r%%:*} read ${r#*:} WHOLE files, sent by another core" ;;
	esac
done
# The file I/O back end in use on each side (PAIR_IO, or transfer.io auto's choice).
pair_expect_io a "$T/src" job
pair_expect_io b "$PAIR_VOL_B" volume
if [ "${PAIR_IO:-}" = inline ]; then
	# Forced inline, neither daemon holds an io_uring (it runs where io_uring is off), but
	# for each worker of a cloning volume one that runs sync_file_range alone, off the
	# worker's lcore (docs/PIPELINE.md, "Which operation runs where").
	for side in a b; do
		pid=$PAIR_PID_A
		[ "$side" = b ] && pid=$PAIR_PID_B
		child=$(pgrep -P "$pid" -x xferd) || pair_fail "no xferd under timeout pid $pid"
		n=$(find "/proc/$child/fd" -lname 'anon_inode:\[io_uring\]' 2>/dev/null | wc -l)
		want=$(pair_ctl "$side" --json stats | python3 -c 'import json, sys
print(sum(len(v["workers"]) for v in json.load(sys.stdin)["volumes"] if v["apply"] == "clone"))') ||
			pair_fail "no volumes in $side's stats"
		[ "$n" -eq "$want" ] ||
			pair_fail "xferd $child holds $n io_urings with transfer.io inline, not $want (one per worker of a cloning volume)"
	done
fi
# rsync's basis for the comparison: a copy of what the receiver holds now. On XFS it
# shares the receiver's extents (a reflink copy), so that the old blocks stay referenced
# after the push replaces the files, and a clone shows as shared extents.
cp -a --reflink=auto "$PAIR_VOL_B/tree" "$T/rsync-dst"
apply=$(pair_json b 'j["volumes"][0]["apply"]' stats) || pair_fail "cannot read B's stats"
case ${PAIR_FS:-} in
xfs)
	# Bases not yet written back, as after a push seconds before (the `delta`
	# benchmark): the first page of each rewritten with its own bytes, mtime put back,
	# the rest left written back and shared with rsync's copy. B starts their writeback
	# at the signature pass and clones them all the same (docs/DELTA.md, "Apply by
	# clone"); it once read them and wrote every byte again instead.
	sync -f "$PAIR_VOL_B/tree"
	python3 - "$PAIR_VOL_B/tree" <<'PY'
import os, sys
for d, _, names in os.walk(sys.argv[1]):
    for name in names:
        p = os.path.join(d, name)
        st = os.stat(p)
        with open(p, "r+b") as f:
            head = f.read(4096)
            f.seek(0)
            f.write(head)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
	[ "$apply" = clone ] || pair_fail "B applies COPY ops by $apply on XFS (reflink=1), not clone"
	apply_ext=$(pair_json b 'j["volumes"][1]["apply"]' stats) || pair_fail "cannot read B's stats"
	pair_log "B's second volume, on ext4: COPY ops by $apply_ext"
	[ "$apply_ext" != clone ] ||
		pair_fail "B's volume on ext4 claims to clone: its probe was not of its own file system"
	;;
*) [ "$apply" != clone ] || pair_fail "B claims to clone on $(stat -f -c %T "$PAIR_VOL_B")" ;;
esac

# The change: 4 runs of 100 bytes per file at seeded offsets; mtimes moved on.
python3 - "$T/src" "$SEED" <<'PY'
import os, random, sys
root, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed + 1)
for d, _, names in sorted(os.walk(root)):
    for name in sorted(names):
        p = os.path.join(d, name)
        size = os.path.getsize(p)
        with open(p, "r+b") as f:
            for _ in range(4):
                off = rng.randrange(0, size - 100)
                f.seek(off)
                f.write(rng.randbytes(100))
        st = os.stat(p)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 7_000_000_000))
PY

t0=$(date +%s%N)
push
t1=$(date +%s%N)
cat "$T/push.txt"
[ "$(pair_job_field state)" = done ] || pair_fail "second push did not end done"
pair_verify "$T/src" "$PAIR_VOL_B/tree"
# No file rebuilt wrong and sent again whole: the sender's reader hands each DELTA read
# request to the matcher and the CRC-64 in one contiguous piece (xf_engine_worker.c).
[ "$(pair_job_field files_redone)" -eq 0 ] ||
	pair_fail "$(pair_job_field files_redone) files failed their CRC-64 and were sent again whole"
# The DELTA files were matched by every reader of A, file by file (the tree's files have
# list indices of both parities), and every file matched once.
matchers=$(readers delta_files)
pair_log "A's readers, DELTA files matched (lcore:files): $matchers"
sum=0
for r in $matchers; do
	n=${r#*:}
	n=${n%'*'}
	[ "$n" -gt 0 ] || pair_fail "A's worker on lcore ${r%%:*} matched no DELTA file: $matchers"
	sum=$((sum + n))
done
[ "$sum" -eq "$NFILES" ] || pair_fail "A's readers matched $sum DELTA files, not $NFILES: $matchers"
# A's second worker writes no volume (volumes[0].workers) unless PAIR_VOLUMES gives it
# one (on XFS it does): then it parks on its bell between its reads, woken by each
# request, instead of waking every 200 us; it read its files above, so every park was
# woken.
parks=$(readers parks)
pair_log "A's readers, idle waits parked (lcore:count): $parks"
if [ -z "${PAIR_VOLUMES:-}" ]; then
	for r in $parks; do
		case $r in
		*'*') [ "${r%'*'}" = "${r%%:*}:0" ] || pair_fail "A's RX core's worker parked: $parks" ;;
		*) [ "${r#*:}" -gt 0 ] || pair_fail "A's reader on lcore ${r%%:*} never parked: $parks" ;;
		esac
	done
fi
wire=$(pair_job_field wire_bytes_sent)
wire_rx=$(pair_job_field wire_bytes_received)
literal=$(pair_job_field bytes_literal)
matched=$(pair_job_field bytes_matched)
# The receiver wrote the COPY bytes from the bases it kept since their signatures (each
# file is 4 MiB: under the 8 MiB limit), and no signature array on either side came
# from the heap (docs/DELTA.md, "No malloc per file").
delta_stat() { # SIDE KEY
	pair_ctl "$1" --json stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["delta"][sys.argv[1]])' "$2" ||
		pair_fail "no delta.$2 in $1's stats"
}
kept=$(delta_stat b basis_kept_bytes)
cloned=$(delta_stat b cloned_bytes)
combined=$(delta_stat b crc_combined_bytes)
pair_log "B: COPY by $apply: cloned $cloned B, copy_file_range $(delta_stat b copy_range_bytes) B, kept $kept B, CRC combined $combined B, $(delta_stat b basis_dirty) bases not written back at their signatures"
[ "$(delta_stat b basis_changed)" -eq 0 ] || pair_fail "B saw a basis change that nobody made"
# Every DELTA temp file was given its size before its first COPY, so that no clone lands
# past its end (where XFS writes back and waits for its last block inside the clone:
# docs/DELTA.md, "Apply by clone"); clone_slow counts the clones that kept the worker
# 1 ms or more, for the log only (it depends on the machine's load).
[ "$(delta_stat b temp_presized)" -eq "$NFILES" ] ||
	pair_fail "B gave $(delta_stat b temp_presized) of $NFILES DELTA temp files their size first"
pair_log "B: $(delta_stat b clone_slow) clones of 1 ms or more"
if [ "$apply" = clone ]; then
	[ "$(delta_stat b basis_dirty)" -eq "$NFILES" ] ||
		pair_fail "B found $(delta_stat b basis_dirty) of $NFILES bases not written back"
	# Their writeback was started on the storage's ring (an io-wq thread), not on the
	# worker's lcore, on either back end (docs/DELTA.md, "Apply by clone"): each one's
	# completion is counted as the worker reaps it, which may be after the push ended,
	# so the count is read again (bounded) until all are in.
	synced=0
	for _ in $(seq 1 50); do
		synced=$(delta_stat b basis_sync_done)
		[ "$synced" -eq "$NFILES" ] && break
	done
	[ "$synced" -eq "$NFILES" ] ||
		pair_fail "B started $synced of $NFILES basis writebacks on its storage ring"
	pair_log "B: $synced basis writebacks started on its storage's io_uring, off the lcore"
	# Every block of the volume inside a COPY is cloned (4 changed runs per file cost
	# at most 2 blocks each: their ends are copied), and its CRC comes from the basis's
	# block CRCs, not from reading it.
	[ "$cloned" -ge $((matched - NFILES * 8 * 2 * 4096)) ] || pair_fail "B cloned $cloned of $matched matched bytes"
	[ "$combined" -ge "$matched" ] || pair_fail "B combined the CRC of $combined of $matched matched bytes"
	# The kernel's view: extents flagged shared (FIEMAP_EXTENT_SHARED, 0x2000) in every
	# new file, for most of its 4 MiB (units of 512 bytes).
	for f in $(cd "$PAIR_VOL_B/tree" && find . -type f); do
		shared=$(xfs_io -r -c "fiemap -v" "$PAIR_VOL_B/tree/$f" | python3 -c '
import sys
n = 0
for line in sys.stdin.read().splitlines()[2:]:
    w = line.split()
    if len(w) >= 5 and w[-2].isdigit() and int(w[-1], 16) & 0x2000:
        n += int(w[-2])
print(n)')
		[ "$shared" -ge $((4 * 1024 * 2 * 9 / 10)) ] ||
			pair_fail "$f: $shared of 8192 sectors share extents with the old version"
	done
else
	[ "$kept" -gt 0 ] || pair_fail "B kept no basis in memory (basis_kept_bytes $kept)"
fi
# Each matched byte is written once, unless its COPY frame was retransmitted after it had
# arrived (its ACK late or lost): COPY is idempotent and applies again, up to a file's
# 4 MiB per retransmitted frame (CI once saw 3 retransmissions and one COPY more).
retx=$(pair_job_field retransmits)
[ "$kept" -le $((matched + retx * 4194304)) ] ||
	pair_fail "B wrote $kept kept bytes, more than the $matched matched (+ $retx retransmitted frames of at most 4 MiB)"
[ "$(delta_stat a sig_from_ring)" -ge "$NFILES" ] || pair_fail "A took fewer than $NFILES signature arrays from its ring"
[ "$(delta_stat b sig_from_ring)" -ge "$NFILES" ] || pair_fail "B took fewer than $NFILES signature arrays from its ring"
[ "$(delta_stat a sig_from_heap)" -eq 0 ] || pair_fail "A took signature arrays from the heap"
[ "$(delta_stat b sig_from_heap)" -eq 0 ] || pair_fail "B took signature arrays from the heap"

# rsync over the same change, between two local copies, delta algorithm forced.
r0=$(date +%s%N)
rsync -a --no-whole-file --stats "$T/src/" "$T/rsync-dst/" >"$T/rsync.txt"
r1=$(date +%s%N)
[ -z "$(rsync -a -n -i --checksum "$T/src/" "$T/rsync-dst/")" ] || pair_fail "rsync copy differs"
rs_sent=$(sed -n 's/^Total bytes sent: //p' "$T/rsync.txt" | tr -d ',')
rs_lit=$(sed -n 's/^Literal data: //p' "$T/rsync.txt" | tr -d ',' | cut -d' ' -f1)
rs_recv=$(sed -n 's/^Total bytes received: //p' "$T/rsync.txt" | tr -d ',')
[ -n "$rs_sent" ] || pair_fail "no 'Total bytes sent' in rsync --stats"
[ -n "$rs_recv" ] || pair_fail "no 'Total bytes received' in rsync --stats"

pair_log "xferd: wire sent $wire B, received $wire_rx B, literal $literal B, matched $matched B, $(((t1 - t0) / 1000000)) ms"
pair_log "rsync: total bytes sent $rs_sent B, received $rs_recv B, literal $rs_lit B, $(((r1 - r0) / 1000000)) ms"
total=$((NFILES * 4 * 1024 * 1024))
[ "$matched" -gt $((total * 9 / 10)) ] || pair_fail "only $matched of $total bytes matched"
[ $((literal + matched)) -eq "$total" ] || pair_fail "literal + matched != $total"
awk -v w="$wire" -v r="$rs_sent" 'BEGIN { exit !(w <= 1.1 * r) }' ||
	pair_fail "wire bytes $wire > 1.1 x rsync's $rs_sent"
awk -v w="$((wire + wire_rx))" -v r="$((rs_sent + rs_recv))" 'BEGIN { exit !(w <= 1.1 * r) }' ||
	pair_fail "wire bytes both ways $((wire + wire_rx)) > 1.1 x rsync's $((rs_sent + rs_recv))"
# Checksum mode on identical trees: every file is compared by content (DELTA), nothing
# goes as a literal, and the trees stay identical.
push --checksum
[ "$(pair_job_field state)" = done ] || pair_fail "checksum push did not end done"
[ "$(pair_job_field bytes_literal)" -eq 0 ] || pair_fail "checksum push sent $(pair_job_field bytes_literal) literal bytes"
[ "$(pair_job_field bytes_matched)" -eq "$total" ] || pair_fail "checksum push matched $(pair_job_field bytes_matched) of $total"
pair_verify "$T/src" "$PAIR_VOL_B/tree"

pair_log "wire/rsync: sent $(awk -v w="$wire" -v r="$rs_sent" 'BEGIN { printf "%.3f", w / r }'), both ways $(awk -v w="$((wire + wire_rx))" -v r="$((rs_sent + rs_recv))" 'BEGIN { printf "%.3f", w / r }')"
pair_pass

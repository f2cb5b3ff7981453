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
#
#   delta-test.sh XFERD XFERCTL CONFIG_DIR   (CONFIG_DIR holds a.yaml and b.yaml)
set -euo pipefail

XFERD=${1:?usage: delta-test.sh XFERD XFERCTL CONFIG_DIR}
XFERCTL=${2:?usage}
CFG=${3:?usage}
NAME=e2e-delta
NFILES=${NFILES:-4}
SEED=${SEED:-4242}
T=$(mktemp -d -t xf-e2e-delta.XXXXXX)
TAG="xfd$$"
PIDS=()

skip() {
	echo "$NAME: SKIP: $*" >&2
	exit 77
}

fail() {
	echo "$NAME: FAIL: $*" >&2
	for f in "$T"/*.err; do
		[ -e "$f" ] || continue
		echo "--- $(basename "$f") (last 30 lines) ---" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}

cleanup() {
	set +e
	# SIGTERM is an orderly shutdown (sanitizer builds report at exit).
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "$NAME: kept $T" >&2
	else
		rm -rf "$T"
	fi
	rm -rf /var/run/dpdk/"$TAG"-* 2>/dev/null
}
trap cleanup EXIT

for c in rsync python3 timeout; do
	command -v "$c" >/dev/null || skip "needs '$c' in PATH"
done
[ -x "$XFERD" ] || fail "$XFERD is not executable"
[ -x "$XFERCTL" ] || fail "$XFERCTL is not executable"

# start NAME ROLE: an appliance from CONFIG_DIR/NAME.yaml with everything in $T; waits
# for its "xferd: ready" line (never a sleep).
start() {
	local name=$1 role=$2 fd line=
	mkdir -p "$T/$name"
	mkfifo "$T/$name.fifo"
	"$XFERD" -c "$CFG/$name.yaml" \
		--set "eal.file_prefix=$TAG-$name" \
		--set "control.socket=$T/$name.sock" \
		--set "volumes[0].path=$T/$name" \
		--set "ports[0].device=net_memif0,role=$role,socket=$T/memif.sock,bsize=9216" \
		>"$T/$name.fifo" 2>>"$T/$name.err" &
	PIDS+=("$!")
	exec {fd}<"$T/$name.fifo"
	while IFS= read -r -t 30 -u "$fd" line; do
		[ "$line" = "xferd: ready" ] && break
	done
	cat <&"$fd" >>"$T/$name.out" &
	exec {fd}<&-
	[ "$line" = "xferd: ready" ] || fail "appliance $name did not print 'xferd: ready'"
}

# The last job's counter KEY from `xferctl --json jobs` on appliance a.
job_field() {
	"$XFERCTL" -s "$T/a.sock" --json jobs |
		python3 -c 'import json,sys; j=max(json.load(sys.stdin)["jobs"], key=lambda x: x["id"]); print(j[sys.argv[1]])' "$1"
}

push() {
	timeout 120 "$XFERCTL" -s "$T/a.sock" push "$T/src" b:tree --wait "$@" >"$T/push.txt" 2>&1 ||
		{ cat "$T/push.txt" >&2; fail "push exited with status $?"; }
}

start a server
start b client

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
[ "$(job_field state)" = done ] || fail "first push did not end done"
[ -z "$(rsync -a -n -i --checksum "$T/src/" "$T/b/tree/")" ] || fail "first push: trees differ"
# rsync's basis for the comparison: a copy of what the receiver holds now.
cp -a "$T/b/tree" "$T/rsync-dst"

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
[ "$(job_field state)" = done ] || fail "second push did not end done"
diffs=$(rsync -a -n -i --checksum "$T/src/" "$T/b/tree/")
[ -z "$diffs" ] || fail "second push: trees differ: $diffs"
wire=$(job_field wire_bytes_sent)
wire_rx=$(job_field wire_bytes_received)
literal=$(job_field bytes_literal)
matched=$(job_field bytes_matched)

# rsync over the same change, between two local copies, delta algorithm forced.
r0=$(date +%s%N)
rsync -a --no-whole-file --stats "$T/src/" "$T/rsync-dst/" >"$T/rsync.txt"
r1=$(date +%s%N)
[ -z "$(rsync -a -n -i --checksum "$T/src/" "$T/rsync-dst/")" ] || fail "rsync copy differs"
rs_sent=$(sed -n 's/^Total bytes sent: //p' "$T/rsync.txt" | tr -d ',')
rs_lit=$(sed -n 's/^Literal data: //p' "$T/rsync.txt" | tr -d ',' | cut -d' ' -f1)
rs_recv=$(sed -n 's/^Total bytes received: //p' "$T/rsync.txt" | tr -d ',')
[ -n "$rs_sent" ] || fail "no 'Total bytes sent' in rsync --stats"
[ -n "$rs_recv" ] || fail "no 'Total bytes received' in rsync --stats"

echo "$NAME: xferd: wire sent $wire B, received $wire_rx B, literal $literal B, matched $matched B, $(((t1 - t0) / 1000000)) ms"
echo "$NAME: rsync: total bytes sent $rs_sent B, received $rs_recv B, literal $rs_lit B, $(((r1 - r0) / 1000000)) ms"
total=$((NFILES * 4 * 1024 * 1024))
[ "$matched" -gt $((total * 9 / 10)) ] || fail "only $matched of $total bytes matched"
[ $((literal + matched)) -eq "$total" ] || fail "literal + matched != $total"
awk -v w="$wire" -v r="$rs_sent" 'BEGIN { exit !(w <= 1.1 * r) }' ||
	fail "wire bytes $wire > 1.1 x rsync's $rs_sent"
awk -v w="$((wire + wire_rx))" -v r="$((rs_sent + rs_recv))" 'BEGIN { exit !(w <= 1.1 * r) }' ||
	fail "wire bytes both ways $((wire + wire_rx)) > 1.1 x rsync's $((rs_sent + rs_recv))"
# Checksum mode on identical trees: every file is compared by content (DELTA), nothing
# goes as a literal, and the trees stay identical.
push --checksum
[ "$(job_field state)" = done ] || fail "checksum push did not end done"
[ "$(job_field bytes_literal)" -eq 0 ] || fail "checksum push sent $(job_field bytes_literal) literal bytes"
[ "$(job_field bytes_matched)" -eq "$total" ] || fail "checksum push matched $(job_field bytes_matched) of $total"
[ -z "$(rsync -a -n -i --checksum "$T/src/" "$T/b/tree/")" ] || fail "checksum push: trees differ"

echo "$NAME: PASS (wire/rsync: sent $(awk -v w="$wire" -v r="$rs_sent" 'BEGIN { printf "%.3f", w / r }'), both ways $(awk -v w="$((wire + wire_rx))" -v r="$((rs_sent + rs_recv))" 'BEGIN { printf "%.3f", w / r }'))"

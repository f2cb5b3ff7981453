#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: sparse files keep their holes (docs/PROTOCOL.md 6.8). A
# 64 MiB file with three small data extents that ends in a hole, a 16 MiB one that ends
# in data, and an 8 MiB file that is all hole arrive identical (cmp) and sparse (allocated
# blocks far below the size), and the push's wire bytes are far below the files' bytes.
# A 1 MiB file of written zeros has no hole: it is sent, and stays allocated. A second
# push sends no file data.
#
#   push-sparse.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-sparse "${1:?usage: push-sparse.sh XFERD XFERCTL}" "${2:?}"
src=$PAIR_DIR/src
mib=$((1 << 20))
mkdir -p "$src"

# extent FILE OFFSET BYTES: random bytes written into FILE at OFFSET, the rest untouched.
extent() {
	head -c "$3" /dev/urandom | dd of="$1" bs=64K oflag=seek_bytes seek="$2" conv=notrunc \
		iflag=fullblock status=none || pair_fail "cannot write $3 bytes at $2 of $1"
}
truncate -s $((64 * mib)) "$src/holes-end.bin"
extent "$src/holes-end.bin" 0 100000
extent "$src/holes-end.bin" $((20 * mib)) 65536
extent "$src/holes-end.bin" $((40 * mib + 123)) 5000
truncate -s $((16 * mib)) "$src/data-end.bin"
extent "$src/data-end.bin" $((8 * mib - 7)) 3000
extent "$src/data-end.bin" $((16 * mib - 4096)) 4096
truncate -s $((8 * mib)) "$src/all-hole.bin"
head -c "$mib" /dev/zero >"$src/zeros.bin"
touch -d '2010-10-10 10:10:10' "$src"/*.bin "$src"

# Sparse on the source, or the test proves nothing.
alloc() { echo $(($(stat -c %b "$1") * $(stat -c %B "$1"))); }
for f in holes-end data-end all-hole; do
	[ "$(alloc "$src/$f.bin")" -lt $((mib)) ] ||
		pair_fail "$src/$f.bin is not sparse on the source ($(alloc "$src/$f.bin") bytes allocated)"
done
bytes=$(find "$src" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')

pair_start
pair_push "$src" sparse >/dev/null || pair_fail "push: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_sent 4
pair_expect_field bytes_total "$bytes"
pair_expect_field bytes_done "$bytes"
wire=$(pair_job_field wire_bytes_sent)
sparse=$(pair_job_field bytes_sparse)
pair_log "$bytes bytes, $sparse of them in holes, $wire wire bytes"
# Sent: ~170 KB of extents (plus the frames they straddle) and the 1 MiB of zeros.
[ "$wire" -lt $((3 * mib)) ] || pair_fail "$wire wire bytes for $bytes bytes of mostly holes"
[ "$sparse" -gt $((86 * mib)) ] || pair_fail "only $sparse bytes counted as holes"
for f in holes-end data-end all-hole zeros; do
	cmp "$src/$f.bin" "$PAIR_VOL_B/sparse/$f.bin" || pair_fail "$f.bin differs"
done
for f in holes-end data-end all-hole; do
	a=$(alloc "$PAIR_VOL_B/sparse/$f.bin")
	[ "$a" -lt $((mib)) ] || pair_fail "$f.bin is not sparse on the receiver: $a bytes allocated"
done
[ "$(alloc "$PAIR_VOL_B/sparse/zeros.bin")" -ge "$mib" ] ||
	pair_fail "zeros.bin (written zeros, no hole) was made sparse"
pair_verify "$src" "$PAIR_VOL_B/sparse"

total=$(pair_job_field files_total)
pair_push "$src" sparse >/dev/null || pair_fail "second push: exit $?"
pair_expect_field state "done"
pair_expect_field files_sent 0
pair_expect_field files_uptodate "$total"
pair_pass

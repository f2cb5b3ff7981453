#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Seed corpus of fuzz_partial: tags of partial files as xf_partial_encode writes them
# ("XFP1", size and mtime little-endian, the path), and a few broken ones.
# usage: partial-seeds.sh DIR
set -eu
out=$1
seed() {
	printf "%b" "$2" >"$out/seed-$1"
}
seed 1 'XFP1\0\0\0\4\0\0\0\0\0\1\2\3\4\5\6\7r1/big'
seed 2 'XFP1\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377a'
seed 3 'XFP1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0dir/sub/file.bin'
seed 4 'XFP1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0a\0b'
seed 5 'XFP0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0x'

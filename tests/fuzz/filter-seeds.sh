#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Seed corpus of fuzz_filter: rules, a NUL byte, paths (tests/fuzz/fuzz_filter.c).
# usage: filter-seeds.sh DIR
set -eu
out=$1
seed() {
	printf "%b" "$2" >"$out/seed-$1"
}
seed 1 '- *.o\n+ /a/b/c/keep.o\nexclude_core\n\0a/b/c/keep.o\na/x.o\ncore\n'
seed 2 '+ */\n+ *.c\n- *\n\0a/\na/b.c\na/b.h\n'
seed 3 '- **/cache/**\n- a/***\n- /dist/\n\0x/cache/y\na/\na/b/c\ndist/\n'
seed 4 '- [!a-f]*\n- [[:upper:]]*\n- br\\[a\\]ck/\\[x\\]\n\0Zed\nbr[a]ck/[x]\nb\n'
seed 5 '- ?\n- /a?b\n- a/**/foo\n- b/*.tmp\n\0a/b/c/foo\nx/b/y.tmp\naxb\nq\n'
seed 6 '# comment\n; comment\n\n+ keep\r\n*~\n-/ x\n\0keep\nfile~\n'

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Memory per file-list entry: the dev pair (config/dev, net_memif) pushes a tree of N empty
# files, and the script reports how much each side's resident set grew per entry.
#
#   perf/memory/rss-per-entry.sh [--files N] [--dirs D] [--build DIR] [--workdir DIR]
#
#   --files N    files in the tree (default 1000000)
#   --dirs D     directories they are spread over (default N / 1000)
#   --build DIR  build with control/xferd/xferd (default <repo>/build/release)
#   --workdir D  where the tree and volumes go (default /dev/shm; empty files, so the
#                space is inodes: about 1 KiB of kernel memory per file)
#
# Names are 14 to 20 bytes a component (dir-00042/file-0000123.dat), longer than a
# counter and shorter than most real trees' paths, so the figure is not flattered by short
# names. For each side: VmRSS once both are ready (the baseline: EAL, mempools, rings), and
# VmHWM (the peak resident set) after the push. per entry = (VmHWM - baseline) / entries,
# entries = files + directories. The baseline run next to it is the same pair pushing a
# tree of one file, so what grows with the pair alone is visible too.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
files=1000000
dirs=
build=$repo/build/release
workdir=/dev/shm
while [ $# -gt 0 ]; do
	case $1 in
	--files) files=$2; shift 2 ;;
	--dirs) dirs=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--workdir) workdir=$2; shift 2 ;;
	*) echo "rss-per-entry: unknown argument $1 (see the comment at the top of $0)" >&2; exit 2 ;;
	esac
done
dirs=${dirs:-$(((files + 999) / 1000))}
[ "$(id -u)" -eq 0 ] || { echo "rss-per-entry: needs root (EAL, memif)" >&2; exit 77; }
if [ ! -x "$build/control/xferd/xferd" ]; then
	[ -f "$build/build.ninja" ] || meson setup "$build" "$repo" --buildtype=release >/dev/null
	ninja -C "$build" >/dev/null
fi

export TMPDIR=$workdir PAIR_PUSH_TIMEOUT=1800 PAIR_LIFETIME=3600
# shellcheck source=../../tests/e2e/lib/pair.sh
. "$repo/tests/e2e/lib/pair.sh"
pair_init rss-per-entry "$build/control/xferd/xferd" "$build/control/xferctl/xferctl"

# make_tree DIR FILES DIRS: empty files spread evenly over DIRS directories.
make_tree() {
	python3 - "$@" <<-'EOF'
		import os, sys
		root, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
		os.makedirs(root)
		for k in range(d):
		    sub = os.path.join(root, "dir-%05d" % k)
		    os.mkdir(sub)
		    for j in range(k, n, d):
		        os.close(os.open(os.path.join(sub, "file-%07d.dat" % j), os.O_CREAT | os.O_WRONLY, 0o644))
	EOF
}

kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
# The daemon's pid: pair.sh's PAIR_PID_* is that of timeout(1), which runs it.
daemon() { pgrep -P "$1" -x xferd || pair_fail "no xferd under pid $1"; }

# measure LABEL SRC ENTRIES: one push into a fresh destination; prints a table row.
measure() {
	local label=$1 src=$2 entries=$3 a0 b0 a1 b1 t0 pa pb
	pair_start
	pa=$(daemon "$PAIR_PID_A") pb=$(daemon "$PAIR_PID_B")
	a0=$(kib "$pa" VmRSS) b0=$(kib "$pb" VmRSS)
	t0=$EPOCHREALTIME
	pair_push "$src" "$label" >/dev/null || pair_fail "push of $label failed"
	[ "$(pair_job_field files_failed)" = 0 ] || pair_fail "$label: files failed"
	a1=$(kib "$pa" VmHWM) b1=$(kib "$pb" VmHWM)
	pair_stop
	awk -v l="$label" -v n="$entries" -v a0="$a0" -v a1="$a1" -v b0="$b0" -v b1="$b1" \
		-v t0="$t0" -v t1="$EPOCHREALTIME" 'BEGIN {
		printf "%-10s %9d | %8.1f %8.1f %8.1f | %8.1f %8.1f %8.1f | %7.2f\n", l, n,
		    a0 / 1024, a1 / 1024, (a1 - a0) * 1024 / n, b0 / 1024, b1 / 1024, (b1 - b0) * 1024 / n,
		    t1 - t0 }'
	rm -rf "${PAIR_VOL_B:?}/$label"
}

echo "rss-per-entry: $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), build $build ($(meson introspect --buildoptions "$build" | python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))')), workdir $workdir"
echo "tree: $files empty files in $dirs directories (dir-NNNNN/file-NNNNNNN.dat)"
make_tree "$PAIR_DIR/one" 1 1
t0=$EPOCHREALTIME
make_tree "$PAIR_DIR/tree" "$files" "$dirs"
echo "tree made in $(pair_since "$t0") s"
printf '%-10s %9s | %8s %8s %8s | %8s %8s %8s | %7s\n' case entries "A MiB" "A peak" "A B/ent" \
	"B MiB" "B peak" "B B/ent" "push s"
measure one "$PAIR_DIR/one" 2
measure tree "$PAIR_DIR/tree" $((files + dirs))
echo "B/ent = (VmHWM after the push - VmRSS when ready) / entries; target: at most 256 on each side"
pair_pass >/dev/null

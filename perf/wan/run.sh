#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# WAN scenarios of issue 20 on virtual time (tests/unit/wansim/test_wansim_cc.c with
# XF_WANSIM_FULL=1: BBRv3 over the link model, 5 seeds each at full length; the unit test
# runs seed 1 of shorter ones), written up as a report: one row per scenario with the
# median and range over its seeds, Jain's index and the flows' rates where several share
# the link, the Mathis bound of a Reno flow on the same path beside it, and with gnuplot
# a goodput-over-time and a queue-delay plot of each scenario's first seed.
#
#   perf/wan/run.sh [--build DIR] [--out DIR] [--only TEXT]
#
#   --build DIR  build dir holding tests/unit/wansim/test_wansim_cc (default
#                <repo>/build/release; set up and built if absent)
#   --out DIR    where the report goes (default perf/out/wan-<date>)
#   --only TEXT  only the scenarios whose test name contains TEXT (XF_TEST_ONLY)
#
# Virtual time: the figures do not depend on the machine or its load, only on the code
# and the seeds; the CPU time each run took is in run.log.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build="$repo/build/release"
out="$repo/perf/out/wan-$(date -u +%Y%m%d-%H%M%S)"
only=""
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--out DIR] [--only TEXT]" >&2; exit 2 ;;
	esac
done

if [ ! -d "$build" ]; then
	meson setup "$build" "$repo" --buildtype=release
fi
ninja -C "$build" tests/unit/wansim/test_wansim_cc >/dev/null
mkdir -p "$out"
rm -f "$out/table.tsv" "$out/jain.tsv"

status=0
XF_WANSIM_FULL=1 XF_WANSIM_OUT="$out" XF_TEST_ONLY="$only" "$build/tests/unit/wansim/test_wansim_cc" \
	>"$out/run.log" 2>&1 || status=$?
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 "$here/report.py" "$out" "$commit" "$status"
echo "report: $out/REPORT.md (test exit status $status: 0 = every target asserted held)"

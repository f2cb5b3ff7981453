#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# perf/scale/run.sh's plan and report, without xferd, root or a build (meson test
# perf-scale-plan):
# - 2 CPUs: every point skipped and named, "figures: none"; a real run on 2 CPUs exits
#   77 before it builds or starts anything, and prints no rate;
# - 18 CPUs: all four points (1, 2, 4, 8 RX cores) measured, each with 2 x (N + 1)
#   distinct CPUs, A's and B's disjoint; 6 CPUs: 1 and 2 measured, 4 and 8 skipped;
# - the report: ratios to the one-core point and the target check (0.8 x N), a point of
#   fewer than 5 runs is no figure, and exit 3 when a point missed the target.
#
#   test-plan.sh [SCALE_DIR]
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")" && pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() {
	echo "test-plan.sh: FAIL: $*" >&2
	exit 1
}

# ---- the plan
"$dir/run.sh" --dry-plan --cpus 2 >"$T/p2" || fail "--dry-plan --cpus 2 exited $?"
grep -q '^# figures: none' "$T/p2" || fail "2 CPUs: no 'figures: none'"
! grep -q ' measure ' "$T/p2" || fail "2 CPUs: a point is planned: $(grep measure "$T/p2")"
grep -q '^# skipped: 1,2,4,8 cores' "$T/p2" || fail "2 CPUs: the skipped points are not named"
for n in 1 2 4 8; do
	grep -q "^# point $n skip need $((2 * (n + 1))) have 2\$" "$T/p2" || fail "2 CPUs: point $n"
done

# check_points FILE CPUS MEASURED...: the measured points, and each one's CPUs
check_points() {
	local f=$1 ncpu=$2 n line
	shift 2
	[ "$(grep -c ' measure ' "$f")" -eq $# ] || fail "$ncpu CPUs: $(grep -c ' measure ' "$f") points measured, not $#"
	for n in "$@"; do
		line=$(grep "^# point $n measure " "$f") || fail "$ncpu CPUs: point $n not measured"
		# "# point N measure need X a main M rx L b main M rx L"
		python3 - "$n" "$ncpu" "$line" <<'EOF' || fail "$ncpu CPUs: point $n has the wrong CPUs: $line"
import sys
n, ncpu, f = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split()
a = [int(f[8])] + [int(x) for x in f[10].split(",")]
b = [int(f[13])] + [int(x) for x in f[15].split(",")]
ok = (len(a) == n + 1 and len(b) == n + 1 and not set(a) & set(b)
      and len(set(a + b)) == 2 * (n + 1) and max(a + b) < ncpu)
sys.exit(0 if ok else 1)
EOF
	done
}
"$dir/run.sh" --dry-plan --cpus 18 >"$T/p18" || fail "--dry-plan --cpus 18 exited $?"
check_points "$T/p18" 18 1 2 4 8
grep -q '^# figures: 1,2,4,8 cores' "$T/p18" || fail "18 CPUs: not all four points"
! grep -q 'skip' "$T/p18" || fail "18 CPUs: a point skipped"
"$dir/run.sh" --dry-plan --cpus 6 >"$T/p6" || fail "--dry-plan --cpus 6 exited $?"
check_points "$T/p6" 6 1 2
grep -q '^# skipped: 4,8 cores' "$T/p6" || fail "6 CPUs: 4 and 8 not named as skipped"

# ---- a run with 2 CPUs (the first two this process may use): it plans, names what it
# skips, and exits 77 having built and measured nothing.
two=$(python3 -c 'import os; print(",".join(map(str, sorted(os.sched_getaffinity(0))[:2])))')
rc=0
"$dir/run.sh" --cpus "$two" --build "$T/no-build" --out "$T/out" >"$T/r2" 2>&1 || rc=$?
[ "$rc" -eq 77 ] || fail "a run on 2 CPUs exited $rc, not 77: $(cat "$T/r2")"
grep -q 'SKIP: no point fits' "$T/r2" || fail "a run on 2 CPUs did not say why it skipped"
! grep -q -i 'MB/s\|GB/s' "$T/r2" || fail "a run on 2 CPUs printed a rate: $(cat "$T/r2")"
if [ -e "$T/no-build" ] || [ -e "$T/out" ]; then fail "a run on 2 CPUs set up a build or wrote results"; fi

# ---- the report
rows() { # SET CORES RUNS MS: RUNS pushes of 10^9 bytes around MS ms
	local i
	for ((i = 1; i <= $3; i++)); do echo "$1 $2 $i $(($4 + (i % 3) - 1)) 1000000000"; done
}
{
	rows large 1 5 1000 # 1,000 MB/s
	rows large 2 5 600  # 1.67x: met (>= 1.6x)
	rows large 4 5 400  # 2.5x: missed (< 3.2x)
	rows mixed 1 5 2000
	rows mixed 2 4 1000 # 4 runs: no figure
} >"$T/rows.tsv"
rc=0
python3 "$dir/scale.py" report --tsv "$T/rows.tsv" --ceiling-gbps 16 >"$T/rep" || rc=$?
[ "$rc" -eq 3 ] || fail "report with a missed point exited $rc, not 3: $(cat "$T/rep")"
grep -q '^| large | 1 | 5 | 1000.0 | 1.00 | baseline |' "$T/rep" || fail "one-core baseline: $(cat "$T/rep")"
grep -q '^| large | 2 | 5 | 1666.7 | 1.67 | met (needs >= 1.6x) |' "$T/rep" || fail "2 cores: $(cat "$T/rep")"
grep -q '^| large | 4 | 5 | 2500.0 | 2.50 | MISSED (needs >= 3.2x) |' "$T/rep" || fail "4 cores: $(cat "$T/rep")"
grep -q '^| mixed | 2 | 4 | .* | - | not a figure (fewer than 5 runs) | - |$' "$T/rep" || fail "4 runs: $(cat "$T/rep")"
grep -v '^large 4 ' "$T/rows.tsv" >"$T/rows-ok.tsv"
python3 "$dir/scale.py" report --tsv "$T/rows-ok.tsv" >"$T/rep-ok" || fail "report with every point met exited $?"
: >"$T/empty.tsv"
python3 "$dir/scale.py" report --tsv "$T/empty.tsv" | grep -q 'no figure' || fail "empty report"
echo "test-plan.sh: ok"

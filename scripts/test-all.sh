#!/usr/bin/env bash
# The one command: install dependencies, check formatting, build (debug, release,
# ASan+UBSan, libFuzzer) and run every test tier. README.md calls this; .ci/run runs it in
# a fresh Debian 12 root (scripts/fresh-root.sh). With CI=true a skipped test fails the
# run unless tests/needs-hardware.txt lists it.
#
#   scripts/test-all.sh            everything (as root on a fresh Debian 12)
#   XF_QUICK=1 scripts/test-all.sh debug build and unit tests only
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=${XF_BUILD_ROOT:-$top/build}
fuzz_seconds=${XF_FUZZ_SECONDS:-20}

if [ "$(id -u)" -eq 0 ]; then
	scripts/install-deps.sh
fi

step() { printf '\n=== %s\n' "$*"; }

step "format (clang-format --dry-run --Werror)"
scripts/check-format.sh

setup() { # dir, extra meson args...
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

# A build that fails ends the run and shows why (its full output is in DIR/ninja.log).
build() { # dir
	if ! ninja -C "$1" >"$1/ninja.log" 2>&1; then
		echo "test-all: the build in $1 failed:" >&2
		grep -E -A3 'error|FAILED' "$1/ninja.log" | head -60 >&2
		exit 1
	fi
}

results=()
run_suites() { # dir, suites...
	local dir=$1
	shift
	local args=()
	for s in "$@"; do args+=(--suite "$s"); done
	# Each run its own log: two runs in one build dir (debug's tiers, then its package
	# suite) must not overwrite each other's results before the summary reads them.
	local base
	base="testlog-$(IFS=-; echo "$*")"
	local rc=0
	meson test -C "$dir" --print-errorlogs --num-processes 2 --logbase "$base" "${args[@]}" ||
		rc=$?
	results+=("$dir/meson-logs/$base.json")
	return $rc
}

status=0

step "debug build: unit, eal, e2e"
setup "$out/debug" --buildtype=debug
build "$out/debug"
if [ -n "${XF_QUICK:-}" ]; then
	run_suites "$out/debug" unit || status=1
else
	run_suites "$out/debug" unit eal e2e || status=1

	# NDEBUG takes other code paths (no assertions, no owner checks): run them too.
	step "release build (-O3 -DNDEBUG, warnings as errors): unit, e2e, perf-smoke"
	setup "$out/release" --buildtype=release -Dtests=true
	build "$out/release"
	run_suites "$out/release" unit e2e perf-smoke || status=1

	# It installs into this system: as root only (the CI's fresh root). About 2 minutes.
	if [ "$(id -u)" -eq 0 ]; then
		step "Debian package: dpkg-buildpackage, lintian, apt-get install, xferd --check, purge"
		XF_INSTALL_OK=1 run_suites "$out/debug" package || status=1
	fi

	step "ASan+UBSan build: unit, eal"
	setup "$out/asan" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
	build "$out/asan"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		run_suites "$out/asan" unit eal || status=1

	step "libFuzzer (clang): ${fuzz_seconds}s per harness"
	CC=clang setup "$out/fuzz" --buildtype=debug -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false
	build "$out/fuzz"
	XF_FUZZ_SECONDS=$fuzz_seconds run_suites "$out/fuzz" fuzz || status=1
fi

step "summary"
python3 scripts/test-summary.py "${results[@]}" || status=1
exit $status

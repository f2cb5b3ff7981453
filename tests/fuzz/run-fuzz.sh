#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run a libFuzzer harness for $XF_FUZZ_SECONDS (default 20) seconds over a fresh seed
# corpus written by a generator. Crash reproducers land in $XF_FUZZ_ARTIFACTS (default:
# the current directory) so that a failure in CI leaves its input behind.
# usage: run-fuzz.sh FUZZER SEED-GENERATOR
set -eu
fuzzer=$1
gen=$2
secs=${XF_FUZZ_SECONDS:-20}
artifacts=${XF_FUZZ_ARTIFACTS:-$(pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/seeds"
"$gen" "$work/seeds"
# UB is a failure too, not a log line.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS
# libFuzzer exits 77 on a crash by default, which meson would read as a skip.
"$fuzzer" -max_total_time="$secs" -max_len=9100 -timeout=10 -print_final_stats=1 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-artifact_prefix="$artifacts/$(basename "$fuzzer")-" "$work/corpus" "$work/seeds"

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Seed corpus of fuzz_config: every config in config/ and the broken-config corpus of
# the unit tests, plus a few --set lines (the harness reads the first line as one).
# usage: config-seeds.sh DIR
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
n=0
for f in "$root"/config/*.yaml "$root"/config/*/*.yaml "$root"/tests/unit/config/bad/*.yaml; do
	n=$((n + 1))
	cp "$f" "$out/seed-$n.yaml"
done
printf 'ports[0].mtu=9000\n' >"$out/set-1"
printf 'cores.workers=[2,3]\n' >"$out/set-2"
printf "peers[1]={name: c, ipv4: 10.0.0.3}\n" >"$out/set-3"
printf 'volumes[0].fsync=batch\n' >"$out/set-4"

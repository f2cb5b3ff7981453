#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Per-operation storage figures on tmpfs, on XFS (a loop device over a RAM-backed image,
# tests/e2e/lib/xfs.sh) and in /var/tmp (the machine's disk), one xf-bench-storage-ops
# run over the three:
#   perf/storage/run.sh [--build DIR] [bench options: --runs N --files N --batch B ...]
# Needs root for the XFS mount (losetup, mkfs.xfs, mount: scripts/install-deps.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build/release
if [ "${1:-}" = --build ]; then
	build=$2
	shift 2
fi
bench=$build/perf/storage/xf-bench-storage-ops
[ -x "$bench" ] || { echo "run.sh: no $bench (ninja -C $build)" >&2; exit 1; }
. "$repo/tests/e2e/lib/xfs.sh"
t=$(mktemp -d /tmp/xf-storage-ops.XXXXXX)
shm=$(mktemp -d /dev/shm/xf-storage-ops.XXXXXX)
disk=$(mktemp -d /var/tmp/xf-storage-ops.XXXXXX)
trap 'xfs_cleanup; rm -rf "$t" "$shm" "$disk"' EXIT
xfs_mount "$t/xfs" 4096
echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
"$bench" --dir "$shm" --dir "$t/xfs" --dir "$disk" "$@"

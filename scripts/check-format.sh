#!/usr/bin/env bash
# Fail if any tracked C file differs from .clang-format (docs/STYLE.md, section 9).
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r f; do
	[ -f "$f" ] || continue
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "check-format: $f is not formatted (clang-format -i $f)" >&2
		bad=1
	fi
done < <(git ls-files '*.c' '*.h')
exit $bad

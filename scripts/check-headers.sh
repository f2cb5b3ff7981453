#!/usr/bin/env bash
# Every public header compiles on its own (docs/STYLE.md, section 10): include each
# xf_*.h alone in an empty translation unit with the project's flags.
set -euo pipefail
cd "$(dirname "$0")/.."
cc=${CC:-cc}
incs=()
for d in dataplane/* drivers/* control/*; do
	[ -d "$d" ] && incs+=("-I$d")
done
# shellcheck disable=SC2207
dpdk=($(pkg-config --cflags libdpdk jansson))
bad=0
n=0
while IFS= read -r h; do
	n=$((n + 1))
	if ! printf '#include "%s"\n' "$(basename "$h")" |
		"$cc" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Werror -fsyntax-only \
			"${incs[@]}" "${dpdk[@]}" -x c - 2>/tmp/check-headers.$$; then
		echo "check-headers: $h does not compile on its own:" >&2
		head -5 /tmp/check-headers.$$ >&2
		bad=1
	fi
done < <(git ls-files 'dataplane/*/xf_*.h' 'drivers/*/xf_*.h' 'control/*/xf_*.h' | grep -v '_priv\.h$')
rm -f /tmp/check-headers.$$
echo "check-headers: $n public headers"
exit $bad

#!/bin/sh
# The man pages in docs/man are what scripts/gen-man.py makes now from `xferd --help`,
# `xferctl --help` and docs/CONFIG.md (whose key table unit-config keeps equal to the
# schema), and groff formats each without a warning.
# Usage: man_test.sh SRCDIR XFERD XFERCTL VERSION
set -eu
src=$1 xferd=$2 xferctl=$3 version=$4

python3 "$src/scripts/gen-man.py" --check --xferd "$xferd" --xferctl "$xferctl" \
	--version "$version" "$src"
for page in "$src"/docs/man/xferd.8 "$src"/docs/man/xferctl.8 "$src"/docs/man/xferd.yaml.5; do
	# -ww: every warning; -z: format, print nothing. Any output is a fault of the page.
	warnings=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$page" 2>&1)
	if [ -n "$warnings" ]; then
		echo "FAIL: $page: groff warns:" >&2
		echo "$warnings" >&2
		exit 1
	fi
	# What `man` shows: the NAME section and a non-trivial body.
	lines=$(MANWIDTH=80 man -l "$page" 2>/dev/null | wc -l)
	if [ "$lines" -lt 30 ]; then
		echo "FAIL: man -l $page shows $lines lines" >&2
		exit 1
	fi
done
echo "man pages: in sync, no groff warnings"

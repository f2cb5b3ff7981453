#!/usr/bin/env bash
# perf-smoke-floor: xf-bench-floor copies a small tree with every kind it lists (nested
# and empty directories, files of 0 B to 1 MiB, a set-id mode, symlinks, a name with a
# space), then again with --delta over the copy (the bases' signatures taken as cached,
# then read with --read-basis), and rsync finds nothing to change
# (contents, modes, mtimes of files, directories and symlinks): the floor does the whole
# job it claims the cost of.
set -euo pipefail
floor=${1:?usage: smoke.sh XF-BENCH-FLOOR}
T=$(mktemp -d "${TMPDIR:-/tmp}/xf-floor-smoke.XXXXXX")
trap 'rm -rf "$T"' EXIT
s=$T/src
mkdir -p "$s/a/b/c" "$s/empty/inner" "$s/d"
printf 'x' >"$s/one"
: >"$s/a/zero"
head -c 1048576 /dev/urandom >"$s/a/b/big"
head -c 5000 /dev/urandom >"$s/a/b/c/mid file"
cp "$s/one" "$s/d/setgid" && chmod 2755 "$s/d/setgid"
chmod 0700 "$s/d"
ln -s ../one "$s/a/up"
ln -s "does not exist" "$s/d/dangling"
touch -h -d '2020-01-02 03:04:05' "$s/a/up" "$s/a/b/big" "$s/a/b" "$s/empty/inner"

check() {
	local out
	out=$(rsync -a -n -i --checksum "$s/" "$T/dst/")
	if [ -n "$out" ]; then
		echo "perf-smoke-floor: $1: the copy differs from the source:" >&2
		echo "$out" >&2
		exit 1
	fi
}
out=$("$floor" "$s" "$T/dst")
case $out in
*"FLOOR files=7 "*) ;; # 5 regular files and 2 symlinks
*) echo "perf-smoke-floor: expected a FLOOR line with files=7, got:" >&2; echo "$out" >&2; exit 1 ;;
esac
check "first copy"
printf 'y' >>"$s/a/b/c/mid file"
out=$("$floor" --delta "$s" "$T/dst")
case $out in
*"bytes with cached signatures (read untimed)"*) ;;
*) echo "perf-smoke-floor: --delta did not take the bases' signatures as cached:" >&2; echo "$out" >&2; exit 1 ;;
esac
check "--delta over the copy"
printf 'z' >>"$s/a/b/big"
out=$("$floor" --delta --read-basis "$s" "$T/dst")
case $out in
*" bytes read; "*) ;;
*) echo "perf-smoke-floor: --delta --read-basis did not read the bases:" >&2; echo "$out" >&2; exit 1 ;;
esac
check "--delta --read-basis over the copy"
rc=0
"$floor" --read-basis "$s" "$T/dst" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || { echo "perf-smoke-floor: --read-basis without --delta: exit $rc, not 2" >&2; exit 1; }
echo "perf-smoke-floor: ok"

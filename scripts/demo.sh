#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The newcomer's demo: two xferd appliances on this machine (config/dev/a.yaml and
# b.yaml, joined by net_memif, no NIC and no hugepages needed) push a sample tree from A
# to B; the copy is then checked independently with rsync and diff.
#
#   scripts/demo.sh                    as root on a fresh Debian 12: install, build, run
#   scripts/demo.sh --no-install       skip scripts/install-deps.sh (automatic when not root)
#   scripts/demo.sh --prebuilt DIR     use DIR's xferd and xferctl instead of building
#
# It builds a release build in build/demo (only the two programs), runs both appliances
# with every path in a fresh temp dir (removed at the end), and exits 0 when the copy is
# identical and both appliances stopped cleanly.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
install=1
prebuilt=
while [ $# -gt 0 ]; do
	case $1 in
	--no-install) install=0 ;;
	--prebuilt)
		prebuilt=${2:?--prebuilt needs a build directory}
		shift
		;;
	-h | --help)
		sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "demo: unknown argument '$1' (try --help)" >&2
		exit 2
		;;
	esac
	shift
done

step() { printf '\n=== %s\n' "$*"; }

# 1. Dependencies (Debian 12 packages; quiet when everything is there).
if [ "$install" -eq 1 ] && [ "$(id -u)" -eq 0 ]; then
	step "installing dependencies (scripts/install-deps.sh)"
	"$top/scripts/install-deps.sh"
else
	step "dependencies: skipping scripts/install-deps.sh ($([ "$install" -eq 0 ] && echo --no-install || echo not root))"
fi

# 2. Build (release), or use a build that exists.
if [ -n "$prebuilt" ]; then
	bdir=$(cd "$prebuilt" && pwd)
	step "using the build in $bdir"
else
	bdir=$top/build/demo
	step "building xferd and xferctl (release, $bdir)"
	if [ ! -f "$bdir/build.ninja" ]; then
		meson setup "$bdir" "$top" --buildtype=release -Dtests=false >/dev/null
	fi
	ninja -C "$bdir" -j "$(nproc)" control/xferd/xferd control/xferctl/xferctl >/dev/null
fi
xferd=$bdir/control/xferd/xferd
xferctl=$bdir/control/xferctl/xferctl

# 3. Two appliances, every path in a temp dir (tests/e2e/lib/pair.sh does the work and
# cleans up whatever happens).
# shellcheck source=tests/e2e/lib/pair.sh
. "$top/tests/e2e/lib/pair.sh"
pair_init demo "$xferd" "$xferctl"
step "starting appliances A and B (config/dev, memif, in $PAIR_DIR)"
pair_start
pair_ctl a status
pair_ctl b status

# 4. A sample tree: a few hundred files in nested directories, a symlink, an empty dir.
src=$PAIR_DIR/sample
step "generating a sample tree in $src"
python3 "$top/tests/e2e/lib/mktree.py" many "$src/data" --files 300 --dirs 24 \
	--max-size 20000 --seed 42 >/dev/null
printf 'Hello from appliance A.\n' >"$src/README.txt"
ln -s data/d000 "$src/latest"
mkdir "$src/empty-dir"
echo "$(find "$src" -type f | wc -l) files, $(find "$src" -type d | wc -l) directories," \
	"$(find "$src" -type l | wc -l) symlink, $(du -sh --apparent-size "$src" | cut -f1)B"

# 5. Push it from A to B (progress line on a terminal, then a summary).
step "xferctl -s A push $src b:demo --wait"
pair_ctl a push "$src" b:demo --wait || pair_fail "the push failed (exit $?)"

# 6. Check the copy without xferd: rsync lists nothing to do, diff finds no difference.
dst=$PAIR_VOL_B/demo
step "verifying: rsync -a -n -i --checksum $src/ $dst/"
out=$(rsync -a -n -i --checksum "$src/" "$dst/")
if [ -n "$out" ]; then
	echo "$out"
	pair_fail "rsync found differences"
fi
echo "(no output: contents, modes, mtimes and the symlink are identical)"
step "verifying: diff -r $src $dst"
diff -r "$src" "$dst" || pair_fail "diff found differences"
echo "(no differences)"
pair_verify "$src" "$dst"

# 7. Stop both appliances; each must exit 0.
step "stopping A and B (xferctl shutdown)"
pair_stop
echo "both appliances stopped cleanly"
step "demo: OK"
pair_pass 2>/dev/null

#!/usr/bin/env bash
# Build the Debian package of this tree (debian/: debhelper 13, meson) with
# dpkg-buildpackage -b, offline, in a temp copy of the tracked files (the tree itself gets
# no build directory or debian/ droppings), check it with lintian (no error allowed), and
# put the .deb in OUTDIR.
#
#   scripts/build-deb.sh OUTDIR
#
# Needs the build dependencies of debian/control (scripts/install-deps.sh installs them),
# dpkg-dev, debhelper and lintian. Exit 0 with OUTDIR/xferd_VERSION_amd64.deb, 1 if the
# build fails or lintian reports an error.
set -euo pipefail
out=${1:?usage: build-deb.sh OUTDIR}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xferd-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Tracked and new (not ignored) files, as they are in the work tree.
mkdir "$tmp/xferd"
git -C "$src" ls-files -z --cached --others --exclude-standard |
	(cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$tmp/xferd"
cd "$tmp/xferd"
dpkg-checkbuilddeps
t0=$SECONDS
# -b: binary only; -us -uc: unsigned. Parallel as the machine allows.
DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -b -us -uc >"$tmp/build.log" 2>&1 || {
	tail -n 60 "$tmp/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed" >&2
	exit 1
}
echo "build-deb: dpkg-buildpackage took $((SECONDS - t0))s"
cd "$tmp"
# Errors fail the build; warnings and informational tags are printed for a reader.
lintian --fail-on error --tag-display-limit 0 xferd_*.changes || {
	echo "build-deb: lintian reports errors" >&2
	exit 1
}
cp xferd_*.deb "$out/"
ls "$out"/xferd_*.deb

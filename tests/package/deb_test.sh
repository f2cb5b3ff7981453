#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Debian package, as an operator meets it: built from this tree with
# dpkg-buildpackage -b, offline (scripts/build-deb.sh; lintian reports no error), installed
# with `apt-get install ./xferd_*.deb` (dependencies from Debian), then:
#   - xferd, xferctl, the example /etc/xferd/xferd.yaml (a conffile), both units and
#     /var/lib/xferd are in place;
#   - `xferd --check` accepts the installed example as it is;
#   - `man` shows xferd(8), xferctl(8) and xferd.yaml(5);
#   - systemd-analyze verify accepts the installed units;
# and `apt-get purge` removes every file it installed.
# It installs into this system, so it runs only as root, with XF_INSTALL_OK=1, on a
# machine without xferd installed: the CI's fresh root (scripts/test-all.sh runs the
# suite 'package' there).
#
#   deb_test.sh SRCDIR
set -euo pipefail
src=${1:?usage: deb_test.sh SRCDIR}
fail() {
	echo "package-deb: FAIL: $*" >&2
	exit 1
}
# Opt-in, so that `meson test` on a developer's machine never installs anything.
[ "${XF_INSTALL_OK:-}" = 1 ] || {
	echo "package-deb: SKIP: installs into this system: set XF_INSTALL_OK=1 (test-all.sh does, as root)" >&2
	exit 77
}
[ "$(id -u)" -eq 0 ] || {
	echo "package-deb: SKIP: installs a package: needs root" >&2
	exit 77
}
if dpkg-query -W -f='${Status}' xferd 2>/dev/null | grep -q 'ok installed'; then
	fail "xferd is installed on this machine already; this test would replace and purge it"
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xfdeb.XXXXXX")
installed=0
cleanup() {
	local rc=$?
	# A failure half way must not leave the package behind.
	[ "$installed" -eq 0 ] || apt-get purge -y -qq xferd >/dev/null 2>&1 || true
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT

t0=$SECONDS
"$src/scripts/build-deb.sh" "$tmp" || fail "the package did not build (or lintian found errors)"
deb=$(echo "$tmp"/xferd_*_amd64.deb)
[ -f "$deb" ] || fail "no xferd_*_amd64.deb in $tmp"
echo "package-deb: built and checked in $((SECONDS - t0))s: ${deb##*/}"

t0=$SECONDS
export DEBIAN_FRONTEND=noninteractive
installed=1
(cd "$tmp" && apt-get install -y -qq "./${deb##*/}") >"$tmp/install.log" 2>&1 || {
	cat "$tmp/install.log" >&2
	fail "apt-get install ./${deb##*/} failed"
}
for f in /usr/bin/xferd /usr/bin/xferctl /etc/xferd/xferd.yaml \
	/lib/systemd/system/xferd.service /lib/systemd/system/xferd@.service; do
	[ -f "$f" ] || fail "$f is not installed"
done
[ -d /var/lib/xferd ] || fail "/var/lib/xferd is not installed"
dpkg-query -W -f='${Conffiles}\n' xferd | grep -q '^ /etc/xferd/xferd.yaml ' ||
	fail "/etc/xferd/xferd.yaml is not a conffile"

/usr/bin/xferd --check -c /etc/xferd/xferd.yaml || fail "xferd --check rejects the installed example"
/usr/bin/xferctl --help >/dev/null || fail "xferctl --help failed"
for page in xferd xferctl xferd.yaml; do
	text=$(MANWIDTH=80 man -P cat "$page" 2>&1) || fail "man $page: $text"
	grep -q '^NAME' <<<"$text" || fail "man $page shows no NAME section"
done
out=$(cd "$tmp" && systemd-analyze verify --man=no /lib/systemd/system/xferd.service \
	xferd@dev.service 2>&1) || fail "systemd-analyze verify on the installed units: $out"
[ -z "$out" ] || fail "systemd-analyze verify warns on the installed units: $out"
# Starting the unit needs systemd as PID 1; the CI's root is a chroot without an init.
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ]; then
	echo "package-deb: note: systemd runs here, but the example configuration names no" \
		"real NIC, so the unit is not started"
else
	echo "package-deb: note: 'systemctl start xferd' not tried: PID 1 is" \
		"$(cat /proc/1/comm 2>/dev/null || echo unknown), not systemd (a chroot)"
fi

files=$(dpkg-query -L xferd | grep -v '^/\.$')
apt-get purge -y -qq xferd >"$tmp/purge.log" 2>&1 || {
	cat "$tmp/purge.log" >&2
	fail "apt-get purge xferd failed"
}
installed=0
if dpkg-query -W -f='${Status}' xferd 2>/dev/null | grep -q 'ok installed'; then
	fail "xferd still installed after purge"
fi
left=()
while IFS= read -r f; do
	# Shared directories (/usr/bin, /etc, ...) stay; anything of xferd's must not.
	case $f in *xferd*) [ ! -e "$f" ] || left+=("$f") ;; esac
done <<<"$files"
[ ${#left[@]} -eq 0 ] || fail "left after purge: ${left[*]}"
echo "package-deb: installed, checked and purged in $((SECONDS - t0))s"
echo "package-deb: PASS"

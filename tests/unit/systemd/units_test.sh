#!/bin/sh
# systemd-analyze verify accepts the units meson builds (dist/systemd): xferd.service and
# an instance of xferd@.service, with no warning at all. It needs no running systemd (the
# CI's fresh root has none), only the package systemd. verify also checks that each
# Exec*= program exists: the installed path of xferd is replaced by this build's.
# Usage: units_test.sh UNITDIR BINDIR XFERD
set -eu
units=$1 bindir=$2 xferd=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xfunits.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for u in xferd.service xferd@.service; do
	sed "s|$bindir/xferd |$xferd |" "$units/$u" >"$tmp/$u"
	grep -q "^ExecStart=$xferd -c " "$tmp/$u" || {
		echo "FAIL: $u: no ExecStart=$bindir/xferd -c ..." >&2
		exit 1
	}
done
# The settings the unit is for (docs/OPERATIONS.md, "Under systemd").
for want in '^Type=notify$' '^ExecReload=.* --check -c ' '^ExecReload=/bin/kill -HUP \$MAINPID$' \
	'^Restart=on-failure$' '^LimitMEMLOCK=infinity$' '^CapabilityBoundingSet=' \
	'^ProtectSystem=strict$' '^ReadWritePaths=/var/lib/xferd$'; do
	grep -q "$want" "$tmp/xferd.service" || {
		echo "FAIL: xferd.service has no line matching $want" >&2
		exit 1
	}
done
grep -q '^ExecStart=.* -c /etc/xferd/%i.yaml$' "$tmp/xferd@.service" || {
	echo "FAIL: xferd@.service does not run /etc/xferd/%i.yaml" >&2
	exit 1
}
cd "$tmp"
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$tmp/xferd.service" \
	"$tmp/xferd@dev-a.service" 2>&1) || {
	echo "FAIL: systemd-analyze verify:" >&2
	echo "$out" >&2
	exit 1
}
if [ -n "$out" ]; then
	echo "FAIL: systemd-analyze verify warns:" >&2
	echo "$out" >&2
	exit 1
fi
echo "units: systemd-analyze verify passes, no warning"
